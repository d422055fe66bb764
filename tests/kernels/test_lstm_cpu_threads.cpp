// The CPU LSTM (ref::lstm_forward / lstm_backward) across thread counts and instruction sets:
// batch slices on 2 and 3 threads give the single-threaded outputs, saved state and gradients
// to float rounding (the gate loops are element-wise, but OpenBLAS's summation order for one
// element of a product can change with the number of rows in the call: its Haswell kernel,
// which CTest pins, does; and d_bias's double partial sums are combined per slice); a rerun at
// the same thread count gives the same bits; every ISA's
// gate loops (engine/core/cpu_isa.h) agree with the generic ones to float rounding while
// reproducing themselves exactly. Shapes [B,T,C] to H units, at awkward sizes: B=1, T=1,
// odd sizes, a batch that does not split evenly, masks with fully padded rows, dropouts.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/cpu_isa.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_gates_cpu.h"
#include "tests/support/test_util.h"

using namespace ember;
namespace et = ember::test;

namespace {

// Restores the suite's thread count and ISA (tests/CMakeLists.txt pins 1 and generic).
struct CpuSettingsGuard {
  int threads = par::num_threads();
  CpuIsa isa = cpu_isa();
  ~CpuSettingsGuard() {
    par::set_num_threads(threads);
    set_cpu_isa(isa);
  }
};

struct Case {
  int64_t b, t, c, h;
  bool seq = false, back = false, masked = false;
  double drop = 0.0, rdrop = 0.0;
};

std::string str(const Case& k) {
  return "B=" + std::to_string(k.b) + " T=" + std::to_string(k.t) + " C=" + std::to_string(k.c) +
         " H=" + std::to_string(k.h) + (k.seq ? " seq" : "") + (k.back ? " back" : "") +
         (k.masked ? " masked" : "") + " drop=" + std::to_string(k.drop) +
         " rdrop=" + std::to_string(k.rdrop);
}

// Everything one forward + backward produces.
struct Run {
  Tensor out, gates, c, h_prev, d_x, d_kernel, d_rec, d_bias;
};

Run run_lstm(const Case& k) {
  LstmConfig cfg{k.b, k.t, k.c, k.h};
  cfg.return_sequences = k.seq;
  cfg.go_backwards = k.back;
  cfg.dropout = k.drop;
  cfg.recurrent_dropout = k.rdrop;
  cfg.seed = 99;
  cfg.offset = dropout_offset(3, 1, 0);
  const int64_t ng = 4 * k.h;
  const Tensor x = et::random_uniform({k.b, k.t, k.c}, DType::kFloat32, -1, 1, 1);
  const Tensor w = et::random_uniform({k.c, ng}, DType::kFloat32, -0.6, 0.6, 2);
  const Tensor r = et::random_uniform({k.h, ng}, DType::kFloat32, -0.5, 0.5, 3);
  const Tensor bias = et::random_uniform({ng}, DType::kFloat32, -0.3, 0.3, 4);
  // Row b keeps 1 + (3b + 1) % T steps at its end; with B > 2 the last row is all padding.
  Tensor mask = Tensor::zeros({k.b, k.t}, DType::kUInt8);
  for (int64_t b = 0; b < k.b; ++b) {
    const int64_t real = (k.b > 2 && b == k.b - 1) ? 0 : 1 + (3 * b + 1) % k.t;
    for (int64_t t = k.t - real; t < k.t; ++t) mask.data<uint8_t>()[b * k.t + t] = 1;
  }
  const uint8_t* m = k.masked ? mask.data<uint8_t>() : nullptr;

  Run run;
  run.out = Tensor::empty(k.seq ? Shape{k.b, k.t, k.h} : Shape{k.b, k.h}, DType::kFloat32);
  LstmSaved saved;
  ref::lstm_forward<float>(cfg, x.data<float>(), w.data<float>(), r.data<float>(),
                           bias.data<float>(), m, run.out.data<float>(), &saved);
  run.gates = saved.gates;
  run.c = saved.c;
  run.h_prev = saved.h_prev;
  const Tensor d_out = et::random_uniform(run.out.shape(), DType::kFloat32, -1, 1, 5);
  run.d_x = Tensor::zeros(x.shape(), DType::kFloat32);
  run.d_kernel = Tensor::zeros(w.shape(), DType::kFloat32);
  run.d_rec = Tensor::zeros(r.shape(), DType::kFloat32);
  run.d_bias = Tensor::zeros(bias.shape(), DType::kFloat32);
  ref::lstm_backward<float>(cfg, x.data<float>(), w.data<float>(), r.data<float>(), m, saved,
                            d_out.data<float>(), run.d_x.data<float>(), run.d_kernel.data<float>(),
                            run.d_rec.data<float>(), run.d_bias.data<float>());
  return run;
}

// Saved gates at masked steps are unspecified (lstm.h), so they are compared unmasked only.
void check_forward_bits(const Run& got, const Run& want, bool masked) {
  CHECK(et::same_bytes(got.out, want.out));
  if (!masked) CHECK(et::same_bytes(got.gates, want.gates));
  CHECK(et::same_bytes(got.c, want.c));
  CHECK(et::same_bytes(got.h_prev, want.h_prev));
}

void check_same_bits(const Run& got, const Run& want, bool masked) {
  check_forward_bits(got, want, masked);
  CHECK(et::same_bytes(got.d_x, want.d_x));
  CHECK(et::same_bytes(got.d_kernel, want.d_kernel));
  CHECK(et::same_bytes(got.d_rec, want.d_rec));
  CHECK(et::same_bytes(got.d_bias, want.d_bias));
}

// The float32 row of the tolerance table, widened as the LSTM tests widen it for small shapes
// (tests/support/lstm_test_util.h): every gradient sums over the recurrence.
et::Tolerance lstm_tol32() {
  const et::Tolerance t = et::tolerance(DType::kFloat32);
  return {50 * t.atol, 50 * t.rtol};
}

void check_close(const Run& got, const Run& want) {
  EMBER_EXPECT_CLOSE(got.out, want.out, lstm_tol32());
  EMBER_EXPECT_CLOSE(got.c, want.c, lstm_tol32());
  EMBER_EXPECT_CLOSE(got.h_prev, want.h_prev, lstm_tol32());
  EMBER_EXPECT_CLOSE(got.d_x, want.d_x, lstm_tol32());
  EMBER_EXPECT_CLOSE(got.d_kernel, want.d_kernel, lstm_tol32());
  EMBER_EXPECT_CLOSE(got.d_rec, want.d_rec, lstm_tol32());
  EMBER_EXPECT_CLOSE(got.d_bias, want.d_bias, lstm_tol32());
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {1, 1, 3, 5},
      {1, 6, 4, 7, true, false, true, 0.2, 0.3},
      {2, 1, 5, 3, true},
      {7, 9, 5, 11, true, true, true, 0.25, 0.0},
      {7, 9, 5, 11, false, false, true, 0.0, 0.4},
      {13, 5, 6, 9, true, false, false, 0.1, 0.1},
      // Big enough that blas::gemm splits the projection and weight-gradient products too.
      {40, 24, 16, 75, true, false, true, 0.2, 0.0},
  };
  return all;
}

}  // namespace

