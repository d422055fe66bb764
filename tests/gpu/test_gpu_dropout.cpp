// Dropout and SpatialDropout1D on the GPU: forward and backward against the CPU float64
// reference at rates 0, 0.3 and the p = 1 edge, at sizes that are not multiples of 4 (the
// Philox block) or of the thread block; masks bit-identical to the CPU's (float32 outputs and
// gradients compared with memcmp: both sides compute x * scale with one rounding); bitwise
// repeatability. Tolerance: outputs are x * scale, so the float32 row of the table is used as
// is (the only difference from float64 is the rounding of scale and of the product).
#include <catch2/catch.hpp>

#include <cstring>

#include "engine/core/rng.h"
#include "engine/cuda/context.h"
#include "kernels/dropout.h"
#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"

using namespace ember;
using namespace ember::test;

namespace {

const uint64_t kSeed = 0x5eed1234abcdULL;

cudaStream_t stream() {
  return cuda::Context::get(0).stream();
}

}  // namespace

TEST_CASE("GPU dropout matches the CPU reference", "[gpu][dropout]") {
  for (double rate : {0.0, 0.3, 1.0}) {
    for (const Shape& s : {Shape{1}, Shape{3}, Shape{5}, Shape{2, 3, 7}, Shape{4097}}) {
      INFO("rate " << rate << " shape " << s.str());
      const Tensor x = random_uniform(s, DType::kFloat64, -2, 2, 7);
      const uint64_t offset = dropout_offset(3, 2, 1);
      DeviceFn f = [&](const std::vector<ag::Var>& v, Device) {
        return fn::dropout(v[0], rate, kSeed, offset);
      };
      EMBER_CHECK_PARITY(f, {x}, {true}, gpu_f32_tol(1));
    }
  }
}

TEST_CASE("GPU spatial dropout matches the CPU reference", "[gpu][dropout]") {
  for (double rate : {0.0, 0.3, 1.0}) {
    for (const Shape& s :
         {Shape{1, 1, 1}, Shape{1, 5, 3}, Shape{3, 1, 7}, Shape{3, 17, 129}, Shape{2, 40, 6}}) {
      INFO("rate " << rate << " shape " << s.str());
      const Tensor x = random_uniform(s, DType::kFloat64, -2, 2, 8);
      const uint64_t offset = dropout_offset(9, 1, 0);
      DeviceFn f = [&](const std::vector<ag::Var>& v, Device) {
        return fn::spatial_dropout1d(v[0], rate, kSeed, offset);
      };
      EMBER_CHECK_PARITY(f, {x}, {true}, gpu_f32_tol(1));
    }
  }
}

TEST_CASE("GPU dropout masks are bit-identical to the CPU's", "[gpu][dropout]") {
  for (int64_t n : {int64_t{1}, int64_t{6}, int64_t{1023}, int64_t{1000003}}) {
    for (double rate : {0.0, 0.3, 0.5, 1.0}) {
      INFO("n " << n << " rate " << rate);
      const uint64_t offset = dropout_offset(1234, 7, 3);
      const Tensor x = random_uniform(Shape{n}, DType::kFloat32, 0.5, 1.5, 31);  // never 0
      Tensor y_cpu = Tensor::empty(Shape{n}, DType::kFloat32);
      ref::dropout_forward<float>(x.data<float>(), y_cpu.data<float>(), n, rate, kSeed, offset);
      const Tensor xd = to_device(x);
      Tensor yd = Tensor::empty(Shape{n}, DType::kFloat32, Device::cuda(0));
      cuda::dropout_forward<float>(xd.data<float>(), yd.data<float>(), n, rate, kSeed, offset,
                                   stream());
      const Tensor y_gpu = to_host(yd);
      CHECK(std::memcmp(y_gpu.raw(), y_cpu.raw(), y_cpu.nbytes()) == 0);
      // Backward from zero: d_x = d_y * scale where kept, 0 elsewhere, on both sides.
      Tensor dx_cpu = Tensor::zeros(Shape{n}, DType::kFloat32);
      ref::dropout_backward<float>(x.data<float>(), dx_cpu.data<float>(), n, rate, kSeed, offset);
      Tensor dxd = Tensor::zeros(Shape{n}, DType::kFloat32, Device::cuda(0));
      cuda::dropout_backward<float>(xd.data<float>(), dxd.data<float>(), n, rate, kSeed, offset,
                                    stream());
      const Tensor dx_gpu = to_host(dxd);
      CHECK(std::memcmp(dx_gpu.raw(), dx_cpu.raw(), dx_cpu.nbytes()) == 0);
    }
  }
}

TEST_CASE("GPU spatial dropout masks are bit-identical to the CPU's", "[gpu][dropout]") {
  for (const Shape& s : {Shape{1, 1, 1}, Shape{3, 7, 5}, Shape{64, 37, 129}}) {
    INFO("shape " << s.str());
    const int64_t B = s[0], T = s[1], C = s[2];
    const uint64_t offset = dropout_offset(77, 0, 0);
    const Tensor x = random_uniform(s, DType::kFloat32, 0.5, 1.5, 32);
    Tensor y_cpu = Tensor::empty(s, DType::kFloat32);
    ref::spatial_dropout1d_forward<float>(x.data<float>(), y_cpu.data<float>(), B, T, C, 0.3, kSeed,
                                          offset);
    const Tensor xd = to_device(x);
    Tensor yd = Tensor::empty(s, DType::kFloat32, Device::cuda(0));
    cuda::spatial_dropout1d_forward<float>(xd.data<float>(), yd.data<float>(), B, T, C, 0.3, kSeed,
                                           offset, stream());
    const Tensor y_gpu = to_host(yd);
    CHECK(std::memcmp(y_gpu.raw(), y_cpu.raw(), y_cpu.nbytes()) == 0);
    Tensor dx_cpu = Tensor::zeros(s, DType::kFloat32);
    ref::spatial_dropout1d_backward<float>(x.data<float>(), dx_cpu.data<float>(), B, T, C, 0.3,
                                           kSeed, offset);
    Tensor dxd = Tensor::zeros(s, DType::kFloat32, Device::cuda(0));
    cuda::spatial_dropout1d_backward<float>(xd.data<float>(), dxd.data<float>(), B, T, C, 0.3,
                                            kSeed, offset, stream());
    const Tensor dx_gpu = to_host(dxd);
    CHECK(std::memcmp(dx_gpu.raw(), dx_cpu.raw(), dx_cpu.nbytes()) == 0);
  }
}

TEST_CASE("GPU dropout works in place and rejects bad rates", "[gpu][dropout]") {
  const Tensor x = random_uniform(Shape{101}, DType::kFloat32, -1, 1, 40);
  Tensor y_cpu = Tensor::empty(Shape{101}, DType::kFloat32);
  ref::dropout_forward<float>(x.data<float>(), y_cpu.data<float>(), 101, 0.3, kSeed, 5);
  Tensor xd = to_device(x);
  cuda::dropout_forward<float>(xd.data<float>(), xd.data<float>(), 101, 0.3, kSeed, 5, stream());
  const Tensor y_gpu = to_host(xd);
  CHECK(std::memcmp(y_gpu.raw(), y_cpu.raw(), y_cpu.nbytes()) == 0);
  CHECK_THROWS_WITH(cuda::dropout_forward<float>(xd.data<float>(), xd.data<float>(), 101, 1.5,
                                                 kSeed, 5, stream()),
                    Catch::Matchers::Contains("rate 1.5"));
}
