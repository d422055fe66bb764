// GlobalMaxPooling1D: hand-computed forward and gradient routing (ties: the first maximum),
// float64 gradcheck with distinct values, edge shapes (T=1, B=1, odd C, T=0 rejected),
// kernel-level accumulation, and the layer's shapes and mask handling.
#include <catch2/catch.hpp>

#include "kernels/pooling.h"
#include "layers/functional.h"
#include "layers/pooling.h"
#include "tests/support/test_util.h"

using namespace ember;

namespace {
const test::Tolerance kF64 = test::tolerance(DType::kFloat64);
}

TEST_CASE("global max pool forward and backward (hand-computed)", "[basic][pooling]") {
  // x [B=2, T=3, C=2]
  Tensor x = Tensor::from<double>(Shape{2, 3, 2}, {1, -5,  //
                                                   4, -1,  //
                                                   2, -3,  //
                                                   0, 7,   //
                                                   0, 7,   // tie with t=0 and t=1 for c=1
                                                   -1, 6});
  ag::Var xv(x, true);
  ag::Var y = fn::global_max_pool1d(xv);
  EMBER_EXPECT_CLOSE(y.value(), Tensor::from<double>(Shape{2, 2}, {4, -1, 0, 7}), kF64);
  y.backward(Tensor::from<double>(Shape{2, 2}, {10, 20, 30, 40}));
  // Each (b, c) sends its gradient to one step: the first maximum.
  Tensor expect = Tensor::from<double>(Shape{2, 3, 2}, {0, 0,    //
                                                        10, 20,  //
                                                        0, 0,    //
                                                        30, 40,  //
                                                        0, 0,    //
                                                        0, 0});
  EMBER_EXPECT_CLOSE(xv.grad(), expect, kF64);
}

TEST_CASE("global max pool gradcheck with distinct values", "[basic][pooling]") {
  // Random values are distinct with probability 1 and far apart compared with the step.
  Tensor x = test::random_uniform(Shape{3, 5, 4}, DType::kFloat64, -1, 1, 61);
  Tensor w = test::random_uniform(Shape{3, 4}, DType::kFloat64, -1, 1, 62);
  auto f = [&](const std::vector<ag::Var>& v) {
    return test::weighted_sum(fn::global_max_pool1d(v[0]), w);
  };
  std::string r = test::gradcheck(f, {x}, {true});
  INFO(r);
  CHECK(r.empty());
}

TEST_CASE("global max pool edge shapes: T=1, B=1, odd C", "[basic][pooling]") {
  Tensor x = test::random_uniform(Shape{1, 1, 5}, DType::kFloat32, -1, 1, 63);
  ag::Var xv(x, true);
  ag::Var y = fn::global_max_pool1d(xv);
  REQUIRE(y.shape() == Shape{1, 5});
  EMBER_EXPECT_CLOSE(y.value(), x.reshape(Shape{1, 5}), test::tolerance(DType::kFloat32));
  y.backward(Tensor::full(Shape{1, 5}, DType::kFloat32, 2.0));
  for (int64_t c = 0; c < 5; ++c) CHECK(xv.grad().item(c) == 2.0);
  CHECK_THROWS_AS(fn::global_max_pool1d(ag::Var(Tensor::zeros(Shape{2, 0, 3}, DType::kFloat32))),
                  std::invalid_argument);
  CHECK_THROWS_AS(fn::global_max_pool1d(ag::Var(Tensor::zeros(Shape{2, 3}, DType::kFloat32))),
                  std::invalid_argument);
}

TEST_CASE("global max pool backward accumulates", "[basic][pooling]") {
  const double d_y[2] = {1, 2};      // [1,2]
  const int32_t argmax[2] = {1, 0};  // [1,2]
  double d_x[4] = {5, 5, 5, 5};      // [1,2,2]
  ref::global_max_pool1d_backward<double>(d_y, argmax, d_x, 1, 2, 2);
  CHECK(d_x[0] == 5);
  CHECK(d_x[1] == 7);  // (t=0, c=1)
  CHECK(d_x[2] == 6);  // (t=1, c=0)
  CHECK(d_x[3] == 5);
}

TEST_CASE("GlobalMaxPooling1D layer", "[basic][pooling]") {
  GlobalMaxPooling1D layer;
  CHECK(std::string(layer.type()) == "GlobalMaxPooling1D");
  CHECK(layer.output_shape({370, 60}) == FeatureShape{60});
  CHECK(layer.output_shape({-1, 60}) == FeatureShape{60});
  CHECK_THROWS_WITH(layer.output_shape({60}), Catch::Contains("(None, 60)"));
  CHECK_THROWS_AS(layer.output_shape({2, 3, 4}), std::invalid_argument);
  Tensor x = test::random_uniform(Shape{2, 4, 3}, DType::kFloat64, -1, 1, 64);
  Tensor mask = Tensor::full(Shape{2, 4}, DType::kUInt8, 1.0);
  LayerIO out = layer.forward({ag::Var(x), mask}, RunContext{});
  EMBER_EXPECT_CLOSE(out.x.value(), fn::global_max_pool1d(ag::Var(x)).value(), kF64);
  CHECK_FALSE(out.mask.defined());  // Keras max-pools every step; no mask leaves
}