TEST_CASE("the threaded CPU LSTM matches the single-threaded one and reproduces itself",
          "[lstm][cpu][threads]") {
  CpuSettingsGuard guard;
  for (CpuIsa isa : supported_cpu_isas()) {
    set_cpu_isa(isa);
    for (const Case& k : cases()) {
      INFO(cpu_isa_name(isa) << " " << str(k));
      par::set_num_threads(1);
      const Run one = run_lstm(k);
      for (int threads : {2, 3}) {
        INFO(threads << " threads");
        par::set_num_threads(threads);
        const Run many = run_lstm(k);
        check_close(many, one);
        check_same_bits(run_lstm(k), many, k.masked);  // reproducible
      }
    }
  }
}

TEST_CASE("every ISA's LSTM gate loops agree with the generic ones", "[lstm][cpu][isa]") {
  CpuSettingsGuard guard;
  par::set_num_threads(1);
  set_cpu_isa(CpuIsa::kGeneric);
  std::vector<Run> generic;
  for (const Case& k : cases()) generic.push_back(run_lstm(k));
  for (CpuIsa isa : supported_cpu_isas()) {
    set_cpu_isa(isa);
    for (size_t i = 0; i < cases().size(); ++i) {
      const Case& k = cases()[i];
      INFO(cpu_isa_name(isa) << " " << str(k));
      const Run got = run_lstm(k);
      check_close(got, generic[i]);
      check_same_bits(run_lstm(k), got, k.masked);
    }
  }
}

