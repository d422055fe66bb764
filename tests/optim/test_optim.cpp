// Optimizers against updates worked out by hand in the test (SGD plain, momentum, nesterov;
// Adam with default and custom betas, including the exact t=1 step), gradient clipping (global
// and per parameter), params without gradients, the factory, and a state()/load_state round
// trip that must continue bit-identically.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "optim/adam.h"
#include "optim/clip.h"
#include "optim/optimizer.h"
#include "optim/sgd.h"

using namespace ember;

namespace {

ag::Var param(std::initializer_list<double> v) {
  return ag::Var(Tensor::from<double>({static_cast<int64_t>(v.size())}, v), true);
}

void set_grad(ag::Var& p, std::initializer_list<double> g) {
  p.mutable_grad() = Tensor::from<double>(p.shape(), g);
}

OptimizerConfig sgd_config(double lr, double momentum = 0.0, bool nesterov = false) {
  OptimizerConfig c;
  c.name = OptimizerKind::kSgd;
  c.learning_rate = lr;
  c.momentum = momentum;
  c.nesterov = nesterov;
  return c;
}

OptimizerConfig adam_config(double lr, double b1 = 0.9, double b2 = 0.999, double eps = 1e-7) {
  OptimizerConfig c;
  c.name = OptimizerKind::kAdam;
  c.learning_rate = lr;
  c.beta_1 = b1;
  c.beta_2 = b2;
  c.epsilon = eps;
  return c;
}

}  // namespace

TEST_CASE("sgd: plain, momentum and nesterov by hand", "[optim][cpu]") {
  // Gradients for three steps; the same for every variant.
  const double g[3] = {0.5, -1.0, 2.0};
  SECTION("momentum 0: p -= lr g") {
    ag::Var p = param({1.0});
    Sgd opt(sgd_config(0.1));
    const double want[3] = {1.0 - 0.05, 0.95 + 0.1, 1.05 - 0.2};
    for (int s = 0; s < 3; ++s) {
      set_grad(p, {g[s]});
      opt.step({&p});
      CHECK(p.value().item() == Approx(want[s]).epsilon(1e-15));
    }
    CHECK(opt.iterations() == 3);
    CHECK(opt.state().size() == 2);  // no velocity slot without momentum, as in Keras
  }
  SECTION("momentum 0.9: v = 0.9 v - lr g; p += v") {
    ag::Var p = param({1.0});
    Sgd opt(sgd_config(0.1, 0.9));
    // v1 = -0.05, p1 = 0.95; v2 = -0.045 + 0.1 = 0.055, p2 = 1.005;
    // v3 = 0.0495 - 0.2 = -0.1505, p3 = 0.8545
    const double want[3] = {0.95, 1.005, 0.8545};
    for (int s = 0; s < 3; ++s) {
      set_grad(p, {g[s]});
      opt.step({&p});
      CHECK(p.value().item() == Approx(want[s]).epsilon(1e-14));
    }
  }
  SECTION("nesterov: p += 0.9 v_new - lr g") {
    ag::Var p = param({1.0});
    Sgd opt(sgd_config(0.1, 0.9, true));
    // v1 = -0.05, p1 = 1 - 0.045 - 0.05 = 0.905
    // v2 = 0.055, p2 = 0.905 + 0.0495 + 0.1 = 1.0545
    // v3 = -0.1505, p3 = 1.0545 - 0.13545 - 0.2 = 0.71905
    const double want[3] = {0.905, 1.0545, 0.71905};
    for (int s = 0; s < 3; ++s) {
      set_grad(p, {g[s]});
      opt.step({&p});
      CHECK(p.value().item() == Approx(want[s]).epsilon(1e-14));
    }
  }
}

