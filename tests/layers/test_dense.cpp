// Dense and the activations: hand-computed forwards, float64 gradchecks (2-D and 3-D, with
// and without bias; every activation including softmax), kernel-level accumulation, numerical
// stability at large |x|, activation names, and the Dense / Activation layers.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/core/tensor_ops.h"
#include "kernels/activations.h"
#include "kernels/dense.h"
#include "layers/dense.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;
using ember::test::gradcheck;
using ember::test::random_uniform;
using ember::test::weighted_sum;

namespace {
const test::Tolerance kF64 = test::tolerance(DType::kFloat64);
}

TEST_CASE("dense forward (hand-computed), 2-D and 3-D", "[basic][dense]") {
  // x [2,3], kernel [3,2], bias [2].
  Tensor x = Tensor::from<double>(Shape{2, 3}, {1, 2, 3, -1, 0, 2});
  Tensor k = Tensor::from<double>(Shape{3, 2}, {1, 0, 0, 1, 2, -1});
  Tensor b = Tensor::from<double>(Shape{2}, {0.5, -0.5});
  // row 0: (1 + 6, 2 - 3) + b = (7.5, -1.5); row 1: (-1 + 4, -2) + b = (3.5, -2.5)
  ag::Var y = fn::dense(ag::Var(x), ag::Var(k), ag::Var(b));
  EMBER_EXPECT_CLOSE(y.value(), Tensor::from<double>(Shape{2, 2}, {7.5, -1.5, 3.5, -2.5}), kF64);
  ag::Var y_nb = fn::dense(ag::Var(x), ag::Var(k), ag::Var());
  EMBER_EXPECT_CLOSE(y_nb.value(), Tensor::from<double>(Shape{2, 2}, {7, -1, 3, -2}), kF64);
  // The same rows as [B=1, T=2, C=3] give [1,2,2] with the same values.
  ag::Var y3 = fn::dense(ag::Var(x.reshape(Shape{1, 2, 3})), ag::Var(k), ag::Var(b));
  REQUIRE(y3.shape() == Shape{1, 2, 2});
  EMBER_EXPECT_CLOSE(y3.value().reshape(Shape{2, 2}), y.value(), kF64);
}

TEST_CASE("dense backward accumulates into all three gradients", "[basic][dense]") {
  const double x[2] = {1, 2};        // [1,2]
  const double k[4] = {1, 2, 3, 4};  // [2,2]
  const double d_y[2] = {1, -1};     // [1,2]
  double d_x[2] = {10, 10}, d_k[4] = {10, 10, 10, 10}, d_b[2] = {10, 10};
  ref::dense_backward<double>(x, k, d_y, d_x, d_k, d_b, 1, 2, 2);
  // d_x = d_y k^T = (1-2, 3-4); d_k = x^T d_y = [[1,-1],[2,-2]]; d_b = d_y.
  CHECK(d_x[0] == 9);
  CHECK(d_x[1] == 9);
  CHECK(d_k[0] == 11);
  CHECK(d_k[1] == 9);
  CHECK(d_k[2] == 12);
  CHECK(d_k[3] == 8);
  CHECK(d_b[0] == 11);
  CHECK(d_b[1] == 9);
}

TEST_CASE("dense gradcheck: 2-D and 3-D, with and without bias", "[basic][dense]") {
  for (bool three_d : {false, true})
    for (bool with_bias : {false, true}) {
      const Shape xs = three_d ? Shape{2, 3, 5} : Shape{3, 5};
      const Shape ys = three_d ? Shape{2, 3, 4} : Shape{3, 4};
      Tensor x = random_uniform(xs, DType::kFloat64, -1, 1, 31);
      Tensor k = random_uniform(Shape{5, 4}, DType::kFloat64, -1, 1, 32);
      Tensor b = random_uniform(Shape{4}, DType::kFloat64, -1, 1, 33);
      Tensor w = random_uniform(ys, DType::kFloat64, -1, 1, 34);
      auto f = [&](const std::vector<ag::Var>& v) {
        return weighted_sum(fn::dense(v[0], v[1], with_bias ? v[2] : ag::Var()), w);
      };
      INFO("3-D " << three_d << ", bias " << with_bias);
      std::string r = gradcheck(f, {x, k, b}, {true, true, with_bias});
      INFO(r);
      CHECK(r.empty());
    }
}

