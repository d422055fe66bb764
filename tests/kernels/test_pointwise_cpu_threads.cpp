// The CPU dropout, SpatialDropout1D and embedding loops on the thread pool: at 2 and 3 threads
// they give the single-threaded bits exactly (every element, or every embedding row, is
// computed by one part in one fixed order), in place and with inf/NaN inputs at dropped
// positions. Sizes are picked so that the loops really split: each is several times the
// 32K-element grain under which they stay on one thread. Shapes: dropout [N], spatial
// [B,T,C], embedding ids [B,T] into a [V,D] table with one id far more common than the rest.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "tests/support/test_util.h"

using namespace ember;
namespace et = ember::test;

namespace {

struct ThreadsGuard {
  int threads = par::num_threads();
  ~ThreadsGuard() { par::set_num_threads(threads); }
};

// x with an inf, a -inf and a NaN sprinkled in (a dropped one must come out 0 at any split).
Tensor input_with_specials(const Shape& s, uint64_t seed) {
  Tensor x = et::random_uniform(s, DType::kFloat32, -2, 2, seed);
  float* p = x.data<float>();
  const int64_t n = x.numel();
  for (int64_t i = 0; i < n; i += 997) {
    const int64_t k = (i / 997) % 3;
    p[i] = k == 0   ? std::numeric_limits<float>::infinity()
           : k == 1 ? -std::numeric_limits<float>::infinity()
                    : std::numeric_limits<float>::quiet_NaN();
  }
  return x;
}

struct DropoutRun {
  Tensor y, y_in_place, d_x, s_y, s_d_x;
};

constexpr int64_t kN = 120001;                // dropout elements
constexpr int64_t kB = 5, kT = 503, kC = 53;  // spatial [B,T,C]
constexpr uint64_t kSeed = 41, kBase = 7;

DropoutRun run_dropout(double rate) {
  const uint64_t offset = dropout_offset(2, 3, 0);
  DropoutRun r;
  const Tensor x = input_with_specials({kN}, 1);
  r.y = Tensor::empty({kN}, DType::kFloat32);
  ref::dropout_forward<float>(x.data<float>(), r.y.data<float>(), kN, rate, kSeed, offset, kBase);
  r.y_in_place = x.clone();
  ref::dropout_forward<float>(r.y_in_place.data<float>(), r.y_in_place.data<float>(), kN, rate,
                              kSeed, offset, kBase);
  const Tensor d_y = input_with_specials({kN}, 2);
  r.d_x = et::random_uniform({kN}, DType::kFloat32, -1, 1, 3);
  ref::dropout_backward<float>(d_y.data<float>(), r.d_x.data<float>(), kN, rate, kSeed, offset,
                               kBase);

  const Tensor xs = input_with_specials({kB, kT, kC}, 4);
  r.s_y = xs.clone();  // in place
  ref::spatial_dropout1d_forward<float>(r.s_y.data<float>(), r.s_y.data<float>(), kB, kT, kC, rate,
                                        kSeed, offset, kBase);
  const Tensor d_ys = input_with_specials({kB, kT, kC}, 5);
  r.s_d_x = et::random_uniform({kB, kT, kC}, DType::kFloat32, -1, 1, 6);
  ref::spatial_dropout1d_backward<float>(d_ys.data<float>(), r.s_d_x.data<float>(), kB, kT, kC,
                                         rate, kSeed, offset, kBase);
  return r;
}

struct EmbeddingRun {
  Tensor out, d_weight;
};

constexpr int64_t kEb = 9, kEt = 241, kV = 301, kD = 67;

EmbeddingRun run_embedding() {
  // Id 5 at a third of the positions, the rest spread over [0, V): one part's id range holds
  // far more positions than the others, and id 0 (padding) occurs too.
  Tensor ids = et::random_ints({kEb, kEt}, 0, kV, 7);
  int32_t* id = ids.data<int32_t>();
  for (int64_t i = 0; i < kEb * kEt; i += 3) id[i] = 5;
  const Tensor w = et::random_uniform({kV, kD}, DType::kFloat32, -1, 1, 8);
  const Tensor d_out = et::random_uniform({kEb, kEt, kD}, DType::kFloat32, -1, 1, 9);
  EmbeddingRun r;
  r.out = Tensor::empty({kEb, kEt, kD}, DType::kFloat32);
  ref::embedding_forward<float>(w.data<float>(), id, r.out.data<float>(), kEb, kEt, kV, kD);
  r.d_weight = et::random_uniform({kV, kD}, DType::kFloat32, -1, 1, 10);  // accumulated into
  ref::embedding_backward<float>(d_out.data<float>(), id, r.d_weight.data<float>(), kEb, kEt, kV,
                                 kD);
  return r;
}

}  // namespace

TEST_CASE("dropout and SpatialDropout1D give the same bits on any thread count",
          "[dropout][threads]") {
  const ThreadsGuard guard;
  for (const double rate : {0.0, 0.3, 1.0}) {
    par::set_num_threads(1);
    const DropoutRun want = run_dropout(rate);
    for (const int threads : {2, 3}) {
      INFO("rate " << rate << ", " << threads << " threads");
      par::set_num_threads(threads);
      const DropoutRun got = run_dropout(rate);
      CHECK(et::same_bytes(got.y, want.y));
      CHECK(et::same_bytes(got.y_in_place, want.y));
      CHECK(et::same_bytes(got.d_x, want.d_x));
      CHECK(et::same_bytes(got.s_y, want.s_y));
      CHECK(et::same_bytes(got.s_d_x, want.s_d_x));
    }
    // A dropped inf/NaN is 0, never NaN.
    if (rate == 1.0) {
      for (int64_t i = 0; i < kN; ++i) REQUIRE(want.y.data<float>()[i] == 0.0f);
      for (int64_t i = 0; i < kB * kT * kC; ++i) REQUIRE(want.s_y.data<float>()[i] == 0.0f);
    }
  }
}

TEST_CASE("embedding forward and backward give the same bits on any thread count",
          "[embedding][threads]") {
  const ThreadsGuard guard;
  par::set_num_threads(1);
  const EmbeddingRun want = run_embedding();
  for (const int threads : {2, 3}) {
    INFO(threads << " threads");
    par::set_num_threads(threads);
    const EmbeddingRun got = run_embedding();
    CHECK(et::same_bytes(got.out, want.out));
    CHECK(et::same_bytes(got.d_weight, want.d_weight));
  }
}
