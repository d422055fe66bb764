// Dropout and SpatialDropout1D: masks drawn from Philox (statistics, reproducibility, the
// per-(b,c) sharing over t), scaling, rate 0 / rate 1, float64 gradchecks in training, and the
// layers (identity at inference, offsets from (step, index), rate validation, shapes).
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/core/rng.h"
#include "kernels/dropout.h"
#include "layers/dropout.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;
using ember::test::gradcheck;
using ember::test::random_uniform;
using ember::test::weighted_sum;

TEST_CASE("dropout forward: kept values scaled by 1/(1-rate), matching dropout_keep",
          "[basic][dropout]") {
  const double rate = 0.5;
  const uint64_t seed = 42, offset = dropout_offset(3, 2, 0);
  Tensor x = random_uniform(Shape{4, 5}, DType::kFloat64, 0.5, 1.5, 1);
  ag::Var y = fn::dropout(ag::Var(x), rate, seed, offset);
  int kept = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const bool keep = dropout_keep(seed, offset, i, 0.5f);
    kept += keep;
    CHECK(y.value().item(i) == (keep ? x.item(i) * 2.0 : 0.0));
  }
  CHECK(kept > 0);  // the check above would be vacuous if everything were dropped
  CHECK(kept < 20);
}

TEST_CASE("dropout keep fraction and mean over 1e5 elements", "[basic][dropout]") {
  const int64_t n = 100000;
  for (double rate : {0.1, 0.3, 0.5, 0.8}) {
    Tensor ones = Tensor::full(Shape{n}, DType::kFloat32, 1.0);
    ag::Var y = fn::dropout(ag::Var(ones), rate, 7, dropout_offset(1, 1, 0));
    int64_t kept = 0;
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      kept += y.value().item(i) != 0.0;
      sum += y.value().item(i);
    }
    // Binomial sd of the fraction is sqrt(rate(1-rate)/n) <= 0.0016; allow ~6 sd.
    INFO("rate " << rate);
    CHECK(std::fabs(double(kept) / n - (1.0 - rate)) < 0.01);
    CHECK(std::fabs(sum / n - 1.0) < 0.01 / (1.0 - rate));  // inverted scaling keeps the mean
  }
}

TEST_CASE("dropout masks depend only on (seed, offset, index)", "[basic][dropout]") {
  Tensor x = random_uniform(Shape{8, 9, 10}, DType::kFloat32, -1, 1, 2);
  const double rate = 0.3;
  auto run = [&](uint64_t seed, uint64_t offset) {
    return fn::dropout(ag::Var(x), rate, seed, offset).value();
  };
  CHECK(test::same_bytes(run(5, 100), run(5, 100)));
  CHECK_FALSE(test::same_bytes(run(5, 100), run(5, 101)));
  CHECK_FALSE(test::same_bytes(run(5, 100), run(6, 100)));
  // Same mask in float64: index-based draws do not depend on the dtype.
  Tensor y64 = fn::dropout(ag::Var(x.to(DType::kFloat64)), rate, 5, 100).value();
  Tensor y32 = run(5, 100);
  for (int64_t i = 0; i < x.numel(); ++i) CHECK((y64.item(i) == 0.0) == (y32.item(i) == 0.0));
}

TEST_CASE("dropout rate 0 is the identity, rate 1 gives zeros", "[basic][dropout]") {
  Tensor x = random_uniform(Shape{3, 7}, DType::kFloat64, -2, 2, 3);
  for (bool spatial : {false, true}) {
    Tensor x3 = x.reshape(Shape{3, 7, 1});
    ag::Var xv(spatial ? x3 : x, true);
    auto op = [&](double rate) {
      return spatial ? fn::spatial_dropout1d(xv, rate, 9, 1) : fn::dropout(xv, rate, 9, 1);
    };
    EMBER_EXPECT_CLOSE(op(0.0).value(), xv.value(), (test::Tolerance{0, 0}));
    ag::Var zero = op(1.0);
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(zero.value().item(i) == 0.0);
    zero.backward(Tensor::full(zero.shape(), DType::kFloat64, 1.0));
    for (int64_t i = 0; i < x.numel(); ++i) CHECK(xv.grad().item(i) == 0.0);  // no NaN
  }
  CHECK_THROWS_AS(fn::dropout(ag::Var(x), 1.5, 0, 0), std::invalid_argument);
  CHECK_THROWS_AS(fn::dropout(ag::Var(x), -0.1, 0, 0), std::invalid_argument);
}