TEST_CASE("dense edge shapes and shape errors", "[basic][dense]") {
  // N=1, C=1, U=1 and B=1, T=1.
  Tensor x = Tensor::from<double>(Shape{1, 1, 1}, {3});
  ag::Var y = fn::dense(ag::Var(x), ag::Var(Tensor::from<double>(Shape{1, 1}, {2})),
                        ag::Var(Tensor::from<double>(Shape{1}, {1})));
  REQUIRE(y.shape() == Shape{1, 1, 1});
  CHECK(y.value().item(0) == 7.0);
  ag::Var k(Tensor::zeros(Shape{4, 2}, DType::kFloat64));
  CHECK_THROWS_WITH(fn::dense(ag::Var(Tensor::zeros(Shape{3, 5}, DType::kFloat64)), k, ag::Var()),
                    Catch::Contains("[4, 2]") && Catch::Contains("[3, 5]"));
  CHECK_THROWS_AS(fn::dense(ag::Var(Tensor::zeros(Shape{4}, DType::kFloat64)), k, ag::Var()),
                  std::invalid_argument);
  CHECK_THROWS_AS(fn::dense(ag::Var(Tensor::zeros(Shape{3, 4}, DType::kFloat64)), k,
                            ag::Var(Tensor::zeros(Shape{3}, DType::kFloat64))),
                  std::invalid_argument);
  CHECK_THROWS_AS(fn::dense(ag::Var(Tensor::zeros(Shape{3, 4}, DType::kFloat32)), k, ag::Var()),
                  std::invalid_argument);
}

TEST_CASE("activations forward (hand-computed)", "[basic][dense]") {
  Tensor x = Tensor::from<double>(Shape{4}, {-2, 0, 0.5, 3});
  auto run = [&](const char* name) {
    return fn::activation(ag::Var(x), fn::parse_activation(name)).value();
  };
  EMBER_EXPECT_CLOSE(run("relu"), Tensor::from<double>(Shape{4}, {0, 0, 0.5, 3}), kF64);
  EMBER_EXPECT_CLOSE(
      run("sigmoid"),
      Tensor::from<double>(Shape{4}, {1 / (1 + std::exp(2.0)), 0.5, 1 / (1 + std::exp(-0.5)),
                                      1 / (1 + std::exp(-3.0))}),
      kF64);
  EMBER_EXPECT_CLOSE(
      run("tanh"),
      Tensor::from<double>(Shape{4}, {std::tanh(-2.0), 0, std::tanh(0.5), std::tanh(3.0)}), kF64);
  // softmax over the last axis of [2,2]: row (0, ln 3) -> (1/4, 3/4); row (5, 5) -> halves.
  Tensor s = Tensor::from<double>(Shape{2, 2}, {0, std::log(3.0), 5, 5});
  Tensor sm = fn::activation(ag::Var(s), fn::Activation::kSoftmax).value();
  EMBER_EXPECT_CLOSE(sm, Tensor::from<double>(Shape{2, 2}, {0.25, 0.75, 0.5, 0.5}), kF64);
  // linear is the identity: the same Var, no node.
  ag::Var xv(x, true);
  CHECK(fn::activation(xv, fn::Activation::kLinear).impl() == xv.impl());
}

