// CPU tests of implementation 'persistent' (kernels/lstm/lstm_persistent.h), none needing a GPU:
// the name round-trips through parse_lstm_impl and the config; the plan (cluster size, units
// per CTA, batch tile, rows per thread, shared memory) for the seed models' shapes on H100
// limits, and its refusals with reasons; lstm_persistent_supported answers with a reason
// rather than crashing when the build or the machine has no GPU. (That CPU tensors asking for
// 'persistent' run the reference is tested with the other implementations in
// test_lstm_impl.cpp.) Shapes: B batch, T time, C input, H hidden.
#include <catch2/catch.hpp>

#include <string>

#include "engine/core/device.h"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_persistent.h"
#include "layers/functional.h"
#include "layers/lstm.h"
#include "tests/support/test_util.h"

using ember::DType;
using ember::LstmConfig;
namespace cuda = ember::cuda;
namespace et = ember::test;
namespace fn = ember::fn;

namespace {

// A B x T x C input to H units, every option at its default. LstmConfig is an aggregate
// whose first four fields are batch, steps, input, hidden.
LstmConfig shape(int64_t b, int64_t t, int64_t c, int64_t h) {
  return LstmConfig{b, t, c, h};
}

}  // namespace

TEST_CASE("LSTM implementation 'persistent': the name round-trips", "[lstm][cpu][persistent]") {
  for (const char* name : {"auto", "reference", "fused", "cudnn", "persistent"})
    CHECK(std::string(fn::lstm_impl_name(fn::parse_lstm_impl(name))) == name);
  CHECK(fn::parse_lstm_impl("persistent") == fn::LstmImpl::kPersistent);
  CHECK_THROWS_WITH(fn::parse_lstm_impl("persistant"),
                    Catch::Contains("auto, reference, fused, cudnn, persistent"));
  ember::LstmOptions o;
  o.units = 4;
  o.implementation = fn::LstmImpl::kPersistent;
  o.recurrent_dropout = 0.3;  // unlike cudnn, persistent honours it
  CHECK_NOTHROW(ember::LSTM(o));
  // The config accepts it, and lists it among the choices.
  const std::string head =
      "sequence: {maxlen: 10}\nmodel:\n  - Embedding: {input_dim: 100, output_dim: 8}\n";
  CHECK(et::config_error_of(head + "  - LSTM: {units: 4, implementation: persistent}\n") == "");
  CHECK_THAT(et::config_error_of(head + "  - LSTM: {units: 4, implementation: persistant}\n"),
             Catch::Contains("cudnn, persistent") && Catch::Contains("did you mean 'persistent'"));
}