TEST_CASE("dropout backward multiplies by the same mask and accumulates", "[basic][dropout]") {
  const double rate = 0.4;
  Tensor ones = Tensor::full(Shape{200}, DType::kFloat64, 1.0);
  ag::Var x(ones, true);
  ag::Var y = fn::dropout(x, rate, 11, 22);
  y.backward(Tensor::full(Shape{200}, DType::kFloat64, 1.0));
  // With x = 1 and d_y = 1, d_x equals y elementwise (mask * scale).
  EMBER_EXPECT_CLOSE(x.grad(), y.value(), test::tolerance(DType::kFloat64));
  // Kernel-level accumulation: d_x starts at 1.
  std::vector<double> d_x(200, 1.0);
  ref::dropout_backward<double>(ones.data<double>(), d_x.data(), 200, rate, 11, 22);
  for (int i = 0; i < 200; ++i) CHECK(d_x[i] == 1.0 + y.value().item(i));
}

TEST_CASE("spatial dropout: one draw per (b, c), identical across t", "[basic][dropout]") {
  const int64_t batch = 6, steps = 11, channels = 13;
  const double rate = 0.3;
  const uint64_t seed = 1234, offset = dropout_offset(5, 1, 0);
  Tensor ones = Tensor::full(Shape{batch, steps, channels}, DType::kFloat32, 1.0);
  Tensor y = fn::spatial_dropout1d(ag::Var(ones), rate, seed, offset).value();
  const float scale = static_cast<float>(1.0 / (1.0 - rate));
  int64_t kept = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < channels; ++c) {
      const bool keep = dropout_keep(seed, offset, b * channels + c, 0.3f);
      kept += keep;
      for (int64_t t = 0; t < steps; ++t)
        CHECK(y.item((b * steps + t) * channels + c) == (keep ? scale : 0.0f));
    }
  CHECK(kept > 0);
  CHECK(kept < batch * channels);
}

TEST_CASE("spatial dropout keep fraction over 1e5 (b, c) draws", "[basic][dropout]") {
  const int64_t batch = 1000, steps = 2, channels = 100;
  Tensor ones = Tensor::full(Shape{batch, steps, channels}, DType::kFloat32, 1.0);
  Tensor y = fn::spatial_dropout1d(ag::Var(ones), 0.25, 3, 4).value();
  int64_t kept = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < channels; ++c) {
      const bool k0 = y.item(b * steps * channels + c) != 0.0;
      const bool k1 = y.item((b * steps + 1) * channels + c) != 0.0;
      CHECK(k0 == k1);
      kept += k0;
    }
  CHECK(std::fabs(double(kept) / (batch * channels) - 0.75) < 0.01);
}

TEST_CASE("dropout and spatial dropout gradcheck at rate 0.3", "[basic][dropout]") {
  Tensor x = random_uniform(Shape{3, 4, 5}, DType::kFloat64, -1, 1, 21);
  Tensor w = random_uniform(Shape{3, 4, 5}, DType::kFloat64, -1, 1, 22);
  auto f_drop = [&](const std::vector<ag::Var>& v) {
    return weighted_sum(fn::dropout(v[0], 0.3, 77, dropout_offset(2, 3, 0)), w);
  };
  auto f_spatial = [&](const std::vector<ag::Var>& v) {
    return weighted_sum(fn::spatial_dropout1d(v[0], 0.3, 77, dropout_offset(2, 3, 0)), w);
  };
  std::string r1 = gradcheck(f_drop, {x}, {true});
  INFO(r1);
  CHECK(r1.empty());
  std::string r2 = gradcheck(f_spatial, {x}, {true});
  INFO(r2);
  CHECK(r2.empty());
}