TEST_CASE("sigmoid and softmax stay finite for large |x|", "[basic][dense]") {
  Tensor x = Tensor::from<float>(Shape{2, 3}, {-1000, 0, 1000, 1000, 1001, -1000});
  Tensor sg = fn::activation(ag::Var(x), fn::Activation::kSigmoid).value();
  CHECK(sg.item(0) == 0.0);
  CHECK(sg.item(1) == 0.5);
  CHECK(sg.item(2) == 1.0);
  Tensor sm = fn::activation(ag::Var(x), fn::Activation::kSoftmax).value();
  REQUIRE(all_finite(sm));
  const double e = std::exp(1.0);
  EMBER_EXPECT_CLOSE(sm.to(DType::kFloat64),
                     Tensor::from<double>(Shape{2, 3}, {0, 0, 1, 1 / (1 + e), e / (1 + e), 0}),
                     (test::Tolerance{1e-6, 1e-6}));
  // Tiny sigmoid outputs keep relative precision (no 1 - (1 - tiny) cancellation).
  Tensor small =
      fn::activation(ag::Var(Tensor::from<double>(Shape{1}, {-40})), fn::Activation::kSigmoid)
          .value();
  CHECK(small.item(0) == Approx(std::exp(-40.0)).epsilon(1e-12));
}

TEST_CASE("activation gradcheck: relu, sigmoid, tanh, softmax", "[basic][dense]") {
  // Keep |x| >= 0.1 so relu's kink is never within the finite-difference step.
  Tensor x = random_uniform(Shape{3, 2, 5}, DType::kFloat64, 0.1, 2, 41);
  Tensor sign = random_uniform(Shape{3, 2, 5}, DType::kFloat64, -1, 1, 42);
  for (int64_t i = 0; i < x.numel(); ++i)
    if (sign.item(i) < 0) x.data<double>()[i] = -x.data<double>()[i];
  Tensor w = random_uniform(Shape{3, 2, 5}, DType::kFloat64, -1, 1, 43);
  for (const char* name : {"relu", "sigmoid", "tanh", "softmax"}) {
    const fn::Activation a = fn::parse_activation(name);
    auto f = [&](const std::vector<ag::Var>& v) {
      return weighted_sum(fn::activation(v[0], a), w);
    };
    INFO(name);
    std::string r = gradcheck(f, {x}, {true});
    INFO(r);
    CHECK(r.empty());
  }
}

TEST_CASE("activation backward kernels accumulate", "[basic][dense]") {
  const double y[2] = {0.25, 0.75};  // softmax outputs of one row
  const double g[2] = {1, 0};
  double d_x[2] = {1, 1};
  ref::softmax_backward<double>(y, g, d_x, 1, 2);
  // y * (g - <g,y>) = (0.25 * 0.75, 0.75 * -0.25)
  CHECK(d_x[0] == Approx(1 + 0.1875));
  CHECK(d_x[1] == Approx(1 - 0.1875));
  double r[2] = {2, 2};
  const double ry[2] = {0, 3};
  ref::relu_backward<double>(ry, g + 0, r, 2);  // g = (1, 0): only the positive output passes
  CHECK(r[0] == 2);
  CHECK(r[1] == 2);
}

TEST_CASE("parse_activation and activation_name", "[basic][dense]") {
  CHECK(fn::parse_activation("linear") == fn::Activation::kLinear);
  CHECK(fn::parse_activation("None") == fn::Activation::kLinear);
  CHECK(fn::parse_activation("none") == fn::Activation::kLinear);
  CHECK(fn::parse_activation("") == fn::Activation::kLinear);
  for (const char* name : {"linear", "relu", "sigmoid", "tanh", "softmax"})
    CHECK(std::string(fn::activation_name(fn::parse_activation(name))) == name);
  CHECK_THROWS_WITH(fn::parse_activation("gelu"),
                    Catch::Contains("gelu") && Catch::Contains("relu") &&
                        Catch::Contains("softmax") && Catch::Contains("sigmoid"));
}