TEST_CASE("persistent LSTM plan: the seed models' shapes fit an H100", "[lstm][cpu][persistent]") {
  const cuda::LstmPersistentDevice h100;  // 132 SMs, 227 KB opt-in shared memory, sm_90
  for (int64_t h : {50, 60, 64, 75, 100, 128})
    for (int64_t b : {1, 16, 32, 64, 128})
      for (int elem : {4, 8}) {
        INFO("H=" << h << " B=" << b << " element bytes " << elem);
        cuda::LstmPersistentPlan p;
        REQUIRE(cuda::lstm_persistent_plan(shape(b, 370, 100, h), elem, h100, &p) == "");
        // Units: N CTAs of Hc units cover H, and every CTA owns at least one.
        CHECK((p.cluster == 1 || p.cluster == 2 || p.cluster == 4 || p.cluster == 8));
        CHECK(static_cast<int64_t>(p.cluster) * p.units >= h);
        CHECK(static_cast<int64_t>(p.cluster - 1) * p.units < h);
        // Threads: Hc x (Bt / RB), within the kernels' launch bounds.
        CHECK((p.rows_per_thread == 1 || p.rows_per_thread == 2 || p.rows_per_thread == 4));
        CHECK(p.batch_tile % p.rows_per_thread == 0);
        CHECK(p.threads == p.units * p.batch_tile / p.rows_per_thread);
        CHECK(p.threads <= cuda::kLstmPersistentMaxThreads);
        CHECK(p.tiles * p.batch_tile >= b);
        CHECK((p.tiles - 1) * p.batch_tile < b);
        // Shared memory: the formulas of the header, within the opt-in limit.
        CHECK(p.smem_forward == (4 * h * p.units + 2 * h * p.batch_tile) * elem);
        CHECK(p.smem_backward == (4 * h * p.units + 8 * h * p.batch_tile) * elem);
        CHECK(p.smem_backward <= h100.max_smem_per_block);
      }
  // The two shapes worked through in the header.
  cuda::LstmPersistentPlan p;
  REQUIRE(cuda::lstm_persistent_plan(shape(128, 370, 100, 128), 4, h100, &p) == "");
  CHECK(p.cluster == 8);
  CHECK(p.units == 16);
  CHECK(p.batch_tile == 8);  // 16 clusters x 8 CTAs = 128 <= 132 SMs
  CHECK(p.rows_per_thread == 1);
  CHECK(p.threads == 128);
  CHECK(p.tiles == 16);
  CHECK(p.smem_forward == 40 * 1024);
  CHECK(p.smem_backward == 64 * 1024);
  REQUIRE(cuda::lstm_persistent_plan(shape(64, 370, 100, 50), 4, h100, &p) == "");
  CHECK(p.cluster == 4);
  CHECK(p.units == 13);
  CHECK(p.smem_forward == 13600);
  CHECK(p.smem_backward == 23200);
  // Few SMs: the batch tile grows instead of queueing clusters in waves.
  cuda::LstmPersistentDevice small = h100;
  small.sm_count = 32;
  REQUIRE(cuda::lstm_persistent_plan(shape(128, 10, 8, 128), 4, small, &p) == "");
  CHECK(p.batch_tile == 32);
  CHECK(p.rows_per_thread == 2);  // 16 units x 32 rows = 512 > 256 threads at one row each
  // Tiny shapes: one CTA, a 4-row tile.
  REQUIRE(cuda::lstm_persistent_plan(shape(1, 1, 1, 1), 4, h100, &p) == "");
  CHECK(p.cluster == 1);
  CHECK(p.units == 1);
  CHECK(p.batch_tile == 4);
  CHECK(p.threads == 4);
}

TEST_CASE("persistent LSTM plan: refusals name the limit", "[lstm][cpu][persistent]") {
  const cuda::LstmPersistentDevice h100;
  cuda::LstmPersistentPlan p;
  std::string why = cuda::lstm_persistent_plan(shape(32, 10, 8, 1024), 4, h100, &p);
  CHECK_THAT(why, Catch::Contains("H=1024") && Catch::Contains("shared memory"));
  // float64 halves the largest H.
  CHECK(cuda::lstm_persistent_plan(shape(32, 10, 8, 256), 4, h100, &p) == "");
  CHECK_THAT(cuda::lstm_persistent_plan(shape(32, 10, 8, 256), 8, h100, &p),
             Catch::Contains("shared memory"));
  cuda::LstmPersistentDevice a100 = h100;
  a100.compute_major = 8;
  CHECK_THAT(cuda::lstm_persistent_plan(shape(32, 10, 8, 64), 4, a100, &p), Catch::Contains("9.0"));
  CHECK_THAT(cuda::lstm_persistent_plan(shape(32, 10, 8, 64), 2, h100, &p),
             Catch::Contains("float32 and float64"));
  CHECK_THAT(cuda::lstm_persistent_plan(shape(0, 10, 8, 64), 4, h100, &p), Catch::Contains("B=0"));
}

TEST_CASE("persistent LSTM support query answers without a GPU", "[lstm][cpu][persistent]") {
  const LstmConfig cfg = shape(32, 370, 100, 128);
  std::string why = "unset";
  const bool ok = cuda::lstm_persistent_supported(cfg, DType::kFloat32, &why);
  if (!ember::built_with_cuda()) {
    CHECK_FALSE(ok);
    CHECK_THAT(why, Catch::Contains("no CUDA support"));
  } else if (ember::cuda_device_count() == 0) {
    CHECK_FALSE(ok);
    CHECK_THAT(why, Catch::Contains("no CUDA device"));
  } else {
    CHECK(ok == why.empty());  // a real device: either answer, but a reason with a refusal
  }
  CHECK(cuda::lstm_persistent_supported(cfg, DType::kFloat32, nullptr) == ok);
  CHECK_FALSE(cuda::lstm_persistent_supported(cfg, DType::kInt32, &why));
  CHECK_THAT(why, Catch::Contains("float32 and float64"));
}