TEST_CASE("adam: Keras updates by hand", "[optim][cpu]") {
  SECTION("t = 1: p -= lr sqrt(1-b2) g / (sqrt(1-b2) |g| + eps), about lr sign(g)") {
    ag::Var p = param({1.0, -2.0, 0.5});
    Adam opt(adam_config(0.01));
    set_grad(p, {0.3, -4.0, 1e-9});
    opt.step({&p});
    const double s = std::sqrt(1 - 0.999);
    const double gs[3] = {0.3, -4.0, 1e-9}, p0[3] = {1.0, -2.0, 0.5};
    for (int i = 0; i < 3; ++i) {
      const double want = p0[i] - 0.01 * s * gs[i] / (s * std::fabs(gs[i]) + 1e-7);
      CHECK(p.value().item(i) == Approx(want).epsilon(1e-14));
    }
    CHECK(p.value().item(0) == Approx(1.0 - 0.01).epsilon(1e-5));  // ~ lr sign(g)
    CHECK(p.value().item(2) > 0.5 - 0.01 * 0.01);                  // a tiny g is damped by eps
  }
  SECTION("three steps with the defaults and with custom betas") {
    struct Case {
      double lr, b1, b2, eps;
    };
    for (const Case c : {Case{1e-3, 0.9, 0.999, 1e-7}, Case{0.05, 0.5, 0.8, 1e-3}}) {
      INFO("b1 " << c.b1 << " b2 " << c.b2);
      ag::Var p = param({0.7});
      Adam opt(adam_config(c.lr, c.b1, c.b2, c.eps));
      const double g[3] = {0.2, -0.6, 0.1};
      double want = 0.7, m = 0, v = 0;
      for (int t = 1; t <= 3; ++t) {
        m = c.b1 * m + (1 - c.b1) * g[t - 1];
        v = c.b2 * v + (1 - c.b2) * g[t - 1] * g[t - 1];
        const double alpha = c.lr * std::sqrt(1 - std::pow(c.b2, t)) / (1 - std::pow(c.b1, t));
        want -= alpha * m / (std::sqrt(v) + c.eps);
        set_grad(p, {g[t - 1]});
        opt.step({&p});
        CHECK(p.value().item() == Approx(want).epsilon(1e-13));
      }
    }
  }
  SECTION("concrete numbers: lr 0.1, b1 0.5, b2 0.5, eps 0, g = 1 then 3") {
    ag::Var p = param({0.0});
    Adam opt(adam_config(0.1, 0.5, 0.5, 0.0));
    set_grad(p, {1.0});
    opt.step({&p});
    // m = 0.5, v = 0.5, alpha = 0.1 sqrt(0.5) / 0.5: step = alpha m / sqrt(v) = 0.1
    CHECK(p.value().item() == Approx(-0.1).epsilon(1e-15));
    set_grad(p, {3.0});
    opt.step({&p});
    // m = 0.25 + 1.5 = 1.75, v = 0.25 + 4.5 = 4.75, alpha = 0.1 sqrt(0.75) / 0.75
    CHECK(p.value().item() ==
          Approx(-0.1 - 0.1 * std::sqrt(0.75) / 0.75 * 1.75 / std::sqrt(4.75)).epsilon(1e-15));
  }
  SECTION("float32 params update in float32") {
    ag::Var p(Tensor::from<float>({2}, {1.f, 2.f}), true);
    p.mutable_grad() = Tensor::from<float>({2}, {0.5f, -0.5f});
    Adam opt(adam_config(0.001));
    opt.step({&p});
    CHECK(p.value().dtype() == DType::kFloat32);
    CHECK(p.value().item(0) == Approx(0.999).epsilon(1e-6));
    CHECK(p.value().item(1) == Approx(2.001).epsilon(1e-6));
  }
}