TEST_CASE("every ISA's gate activations stay finite and saturate like the generic ones",
          "[lstm][cpu][isa]") {
  CpuSettingsGuard guard;
  // One row of H = 37 units (not a multiple of any vector width) with pre-activations from
  // -100 to 100, through zero and the small-|a| branch of tanh, and c from -50 to 50.
  const int64_t nh = 37, ng = 4 * nh;
  std::vector<float> z(ng), c0(nh), bias(ng, 0.0f);
  for (int64_t j = 0; j < ng; ++j) z[j] = -100.0f + 200.0f * static_cast<float>(j) / (ng - 1);
  for (int64_t j = 0; j < nh; ++j) c0[j] = -50.0f + 100.0f * static_cast<float>(j) / (nh - 1);
  auto forward = [&](CpuIsa isa) {
    std::vector<float> a = z, c = c0, h(nh, 0.0f);
    ref::lstm_row_kernels<float>(isa).forward(a.data(), bias.data(), c.data(), h.data(), nh);
    a.insert(a.end(), c.begin(), c.end());
    a.insert(a.end(), h.begin(), h.end());
    return a;
  };
  const std::vector<float> want = forward(CpuIsa::kGeneric);
  for (CpuIsa isa : supported_cpu_isas()) {
    INFO(cpu_isa_name(isa));
    const std::vector<float> got = forward(isa);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("element " << i);
      REQUIRE(std::isfinite(got[i]));
      CHECK(std::fabs(got[i] - want[i]) <= 1e-6f * (1.0f + std::fabs(want[i])));
    }
  }
}

TEST_CASE("EMBER_CPU_ISA names only what the machine runs", "[cpu][isa]") {
  const std::vector<CpuIsa> isas = supported_cpu_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == CpuIsa::kGeneric);
  for (CpuIsa isa : {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvx512}) {
    bool supported = false;
    for (CpuIsa s : isas) supported = supported || s == isa;
    if (!supported) CHECK_THROWS_WITH(set_cpu_isa(isa), Catch::Contains("cannot run"));
  }
}

TEST_CASE("parallel_for runs every part once and rethrows a part's error", "[cpu][threads]") {
  CpuSettingsGuard guard;
  for (int threads : {1, 2, 4}) {
    par::set_num_threads(threads);
    // Catch2's CHECK is not thread-safe: parts only record, the test checks afterwards.
    std::vector<int> hits(37, 0), inside(37, 0);
    par::parallel_for(37, [&](int64_t p) {
      // Nested: runs inline on the part's thread.
      par::parallel_for(2, [&](int64_t q) { hits[p] += static_cast<int>(q) + 1; });
      inside[p] = par::in_parallel() ? 1 : 0;
    });
    for (int v : hits) CHECK(v == 3);
    for (int v : inside) CHECK(v == (threads > 1 ? 1 : 0));
    CHECK_THROWS_WITH(par::parallel_for(5,
                                        [](int64_t p) {
                                          if (p == 3) throw Error("part 3 failed");
                                        }),
                      "part 3 failed");
    for (int64_t n : {0, 1, 5, 37})
      for (int64_t parts : {1, 2, 3, 8}) {
        int64_t covered = 0, prev_end = 0;
        for (int64_t p = 0; p < parts; ++p) {
          const par::Range r = par::split(n, parts, p);
          CHECK(r.begin == prev_end);
          covered += r.end - r.begin;
          prev_end = r.end;
        }
        CHECK(covered == n);
      }
  }
}

TEST_CASE("parallel_ranges covers [0, n) once in parts of at least the grain", "[cpu][threads]") {
  CpuSettingsGuard guard;
  for (int threads : {1, 2, 3}) {
    par::set_num_threads(threads);
    for (int64_t n : {0, 1, 99, 100, 250, 1000}) {
      // parts_for: as many grains as fit, capped by the threads, never 0.
      const int64_t parts = par::parts_for(n, 100);
      CHECK(parts == std::max<int64_t>(1, std::min<int64_t>(threads, n / 100)));
      std::vector<int> hits(static_cast<size_t>(n), 0);
      std::vector<int64_t> lengths(static_cast<size_t>(parts), -1);
      par::parallel_ranges(n, 100, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) ++hits[i];
        for (int64_t p = 0; p < parts; ++p)
          if (par::split(n, parts, p).begin == begin) lengths[p] = end - begin;
      });
      for (int v : hits) CHECK(v == 1);
      for (int64_t len : lengths) CHECK(len >= (parts > 1 ? 100 : 0));
    }
    // Inside a part everything is one range, on the part's thread.
    std::vector<int64_t> nested(2, 0);
    par::parallel_for(2, [&](int64_t p) { nested[p] = par::parts_for(1 << 20, 1); });
    CHECK(nested == std::vector<int64_t>{1, 1});
    CHECK(par::parts_for(1 << 20, 0) == threads);  // a grain of 0 counts as 1
  }
}
