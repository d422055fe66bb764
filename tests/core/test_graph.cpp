// Autograd graph mechanics with tiny test-local ops: accumulation across consumers, multi-output
// nodes, a 20,000-deep chain (the iterative sort must not recurse) and a 200,000-deep one freed,
// no-grad mode, graph release.
#include <catch2/catch.hpp>

#include "engine/core/graph.h"
#include "tests/support/test_util.h"

using namespace ember;
using ag::Var;
using Catch::Matchers::Contains;
using ember::test::scale;

namespace {
// Splits x [2] into two scalars: a two-output node.
std::vector<Var> split2(const Var& x) {
  std::vector<Tensor> outs{Tensor::full({}, DType::kFloat64, x.value().item(0)),
                           Tensor::full({}, DType::kFloat64, x.value().item(1))};
  return ag::record("split2", {x}, outs, [](const auto& d_out, ag::GradInputs& d_in) {
    Tensor* dx = d_in.get(0);
    if (!dx) return;
    if (d_out[0]) dx->at<double>(0) += d_out[0]->item();
    if (d_out[1]) dx->at<double>(1) += d_out[1]->item();
  });
}

Var add(const Var& a, const Var& b) {
  Tensor out = a.value().clone();
  for (int64_t i = 0; i < out.numel(); ++i) out.at<double>(i) += b.value().item(i);
  return ag::record1("add", {a, b}, out, [](const auto& d_out, ag::GradInputs& d_in) {
    for (size_t k = 0; k < 2; ++k)
      if (Tensor* d = d_in.get(k))
        for (int64_t i = 0; i < d->numel(); ++i) d->at<double>(i) += d_out[0]->item(i);
  });
}
}  // namespace

TEST_CASE("gradients from several consumers add up", "[graph][cpu]") {
  Var x(Tensor::from<double>({}, {2.0}), true);
  Var y = add(scale(x, 3.0), scale(x, 5.0));  // dy/dx = 8
  y.backward();
  CHECK(x.grad().item() == 8.0);
  // Leaf gradients accumulate across backward() calls until zero_grad().
  Var y2 = scale(x, 2.0);
  y2.backward();
  CHECK(x.grad().item() == 10.0);
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("multi-output nodes route each output's gradient", "[graph][cpu]") {
  Var x(Tensor::from<double>({2}, {1.0, 4.0}), true);
  auto parts = split2(x);
  Var y = add(scale(parts[0], 3.0), scale(parts[1], -2.0));
  y.backward();
  CHECK(x.grad().item(0) == 3.0);
  CHECK(x.grad().item(1) == -2.0);
  // Only one output used: the other gets no gradient, and nothing breaks.
  Var z(Tensor::from<double>({2}, {1.0, 4.0}), true);
  Var w = scale(split2(z)[1], 7.0);
  w.backward();
  CHECK(z.grad().item(0) == 0.0);
  CHECK(z.grad().item(1) == 7.0);
}

TEST_CASE("a 20000-deep graph backpropagates without recursion", "[graph][cpu]") {
  Var x(Tensor::from<double>({}, {1.0}), true);
  Var h = x;
  const int depth = 20000;
  for (int i = 0; i < depth; ++i) h = scale(h, i % 2 ? 1.0 : -1.0);
  CHECK(ag::graph_size(h) == static_cast<size_t>(depth));
  h.backward();
  CHECK(x.grad().item() == 1.0);  // (-1)^10000
}

TEST_CASE("a 200000-deep graph is freed without recursion", "[graph][cpu]") {
  // Nodes destroyed inside one another needed a few hundred bytes of stack per level: a chain
  // this deep overflowed the 8 MiB main stack when its last Var went out of scope.
  Var x(Tensor::from<double>({}, {1.0}), true);
  {
    Var h = x;
    const int depth = 200000;
    for (int i = 0; i < depth; ++i) h = scale(h, 1.0);
    CHECK(ag::graph_size(h) == static_cast<size_t>(depth));
  }
  CHECK(x.impl().use_count() == 1);  // every node, and with it its hold on x, is gone
}

TEST_CASE("no-grad mode records nothing", "[graph][cpu]") {
  Var x(Tensor::from<double>({}, {2.0}), true);
  {
    ag::NoGradGuard guard;
    CHECK_FALSE(ag::grad_enabled());
    Var y = scale(x, 3.0);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
  }
  CHECK(ag::grad_enabled());
  Var c(Tensor::from<double>({}, {2.0}), false);
  CHECK_FALSE(scale(c, 2.0).requires_grad());
}

TEST_CASE("the graph is released after backward unless retained", "[graph][cpu]") {
  Var x(Tensor::from<double>({}, {2.0}), true);
  Var y = scale(x, 3.0);
  y.backward(/*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == 6.0);
  CHECK_THROWS_WITH(y.backward(), Contains("retain_graph"));
  Var s(Tensor::from<double>({2}, {1, 2}), true);
  CHECK_THROWS_WITH(scale(s, 1.0).backward(), Contains("scalar"));
}

TEST_CASE("gradcheck harness catches a wrong gradient", "[graph][cpu]") {
  // An op whose backward is deliberately off by a factor of 2 must fail the check.
  auto bad = [](const std::vector<Var>& in) {
    Var x = in[0];
    Tensor out = Tensor::full({}, DType::kFloat64, x.value().item() * x.value().item());
    return ag::record1("bad_square", {x}, out, [x](const auto& d_out, ag::GradInputs& d_in) {
      if (Tensor* d = d_in.get(0)) d->at<double>(0) += d_out[0]->item() * x.value().item();
    });
  };
  std::string report = test::gradcheck(bad, {Tensor::from<double>({}, {1.5})}, {true});
  CHECK_THAT(report, Contains("differ"));
  auto good = [](const std::vector<Var>& in) { return scale(in[0], 4.0); };
  CHECK(test::gradcheck(good, {Tensor::from<double>({}, {1.5})}, {true}).empty());
}