TEST_CASE("clipping: global norm and per-parameter norm", "[optim][cpu]") {
  SECTION("global norm of [3, 4] is 5; clipped to 1 gives [0.6, 0.8]") {
    ag::Var a = param({0.0}), b = param({0.0}), none = param({0.0});
    set_grad(a, {3.0});
    set_grad(b, {4.0});
    CHECK(global_norm({&a, &b, &none}) == Approx(5.0).epsilon(1e-15));
    CHECK(clip_by_global_norm({&a, &b, &none}, 1.0) == Approx(5.0).epsilon(1e-15));
    CHECK(a.grad().item() == Approx(0.6).epsilon(1e-15));
    CHECK(b.grad().item() == Approx(0.8).epsilon(1e-15));
    CHECK_FALSE(none.grad().defined());
    // Below the threshold nothing changes.
    CHECK(clip_by_global_norm({&a, &b}, 2.0) == Approx(1.0).epsilon(1e-15));
    CHECK(a.grad().item() == Approx(0.6).epsilon(1e-15));
  }
  SECTION("clip_by_norm scales only tensors above the norm") {
    Tensor g = Tensor::from<double>({2}, {3.0, 4.0});
    clip_by_norm(g, 1.0);
    CHECK(g.item(0) == Approx(0.6).epsilon(1e-15));
    CHECK(g.item(1) == Approx(0.8).epsilon(1e-15));
    Tensor small = Tensor::from<float>({2}, {0.3f, 0.4f});
    clip_by_norm(small, 1.0);
    CHECK(small.item(0) == Approx(0.3).epsilon(1e-7));
    CHECK_THROWS_AS(clip_by_norm(small, 0.0), std::invalid_argument);
  }
  SECTION("a non-finite global norm poisons every gradient, as TensorFlow does") {
    ag::Var a = param({0.0}), b = param({0.0});
    set_grad(a, {INFINITY});
    set_grad(b, {1.0});
    clip_by_global_norm({&a, &b}, 1.0);
    CHECK(std::isnan(b.grad().item()));
  }
  SECTION("optimizer clipnorm clips each gradient before the update") {
    OptimizerConfig c = sgd_config(1.0);
    c.clipnorm = 1.0;
    ag::Var a = param({0.0, 0.0}), b = param({0.0});
    set_grad(a, {3.0, 4.0});
    set_grad(b, {0.5});
    make_optimizer(c)->step({&a, &b});
    CHECK(a.value().item(0) == Approx(-0.6).epsilon(1e-15));
    CHECK(a.value().item(1) == Approx(-0.8).epsilon(1e-15));
    CHECK(b.value().item() == Approx(-0.5).epsilon(1e-15));  // under the norm: unclipped
  }
  SECTION("optimizer global_clipnorm clips all gradients together") {
    OptimizerConfig c = sgd_config(1.0);
    c.global_clipnorm = 1.0;
    ag::Var a = param({0.0}), b = param({0.0});
    set_grad(a, {3.0});
    set_grad(b, {4.0});
    make_optimizer(c)->step({&a, &b});
    CHECK(a.value().item() == Approx(-0.6).epsilon(1e-15));
    CHECK(b.value().item() == Approx(-0.8).epsilon(1e-15));
    c.clipnorm = 1.0;  // both at once is refused, as Keras does
    CHECK_THROWS_WITH(make_optimizer(c), Catch::Contains("not both"));
  }
}

TEST_CASE("optimizers leave params without gradients alone", "[optim][cpu]") {
  for (const OptimizerConfig& c : {sgd_config(0.1, 0.9), adam_config(0.1)}) {
    INFO(optimizer_name(c.name));
    std::unique_ptr<Optimizer> opt = make_optimizer(c);
    ag::Var with = param({1.0, 2.0}), without = param({3.0, 4.0});
    set_grad(with, {1.0, 1.0});
    opt->step({&without, &with});
    CHECK(without.value().item(0) == 3.0);
    CHECK(without.value().item(1) == 4.0);
    CHECK(with.value().item(0) < 1.0);
    // No slot was created for the param without a gradient (index 0).
    for (const auto& [key, t] : opt->state()) CHECK(key.back() != '0');
    // Its slot starts from zero when a gradient shows up later: first step of that param.
    set_grad(without, {1.0, 1.0});
    const double before = without.value().item(0);
    opt->step({&without, &with});
    if (c.name == OptimizerKind::kSgd)
      CHECK(without.value().item(0) == Approx(before - 0.1).epsilon(1e-15));
    else
      CHECK(without.value().item(0) < before);
  }
}

