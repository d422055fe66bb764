// GlobalMaxPooling1D and merge (concat, sum, mul, ave) on the GPU against the CPU float64
// reference: T = 1, B = 1, odd channel counts, ties (the first maximum takes the gradient, as
// on the CPU), merge(x, x) where both gradient contributions land in one buffer, and 2-D to
// 4-D inputs; bitwise repeatability through check_parity. Tolerance: both ops only copy, add
// or multiply once per element, so float32 uses the table's float32 row as is.
#include <catch2/catch.hpp>

#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"

using namespace ember;
using namespace ember::test;

TEST_CASE("GPU global max pooling matches the CPU reference", "[gpu][pooling]") {
  uint64_t seed = 300;
  for (const Shape& s :
       {Shape{1, 1, 1}, Shape{1, 7, 3}, Shape{4, 1, 5}, Shape{3, 37, 129}, Shape{64, 50, 60}}) {
    INFO(s.str());
    const Tensor x = random_uniform(s, DType::kFloat64, -1, 1, ++seed);
    DeviceFn f = [](const std::vector<ag::Var>& v, Device) { return fn::global_max_pool1d(v[0]); };
    EMBER_CHECK_PARITY(f, {x}, {true}, gpu_f32_tol(1));
  }
  // Ties: values drawn from {0, 1, 2}, so most (b, c) have several maximal steps.
  Tensor ties = random_ints(Shape{5, 9, 7}, 0, 3, 77).to(DType::kFloat64);
  DeviceFn f = [](const std::vector<ag::Var>& v, Device) { return fn::global_max_pool1d(v[0]); };
  EMBER_CHECK_PARITY(f, {ties}, {true}, gpu_f32_tol(1));
}

TEST_CASE("GPU merge matches the CPU reference", "[gpu][merge]") {
  uint64_t seed = 400;
  for (const char* mode : {"concat", "sum", "mul", "ave"}) {
    for (const Shape& s : {Shape{1}, Shape{3, 5}, Shape{2, 7, 33}, Shape{1, 1, 1, 3}}) {
      INFO(mode << " " << s.str());
      const Tensor a = random_uniform(s, DType::kFloat64, -1, 1, ++seed);
      const Tensor b = random_uniform(s, DType::kFloat64, -1, 1, ++seed);
      DeviceFn f = [&](const std::vector<ag::Var>& v, Device) {
        return fn::merge(v[0], v[1], ember::parse_merge_mode(mode));
      };
      EMBER_CHECK_PARITY(f, {a, b}, {true, true}, gpu_f32_tol(1));
      EMBER_CHECK_PARITY(f, {a, b}, {false, true}, gpu_f32_tol(1));
      // merge(x, x): both contributions accumulate into x's gradient.
      DeviceFn same = [&](const std::vector<ag::Var>& v, Device) {
        return fn::merge(v[0], v[0], ember::parse_merge_mode(mode));
      };
      EMBER_CHECK_PARITY(same, {a}, {true}, gpu_f32_tol(1));
    }
  }
  // concat with different last dims.
  const Tensor a = random_uniform(Shape{3, 4, 5}, DType::kFloat64, -1, 1, 1);
  const Tensor b = random_uniform(Shape{3, 4, 2}, DType::kFloat64, -1, 1, 2);
  DeviceFn f = [](const std::vector<ag::Var>& v, Device) {
    return fn::merge(v[0], v[1], ember::MergeMode::kConcat);
  };
  EMBER_CHECK_PARITY(f, {a, b}, {true, true}, gpu_f32_tol(1));
}

TEST_CASE("GPU merge rejects inputs on different devices", "[gpu][merge]") {
  ag::Var a(random_uniform(Shape{2, 3}, DType::kFloat32, -1, 1, 1), true);
  ag::Var b(to_device(random_uniform(Shape{2, 3}, DType::kFloat32, -1, 1, 2)), true);
  CHECK_THROWS_WITH(fn::merge(a, b, ember::MergeMode::kSum),
                    Catch::Matchers::Contains("merge") && Catch::Matchers::Contains("cuda:0"));
}