TEST_CASE("spatial dropout edge shapes: B=1, T=1, odd C; rejects non-3-D", "[basic][dropout]") {
  Tensor x = random_uniform(Shape{1, 1, 7}, DType::kFloat64, 1, 2, 4);
  Tensor y = fn::spatial_dropout1d(ag::Var(x), 0.5, 1, 2).value();
  for (int64_t c = 0; c < 7; ++c)
    CHECK(y.item(c) == (dropout_keep(1, 2, c, 0.5f) ? 2.0 * x.item(c) : 0.0));
  CHECK_THROWS_AS(fn::spatial_dropout1d(ag::Var(x.reshape(Shape{1, 7})), 0.5, 1, 2),
                  std::invalid_argument);
}

TEST_CASE("Dropout layer: identity at inference, seeded by (step, index) in training",
          "[basic][dropout]") {
  DropoutOptions o;
  o.rate = 0.5;
  Dropout layer(o);
  layer.index = 3;
  CHECK(std::string(layer.type()) == "Dropout");
  CHECK(layer.output_shape({5}) == FeatureShape{5});
  CHECK(layer.output_shape({-1, 5}) == FeatureShape{-1, 5});
  Tensor x = random_uniform(Shape{4, 6}, DType::kFloat32, -1, 1, 5);
  Tensor mask = Tensor::full(Shape{4, 6}, DType::kUInt8, 1.0);
  LayerIO in{ag::Var(x, true), mask};

  LayerIO inf = layer.forward(in, RunContext{false, 99, 7});
  CHECK(inf.x.impl() == in.x.impl());  // no copy, no node
  CHECK(inf.mask.shares_storage(mask));

  RunContext ctx{true, 99, 7};
  LayerIO tr = layer.forward(in, ctx);
  CHECK(tr.mask.shares_storage(mask));
  Tensor expect = fn::dropout(in.x, 0.5, 99, dropout_offset(7, 3, 0)).value();
  CHECK(test::same_bytes(tr.x.value(), expect));
  ctx.step = 8;  // a new step draws a new mask
  CHECK_FALSE(test::same_bytes(layer.forward(in, ctx).x.value(), expect));

  o.rate = 0.0;
  Dropout off(o);
  CHECK(off.forward(in, RunContext{true, 1, 1}).x.impl() == in.x.impl());
}

TEST_CASE("SpatialDropout1D layer: shapes, identity, training mask", "[basic][dropout]") {
  DropoutOptions o;
  o.rate = 0.2;
  SpatialDropout1D layer(o);
  layer.index = 1;
  CHECK(std::string(layer.type()) == "SpatialDropout1D");
  CHECK(layer.output_shape({-1, 8}) == FeatureShape{-1, 8});
  CHECK_THROWS_WITH(layer.output_shape({8}), Catch::Contains("(None, 8)"));
  CHECK_THROWS_AS(layer.output_shape({2, 3, 4}), std::invalid_argument);
  Tensor x = random_uniform(Shape{2, 5, 8}, DType::kFloat32, -1, 1, 6);
  LayerIO in{ag::Var(x), Tensor()};
  CHECK(layer.forward(in, RunContext{false, 3, 0}).x.impl() == in.x.impl());
  LayerIO tr = layer.forward(in, RunContext{true, 3, 4});
  Tensor expect = fn::spatial_dropout1d(in.x, 0.2, 3, dropout_offset(4, 1, 0)).value();
  CHECK(test::same_bytes(tr.x.value(), expect));
  CHECK_THROWS_AS(
      layer.forward({ag::Var(x.reshape(Shape{10, 8})), Tensor()}, RunContext{true, 3, 4}),
      std::invalid_argument);
}

TEST_CASE("dropout layers reject rates outside [0, 1)", "[basic][dropout]") {
  for (double bad : {1.0, 1.5, -0.1}) {
    DropoutOptions o;
    o.rate = bad;
    CHECK_THROWS_WITH(Dropout(o), Catch::Contains("[0, 1)"));
    CHECK_THROWS_WITH(SpatialDropout1D(o), Catch::Contains("[0, 1)"));
  }
}