TEST_CASE("Dense layer: shapes, parameters, activation, mask", "[basic][dense]") {
  DenseOptions o;
  o.units = 3;
  o.activation = fn::Activation::kRelu;
  Dense layer(o);
  CHECK(std::string(layer.type()) == "Dense");
  CHECK(layer.output_shape({5}) == FeatureShape{3});
  CHECK(layer.output_shape({-1, 5}) == FeatureShape{-1, 3});
  CHECK_THROWS_WITH(layer.output_shape({}), Catch::Contains("(None)"));
  CHECK_THROWS_WITH(layer.output_shape({2, 3, 5}), Catch::Contains("(None, 2, 3, 5)"));
  CHECK_THROWS_AS(layer.output_shape({-1}), std::invalid_argument);

  InitRng rng(1, 2);
  layer.build({-1, 5}, DType::kFloat64, rng);
  REQUIRE(layer.params().size() == 2);
  CHECK(layer.params()[0].name == "kernel");
  CHECK(layer.params()[0].var.shape() == Shape{5, 3});
  CHECK(layer.params()[1].name == "bias");
  CHECK(layer.params()[1].var.shape() == Shape{3});
  CHECK(layer.param_count() == 18);
  for (int64_t i = 0; i < 3; ++i) CHECK(layer.params()[1].var.value().item(i) == 0.0);  // zeros
  const double limit = std::sqrt(6.0 / (5 + 3));  // glorot_uniform
  for (int64_t i = 0; i < 15; ++i) CHECK(std::fabs(layer.params()[0].var.value().item(i)) <= limit);

  Tensor x = random_uniform(Shape{2, 4, 5}, DType::kFloat64, -1, 1, 51);
  Tensor mask = Tensor::full(Shape{2, 4}, DType::kUInt8, 1.0);
  LayerIO out = layer.forward({ag::Var(x), mask}, RunContext{});
  REQUIRE(out.x.shape() == Shape{2, 4, 3});
  CHECK(out.mask.shares_storage(mask));
  Tensor expect =
      fn::activation(fn::dense(ag::Var(x), layer.params()[0].var, layer.params()[1].var),
                     fn::Activation::kRelu)
          .value();
  EMBER_EXPECT_CLOSE(out.x.value(), expect, kF64);
  for (int64_t i = 0; i < expect.numel(); ++i) CHECK(out.x.value().item(i) >= 0.0);
  // 2-D input: no mask leaves the layer.
  LayerIO out2 = layer.forward({ag::Var(x.reshape(Shape{8, 5})), Tensor()}, RunContext{});
  CHECK(out2.x.shape() == Shape{8, 3});
  CHECK_FALSE(out2.mask.defined());
}

TEST_CASE("Dense layer without bias, and bad options", "[basic][dense]") {
  DenseOptions o;
  o.units = 2;
  o.use_bias = false;
  o.activation = fn::Activation::kSigmoid;
  Dense layer(o);
  InitRng rng(3, 4);
  layer.build({4}, DType::kFloat32, rng);
  REQUIRE(layer.params().size() == 1);
  CHECK(layer.params()[0].name == "kernel");
  CHECK(layer.param_count() == 8);
  // The kernel's values do not depend on use_bias (separate sub-streams).
  o.use_bias = true;
  Dense with_bias(o);
  InitRng rng2(3, 4);
  with_bias.build({4}, DType::kFloat32, rng2);
  EMBER_EXPECT_CLOSE(with_bias.params()[0].var.value(), layer.params()[0].var.value(),
                     (test::Tolerance{0, 0}));

  o.units = 0;
  CHECK_THROWS_AS(Dense(o), std::invalid_argument);
  o.units = 2;
  o.kernel_initializer = "bogus";
  CHECK_THROWS_WITH(Dense(o), Catch::Contains("bogus"));
}

TEST_CASE("Activation layer", "[basic][dense]") {
  ActivationOptions o;
  o.activation = fn::Activation::kSoftmax;
  ActivationLayer layer(o);
  CHECK(std::string(layer.type()) == "Activation");
  CHECK(layer.output_shape({-1, 3}) == FeatureShape{-1, 3});
  Tensor x = Tensor::from<double>(Shape{1, 2}, {0, std::log(3.0)});
  Tensor mask = Tensor::full(Shape{1, 2}, DType::kUInt8, 1.0);
  LayerIO out = layer.forward({ag::Var(x), mask}, RunContext{});
  EMBER_EXPECT_CLOSE(out.x.value(), Tensor::from<double>(Shape{1, 2}, {0.25, 0.75}), kF64);
  CHECK(out.mask.shares_storage(mask));
}
