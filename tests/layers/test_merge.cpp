// fn::merge (Bidirectional's merge_mode): hand-computed forwards for concat, sum, mul and ave,
// float64 gradchecks of all four, concat with different widths, merge(x, x), an input that
// needs no gradient, kernel accumulation, and shape / mode errors.
#include <catch2/catch.hpp>

#include "kernels/merge.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;

namespace {
const test::Tolerance kF64 = test::tolerance(DType::kFloat64);
}

TEST_CASE("merge forward, all modes (hand-computed)", "[basic][merge]") {
  Tensor a = Tensor::from<double>(Shape{2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from<double>(Shape{2, 2}, {10, 20, 30, 40});
  auto run = [&](const char* mode) {
    return fn::merge(ag::Var(a), ag::Var(b), ember::parse_merge_mode(mode)).value();
  };
  EMBER_EXPECT_CLOSE(run("concat"), Tensor::from<double>(Shape{2, 4}, {1, 2, 10, 20, 3, 4, 30, 40}),
                     kF64);
  EMBER_EXPECT_CLOSE(run("sum"), Tensor::from<double>(Shape{2, 2}, {11, 22, 33, 44}), kF64);
  EMBER_EXPECT_CLOSE(run("mul"), Tensor::from<double>(Shape{2, 2}, {10, 40, 90, 160}), kF64);
  EMBER_EXPECT_CLOSE(run("ave"), Tensor::from<double>(Shape{2, 2}, {5.5, 11, 16.5, 22}), kF64);
}

TEST_CASE("merge concat on the last axis of [B,T,H] with different widths", "[basic][merge]") {
  Tensor a = Tensor::from<float>(Shape{1, 2, 1}, {1, 2});
  Tensor b = Tensor::from<float>(Shape{1, 2, 2}, {3, 4, 5, 6});
  ag::Var av(a, true), bv(b, true);
  ag::Var y = fn::merge(av, bv, ember::MergeMode::kConcat);
  EMBER_EXPECT_CLOSE(y.value(), Tensor::from<float>(Shape{1, 2, 3}, {1, 3, 4, 2, 5, 6}),
                     test::tolerance(DType::kFloat32));
  y.backward(Tensor::from<float>(Shape{1, 2, 3}, {10, 20, 30, 40, 50, 60}));
  EMBER_EXPECT_CLOSE(av.grad(), Tensor::from<float>(Shape{1, 2, 1}, {10, 40}),
                     test::tolerance(DType::kFloat32));
  EMBER_EXPECT_CLOSE(bv.grad(), Tensor::from<float>(Shape{1, 2, 2}, {20, 30, 50, 60}),
                     test::tolerance(DType::kFloat32));
}

TEST_CASE("merge gradcheck, all four modes", "[basic][merge]") {
  Tensor a = test::random_uniform(Shape{2, 3, 4}, DType::kFloat64, -1, 1, 71);
  Tensor b = test::random_uniform(Shape{2, 3, 4}, DType::kFloat64, -1, 1, 72);
  for (const char* mode : {"concat", "sum", "mul", "ave"}) {
    const bool concat = std::string(mode) == "concat";
    Tensor w =
        test::random_uniform(concat ? Shape{2, 3, 8} : Shape{2, 3, 4}, DType::kFloat64, -1, 1, 73);
    auto f = [&](const std::vector<ag::Var>& v) {
      return test::weighted_sum(fn::merge(v[0], v[1], ember::parse_merge_mode(mode)), w);
    };
    INFO(mode);
    std::string r = test::gradcheck(f, {a, b}, {true, true});
    INFO(r);
    CHECK(r.empty());
  }
}

TEST_CASE("merge of a value with itself, and with one constant input", "[basic][merge]") {
  Tensor x = Tensor::from<double>(Shape{3}, {1, -2, 3});
  ag::Var xv(x, true);
  fn::merge(xv, xv, ember::MergeMode::kMul).backward(Tensor::full(Shape{3}, DType::kFloat64, 1.0));
  EMBER_EXPECT_CLOSE(xv.grad(), Tensor::from<double>(Shape{3}, {2, -4, 6}), kF64);  // d(x^2)
  ag::Var xc(x, true);
  fn::merge(xc, xc, ember::MergeMode::kConcat)
      .backward(Tensor::full(Shape{6}, DType::kFloat64, 1.0));
  EMBER_EXPECT_CLOSE(xc.grad(), Tensor::from<double>(Shape{3}, {2, 2, 2}), kF64);
  // Only the input that needs a gradient gets one.
  ag::Var xa(x, true), xb(x.clone(), false);
  fn::merge(xa, xb, ember::MergeMode::kAve).backward(Tensor::full(Shape{3}, DType::kFloat64, 2.0));
  EMBER_EXPECT_CLOSE(xa.grad(), Tensor::from<double>(Shape{3}, {1, 1, 1}), kF64);
  CHECK_FALSE(xb.grad().defined());
}

TEST_CASE("merge kernels accumulate", "[basic][merge]") {
  const double d_y[3] = {1, 2, 3};  // [1, 1+2]
  double d_a[1] = {10}, d_b[2] = {10, 10};
  ref::merge_concat_backward<double>(d_y, d_a, d_b, 1, 1, 2);
  CHECK(d_a[0] == 11);
  CHECK(d_b[0] == 12);
  CHECK(d_b[1] == 13);
  const double a[3] = {1, 2, 3}, b[3] = {4, 5, 6};
  double g[3] = {1, 1, 1};
  ref::merge_elementwise_backward<double>(MergeMode::kMul, a, b, d_y, g, nullptr, 3);
  CHECK(g[0] == 5);   // 1 + 1*4
  CHECK(g[1] == 11);  // 1 + 2*5
  CHECK(g[2] == 19);  // 1 + 3*6
}

TEST_CASE("merge rejects bad modes and shapes", "[basic][merge]") {
  ag::Var a(Tensor::zeros(Shape{2, 3}, DType::kFloat64));
  ag::Var b(Tensor::zeros(Shape{2, 4}, DType::kFloat64));
  ag::Var c(Tensor::zeros(Shape{3, 3}, DType::kFloat64));
  CHECK(fn::merge(a, b, ember::MergeMode::kConcat).shape() == Shape{2, 7});
  CHECK_THROWS_WITH(fn::merge(a, b, ember::MergeMode::kSum),
                    Catch::Contains("[2, 3]") && Catch::Contains("[2, 4]"));
  CHECK_THROWS_AS(fn::merge(a, c, ember::MergeMode::kConcat), std::invalid_argument);
  CHECK_THROWS_WITH(ember::parse_merge_mode("max"),
                    Catch::Contains("max") && Catch::Contains("concat"));
  CHECK_THROWS_AS(
      fn::merge(a, ag::Var(Tensor::zeros(Shape{2, 3}, DType::kFloat32)), ember::MergeMode::kSum),
      std::invalid_argument);
}