TEST_CASE("optimizer state round trip continues identically", "[optim][cpu]") {
  for (const OptimizerConfig& c : {sgd_config(0.05, 0.9, true), adam_config(0.02, 0.8, 0.9)}) {
    INFO(optimizer_name(c.name));
    auto set_step_grad = [](ag::Var& v, int s) { set_grad(v, {0.1 * s, -0.2, 0.3 / s}); };
    std::unique_ptr<Optimizer> a = make_optimizer(c);
    ag::Var pa = param({1.0, 2.0, 3.0}), qa = param({-1.0});
    for (int s = 1; s <= 3; ++s) {
      set_step_grad(pa, s);
      set_grad(qa, {0.5});
      a->step({&pa, &qa});
    }
    a->set_learning_rate(0.01);  // a ReduceLROnPlateau change must survive the resume
    const Optimizer::NamedTensors saved = a->state();
    ag::Var pb(pa.value().clone(), true), qb(qa.value().clone(), true);
    std::unique_ptr<Optimizer> b = make_optimizer(c);
    b->load_state(saved);
    CHECK(b->iterations() == 3);
    CHECK(b->learning_rate() == 0.01);
    for (int s = 4; s <= 6; ++s) {
      set_step_grad(pa, s);
      set_grad(qa, {0.5});
      set_step_grad(pb, s);
      set_grad(qb, {0.5});
      a->step({&pa, &qa});
      b->step({&pb, &qb});
    }
    for (int i = 0; i < 3; ++i) CHECK(pa.value().item(i) == pb.value().item(i));
    CHECK(qa.value().item() == qb.value().item());
    // The saved copies did not move with the optimizer.
    CHECK(saved[0].second.item() == 3.0);
  }
}

TEST_CASE("optimizer state: bad names and shapes throw", "[optim][cpu]") {
  std::unique_ptr<Optimizer> adam = make_optimizer(adam_config(0.1));
  CHECK_THROWS_WITH(adam->load_state({{"sgd/momentum/0", Tensor::zeros({2}, DType::kFloat64)}}),
                    Catch::Contains("sgd/momentum/0"));
  CHECK_THROWS_AS(adam->load_state({{"adam/m/x", Tensor::zeros({2}, DType::kFloat64)}}),
                  std::invalid_argument);
  adam->load_state({{"adam/m/0", Tensor::zeros({3}, DType::kFloat64)}});
  ag::Var p = param({1.0, 2.0});
  set_grad(p, {1.0, 1.0});
  CHECK_THROWS_WITH(adam->step({&p}), Catch::Contains("adam/m/0") && Catch::Contains("[3]"));
}

TEST_CASE("make_optimizer: names, Keras default learning rates, errors", "[optim][cpu]") {
  OptimizerConfig c;
  CHECK(std::string(make_optimizer(c)->name()) == "adam");
  CHECK(make_optimizer(c)->learning_rate() == 1e-3);
  c.name = OptimizerKind::kSgd;
  CHECK(std::string(make_optimizer(c)->name()) == "sgd");
  CHECK(make_optimizer(c)->learning_rate() == 0.01);
  c.learning_rate = 0.5;
  CHECK(make_optimizer(c)->learning_rate() == 0.5);
  // Each optimizer calls itself by the config's name for it.
  CHECK(std::string(optimizer_name(OptimizerKind::kAdam)) == "adam");
  CHECK(std::string(optimizer_name(OptimizerKind::kSgd)) == "sgd");
  CHECK_THROWS_AS(make_optimizer(sgd_config(0.1, 1.5)), std::invalid_argument);
  CHECK_THROWS_AS(make_optimizer(adam_config(0.1, 1.0)), std::invalid_argument);
  std::unique_ptr<Optimizer> o = make_optimizer(sgd_config(0.1));
  CHECK_THROWS_AS(o->set_learning_rate(-1.0), std::invalid_argument);
  ag::Var p = param({1.0, 2.0});
  p.mutable_grad() = Tensor::from<double>({1}, {1.0});
  CHECK_THROWS_WITH(o->step({&p}), Catch::Contains("[2]") && Catch::Contains("[1]"));
}
