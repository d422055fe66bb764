// Embedding on the GPU against the CPU float64 reference: forward (vector and scalar gathers:
// E a multiple of 4 and not) and the deterministic backward (sorted by id, chunked sums) with
// heavily repeated ids, padding id 0 in long runs that cross many chunks, B=1 and T=1, ids
// given on the host and on the device; bitwise repeatability; the exact float32 gather.
// Tolerances: forward is a copy (exact); d_weight sums up to B*T rows, so the float32 row of the
// tolerance table is scaled by 20 (sums of a few hundred terms of size ~1 in float32).
#include <catch2/catch.hpp>

#include <cstring>

#include "engine/cuda/context.h"
#include "kernels/embedding.h"
#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"

using namespace ember;
using namespace ember::test;

namespace {

// ids with many repeats and long runs of the padding id 0.
Tensor padded_ids(int64_t batch, int64_t steps, int32_t vocab, uint64_t seed) {
  return pre_padded_ids(batch, steps, 0, vocab, steps / 2, seed);
}

void check_embedding(int64_t batch, int64_t steps, int64_t vocab, int64_t dim, uint64_t seed,
                     bool ids_on_device) {
  INFO("B=" << batch << " T=" << steps << " V=" << vocab << " E=" << dim
            << " ids on device=" << ids_on_device);
  const Tensor ids = padded_ids(batch, steps, static_cast<int32_t>(vocab), seed);
  const Tensor weight = random_uniform(Shape{vocab, dim}, DType::kFloat64, -0.05, 0.05, seed + 1);
  const Tensor ids_dev = to_device(ids);
  DeviceFn f = [&](const std::vector<ag::Var>& v, Device dev) {
    return fn::embedding(v[0], dev.is_cpu() || !ids_on_device ? ids : ids_dev);
  };
  EMBER_CHECK_PARITY(f, {weight}, {true}, gpu_f32_tol(20), gpu_f64_tol(), seed + 2);
}

}  // namespace

TEST_CASE("GPU embedding forward and backward match the CPU reference", "[gpu][embedding]") {
  check_embedding(4, 7, 11, 8, 1, false);       // float4 / double2 gathers, tiny vocab: repeats
  check_embedding(3, 13, 50, 5, 2, true);       // E odd: scalar path; device ids
  check_embedding(1, 1, 3, 4, 3, false);        // B = 1, T = 1
  check_embedding(1, 37, 5, 33, 4, true);       // B = 1, E not a multiple of 32
  check_embedding(5, 1, 9, 6, 5, false);        // T = 1, E % 4 != 0 but even (double2 path)
  check_embedding(16, 70, 40, 128, 6, true);    // id 0 runs of hundreds: many chunks per run
  check_embedding(64, 37, 3000, 64, 7, false);  // a sparse vocab
}

TEST_CASE("GPU embedding forward is an exact copy of the rows", "[gpu][embedding]") {
  const Tensor ids = padded_ids(3, 9, 20, 11);
  const Tensor w = random_uniform(Shape{20, 12}, DType::kFloat32, -1, 1, 12);
  Tensor out_cpu = Tensor::empty(Shape{3, 9, 12}, DType::kFloat32);
  ref::embedding_forward<float>(w.data<float>(), ids.data<int32_t>(), out_cpu.data<float>(), 3, 9,
                                20, 12);
  ag::Var wd(to_device(w), false);
  Tensor out_gpu = to_host(fn::embedding(wd, ids).value());
  CHECK(std::memcmp(out_gpu.raw(), out_cpu.raw(), out_cpu.nbytes()) == 0);
}

TEST_CASE("GPU embedding backward is bitwise repeatable on a large padded batch",
          "[gpu][embedding]") {
  const int64_t B = 64, T = 370, V = 6000, E = 128;
  const Tensor ids = padded_ids(B, T, static_cast<int32_t>(V), 21);
  const Tensor g = to_device(random_uniform(Shape{B, T, E}, DType::kFloat32, -1, 1, 22));
  const Tensor ids_dev = to_device(ids);
  const size_t bytes = cuda::embedding_backward_workspace_bytes(B, T, V, E);
  Tensor ws = Tensor::empty(Shape{static_cast<int64_t>(bytes)}, DType::kUInt8, Device::cuda(0));
  Tensor d1 = Tensor::zeros(Shape{V, E}, DType::kFloat32, Device::cuda(0));
  Tensor d2 = Tensor::zeros(Shape{V, E}, DType::kFloat32, Device::cuda(0));
  for (Tensor* d : {&d1, &d2})
    cuda::embedding_backward<float>(g.data<float>(), ids_dev.data<int32_t>(), d->data<float>(), B,
                                    T, V, E, ws.raw(), bytes, cuda::Context::get(0).stream());
  sync_device();
  CHECK(bitwise_equal(d1, d2));
  // ... and close to the CPU reference (sums in double there and here).
  Tensor ref_grad = Tensor::zeros(Shape{V, E}, DType::kFloat32);
  const Tensor gh = to_host(g);
  ref::embedding_backward<float>(gh.data<float>(), ids.data<int32_t>(), ref_grad.data<float>(), B,
                                 T, V, E);
  EMBER_EXPECT_CLOSE(to_host(d1), ref_grad, gpu_f32_tol(1));
}

TEST_CASE("GPU embedding rejects bad host ids and mixed devices", "[gpu][embedding]") {
  ag::Var w(to_device(random_uniform(Shape{5, 4}, DType::kFloat32, -1, 1, 3)), true);
  Tensor bad = Tensor::from<int32_t>(Shape{1, 2}, {1, 5});
  CHECK_THROWS_WITH(fn::embedding(w, bad), Catch::Matchers::Contains("token id 5"));
  ag::Var host_w(random_uniform(Shape{5, 4}, DType::kFloat32, -1, 1, 3), true);
  Tensor good = Tensor::from<int32_t>(Shape{1, 2}, {1, 4});
  CHECK_THROWS_WITH(fn::embedding(host_w, to_device(good)),
                    Catch::Matchers::Contains("embedding") && Catch::Matchers::Contains("cuda"));
}

TEST_CASE("GPU mask_zero mask is built on the device, equal to the CPU's", "[gpu][embedding]") {
  for (auto [batch, steps] : {std::pair<int64_t, int64_t>{1, 1}, {1, 7}, {5, 1}, {33, 370}}) {
    INFO("B=" << batch << " T=" << steps);
    const Tensor ids = padded_ids(batch, steps, 9, 40 + static_cast<uint64_t>(batch));
    const NonzeroMasks m = nonzero_masks(ids);
    CHECK(bitwise_equal(m.gpu, m.cpu));
  }
}
