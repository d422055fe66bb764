// Dense (cuBLAS) and the activations on the GPU against the CPU float64 reference: 2-D and
// 3-D inputs, with and without bias, odd sizes, N = 1, U = 1, a bias gradient that spans many
// row chunks; relu/sigmoid/tanh elementwise and softmax over rows of 1, 3, 37 and 100 classes;
// bitwise repeatability (check_parity runs each GPU op twice); mixed-device errors.
// Tolerances: dense sums products over C (forward, d_x) or N (d_kernel, d_bias) terms of size
// ~1, so float32 uses the table's float32 row scaled by 20 (atol 2e-4); the activations are
// elementwise with device libm ulp differences, or a row sum for softmax: scaled by 4.
#include <catch2/catch.hpp>

#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"

using namespace ember;
using namespace ember::test;
using Catch::Matchers::Contains;

TEST_CASE("GPU dense matches the CPU reference", "[gpu][dense]") {
  struct Case {
    Shape x;
    int64_t units;
  };
  const Case cases[] = {{{1, 1}, 1},      {{7, 13}, 5},      {{3, 37}, 1},
                        {{1, 64}, 33},    {{2, 5, 7}, 3},    {{1, 1, 4}, 2},
                        {{4, 9, 33}, 17}, {{64, 37, 16}, 1}, {{5, 3, 128}, 64}};
  uint64_t seed = 100;
  for (const Case& c : cases) {
    for (bool with_bias : {true, false}) {
      INFO("x " << c.x.str() << " units " << c.units << " bias " << with_bias);
      const int64_t in = c.x[-1];
      std::vector<Tensor> inputs{
          random_uniform(c.x, DType::kFloat64, -1, 1, ++seed),
          random_uniform(Shape{in, c.units}, DType::kFloat64, -1, 1, ++seed)};
      if (with_bias)
        inputs.push_back(random_uniform(Shape{c.units}, DType::kFloat64, -1, 1, ++seed));
      DeviceFn f = [&](const std::vector<ag::Var>& v, Device) {
        return fn::dense(v[0], v[1], v.size() > 2 ? v[2] : ag::Var());
      };
      EMBER_CHECK_PARITY(f, inputs, std::vector<bool>(inputs.size(), true), gpu_f32_tol(20));
      // Only some inputs needing gradients (d_x or d_kernel skipped).
      EMBER_CHECK_PARITY(f, inputs, {false, true, true}, gpu_f32_tol(20));
      EMBER_CHECK_PARITY(f, inputs, {true, false, false}, gpu_f32_tol(20));
    }
  }
}

TEST_CASE("GPU activations match the CPU reference", "[gpu][activations]") {
  uint64_t seed = 200;
  for (fn::Activation a :
       {fn::Activation::kRelu, fn::Activation::kSigmoid, fn::Activation::kTanh}) {
    for (const Shape& s : {Shape{1}, Shape{3, 5}, Shape{2, 7, 33}, Shape{1000003}}) {
      INFO(fn::activation_name(a) << " " << s.str());
      const Tensor x = random_uniform(s, DType::kFloat64, -8, 8, ++seed);
      DeviceFn f = [&](const std::vector<ag::Var>& v, Device) { return fn::activation(v[0], a); };
      EMBER_CHECK_PARITY(f, {x}, {true}, gpu_f32_tol(4));
    }
  }
  for (const Shape& s : {Shape{1, 1}, Shape{4, 3}, Shape{2, 5, 37}, Shape{3, 100}, Shape{333, 3}}) {
    INFO("softmax " << s.str());
    const Tensor x = random_uniform(s, DType::kFloat64, -10, 10, ++seed);
    DeviceFn f = [&](const std::vector<ag::Var>& v, Device) {
      return fn::activation(v[0], fn::Activation::kSoftmax);
    };
    EMBER_CHECK_PARITY(f, {x}, {true}, gpu_f32_tol(4));
  }
}

TEST_CASE("GPU dense rejects inputs on different devices", "[gpu][dense]") {
  ag::Var x(random_uniform(Shape{2, 3}, DType::kFloat32, -1, 1, 1), true);
  ag::Var k(to_device(random_uniform(Shape{3, 4}, DType::kFloat32, -1, 1, 2)), true);
  CHECK_THROWS_WITH(fn::dense(x, k, ag::Var()),
                    Contains("dense") && Contains("cpu") && Contains("cuda:0"));
  ag::Var xd(to_device(x.value()), true);
  ag::Var bias(random_uniform(Shape{4}, DType::kFloat32, -1, 1, 3), true);
  CHECK_THROWS_WITH(fn::dense(xd, k, bias), Contains("bias") && Contains("cpu"));
}
