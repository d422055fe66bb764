// The persistent LSTM (kernels/lstm_persistent*.cu) at every cluster size and every kernel
// instantiation, each with every option, against the CPU float64 reference:
//  - clusters of 1, 2, 4 and 8 CTAs (H = 5, 23, 41, 97: the last CTA owns fewer units than the
//    others, except with one CTA), each under five option sets that together cover T=1 and
//    B=1, every mask kind, return_sequences both ways, go_backwards, reverse_outputs,
//    zero_output_for_mask, no bias, dropout, recurrent_dropout and a padded second batch tile;
//    through fn::lstm (check_parity: float32 and float64, each twice and bitwise equal) and
//    through the launchers directly (gradients accumulate; saved c, h_prev, gate activations
//    and dropout factors as the reference's);
//  - rows per thread RB = 2 and 4 (large batches grow the batch tile: B=276 at H=128 and
//    B=280 at H=136), which the seed shapes never reach.
// Each case first checks that the plan for H100 limits has the cluster size / RB it is named
// for, so a change of plan cannot silently drop a size from the sweep. The shapes are small
// enough for the CUDA emulator too. Shapes: B batch, T time, C input, H hidden.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_persistent.h"
#include "tests/support/gpu_test_util.h"
#include "tests/support/lstm_test_util.h"

using namespace ember;
using namespace ember::test;

namespace {

// This file's dropout stream.
LstmCase ccase(LstmCase c) {
  c.seed = 8123;
  c.offset = dropout_offset(4, 1, 3);
  return c;
}

// The plan of c on H100 limits (what the emulator reports too), elements of elem_bytes.
cuda::LstmPersistentPlan plan_of(const LstmCase& c, int elem_bytes) {
  cuda::LstmPersistentPlan plan;
  const std::string why =
      cuda::lstm_persistent_plan(c.config(), elem_bytes, cuda::LstmPersistentDevice{}, &plan);
  INFO(c.str() << ": " << why);
  REQUIRE(why.empty());
  return plan;
}

// Five option sets at hidden size h (field order: b, t, c, h, mask, seq, back, rev, zero,
// bias, drop, rdrop).
std::vector<LstmCase> option_sets(int64_t h) {
  return {ccase({1, 1, 3, h}),
          ccase({3, 6, 4, h, MaskKind::kMixed, true, true, false, true, true, 0.2, 0.3}),
          ccase({9, 5, 3, h, MaskKind::kPre, false, false, false, false, false, 0.0, 0.25}),
          ccase({5, 7, 6, h, MaskKind::kPost, true, true, true, false, true, 0.1, 0.0}),
          ccase({4, 4, 2, h, MaskKind::kNone, true, false, true, true, true, 0.0, 0.0})};
}

void check_all_ways(const LstmCase& c, uint64_t seed) {
  check_lstm_parity(c, seed, fn::LstmImpl::kPersistent);
  check_lstm_launchers<double>(c, seed + 1, cuda::lstm_persistent_forward<double>,
                               cuda::lstm_persistent_backward<double>, /*check_gates=*/true);
  check_lstm_launchers<float>(c, seed + 1, cuda::lstm_persistent_forward<float>,
                              cuda::lstm_persistent_backward<float>, /*check_gates=*/true);
}

}  // namespace

TEST_CASE("GPU persistent LSTM with clusters of 1, 2, 4 and 8 CTAs under every option",
          "[gpu][lstm][persistent]") {
  struct Size {
    int64_t h;
    int cluster;
  };
  uint64_t seed = 6100;
  for (const Size& s : {Size{5, 1}, Size{23, 2}, Size{41, 4}, Size{97, 8}}) {
    for (const LstmCase& c : option_sets(s.h)) {
      INFO(c.str() << ", expected cluster " << s.cluster);
      for (int elem : {4, 8}) {
        const cuda::LstmPersistentPlan p = plan_of(c, elem);
        CHECK(p.cluster == s.cluster);
        if (s.cluster > 1) CHECK(s.h % p.units != 0);  // the last CTA owns fewer units
      }
      check_all_ways(c, seed += 10);
    }
  }
}

TEST_CASE("GPU persistent LSTM with 2 and 4 batch rows per thread", "[gpu][lstm][persistent]") {
  struct Rows {
    LstmCase c;
    int rb_float32, rb_float64;
  };
  const Rows rows[] = {
      {ccase({276, 2, 5, 128, MaskKind::kPost, false, false, false, false, true, 0.1, 0.2}), 2, 1},
      {ccase({280, 3, 4, 136, MaskKind::kMixed, true, true, true, true, true, 0.2, 0.1}), 4, 2}};
  uint64_t seed = 6900;
  for (const Rows& r : rows) {
    INFO(r.c.str());
    CHECK(plan_of(r.c, 4).rows_per_thread == r.rb_float32);
    CHECK(plan_of(r.c, 8).rows_per_thread == r.rb_float64);
    check_all_ways(r.c, seed += 10);
  }
}
