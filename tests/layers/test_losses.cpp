// Losses and accuracy (layers/fn_losses.cpp over kernels/losses.h): hand-computed values,
// tf.keras's documented examples, float64 gradchecks for every variant (sample weights,
// per-step predictions, masks), from_logits against sigmoid/softmax + the probability form,
// zero gradients where clipping is active, label and shape errors, accuracy hand cases.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;
using ember::test::gradcheck;
using ember::test::random_uniform;

namespace {

constexpr double kEps = 1e-7;
const Tensor kNone;

double bce_ref(double p, double y) {
  const double pc = std::fmin(std::fmax(p, kEps), 1 - kEps);
  return -(y * std::log(pc + kEps) + (1 - y) * std::log(1 - pc + kEps));
}

Tensor f64(const Shape& s, std::initializer_list<double> v) {
  return Tensor::from<double>(s, v);
}

// Loss value and gradient with respect to pred.
struct LossGrad {
  double loss;
  Tensor grad;
};

template <class F>
LossGrad run(const Tensor& pred, F&& f) {
  ag::Var p(pred.clone(), true);
  ag::Var loss = f(p);
  loss.backward();
  return {loss.value().item(), p.grad()};
}

}  // namespace

TEST_CASE("binary_crossentropy: hand-computed values", "[loss][cpu]") {
  SECTION("p = 0.8, y = 1 gives -log(0.8 + 1e-7)") {
    LossGrad r = run(f64({1, 1}, {0.8}), [](const ag::Var& p) {
      return fn::binary_crossentropy(p, f64({1}, {1.0}), kNone, kNone, false);
    });
    CHECK(r.loss == Approx(-std::log(0.8 + 1e-7)).epsilon(1e-14));
    CHECK(r.grad.item(0) == Approx(-1.0 / (0.8 + 1e-7)).epsilon(1e-14));
  }
  SECTION("mean over samples, sample weights not divided by their sum") {
    const Tensor pred = f64({2, 1}, {0.8, 0.3});
    const Tensor y = f64({2}, {1.0, 0.0});
    LossGrad plain = run(
        pred, [&](const ag::Var& p) { return fn::binary_crossentropy(p, y, kNone, kNone, false); });
    CHECK(plain.loss == Approx((bce_ref(0.8, 1) + bce_ref(0.3, 0)) / 2).epsilon(1e-14));
    LossGrad weighted = run(pred, [&](const ag::Var& p) {
      return fn::binary_crossentropy(p, y, f64({2}, {2.0, 0.5}), kNone, false);
    });
    CHECK(weighted.loss ==
          Approx((2.0 * bce_ref(0.8, 1) + 0.5 * bce_ref(0.3, 0)) / 2).epsilon(1e-14));
    CHECK(weighted.grad.item(0) == Approx(2.0 / 2 * -1 / (0.8 + kEps)).epsilon(1e-14));
    CHECK(weighted.grad.item(1) == Approx(0.5 / 2 * 1 / (1 - 0.3 + kEps)).epsilon(1e-14));
  }
  SECTION("per-step predictions [B,T,1] with a mask: mean over unmasked steps") {
    const Tensor pred = f64({2, 3, 1}, {0.9, 0.6, 0.5, 0.2, 0.4, 0.7});
    const Tensor y = f64({2}, {1.0, 0.0});
    const Tensor mask = Tensor::from<uint8_t>({2, 3}, {1, 1, 0, 0, 1, 1});
    const Tensor w = f64({2}, {1.5, 3.0});
    LossGrad r =
        run(pred, [&](const ag::Var& p) { return fn::binary_crossentropy(p, y, w, mask, false); });
    const double want =
        (1.5 * (bce_ref(0.9, 1) + bce_ref(0.6, 1)) + 3.0 * (bce_ref(0.4, 0) + bce_ref(0.7, 0))) /
        4.0;
    CHECK(r.loss == Approx(want).epsilon(1e-14));
    CHECK(r.grad.item(2) == 0.0);  // masked steps get no gradient
    CHECK(r.grad.item(3) == 0.0);
    // Without a mask the mean is over all B*T steps.
    LossGrad all = run(
        pred, [&](const ag::Var& p) { return fn::binary_crossentropy(p, y, kNone, kNone, false); });
    double sum = 0;
    for (int i = 0; i < 6; ++i) sum += bce_ref(pred.item(i), i < 3 ? 1 : 0);
    CHECK(all.loss == Approx(sum / 6).epsilon(1e-14));
  }
  SECTION("everything masked: loss 0, gradient 0") {
    const Tensor mask = Tensor::from<uint8_t>({2, 1}, {0, 0});
    LossGrad r = run(f64({2, 1}, {0.3, 0.6}), [&](const ag::Var& p) {
      return fn::binary_crossentropy(p, f64({2}, {1, 0}), kNone, mask, false);
    });
    CHECK(r.loss == 0.0);
    CHECK(r.grad.item(0) == 0.0);
    CHECK(r.grad.item(1) == 0.0);
  }
}

TEST_CASE("binary_crossentropy: tf.keras's documented example in float32", "[loss][cpu]") {
  // tf.keras.losses.BinaryCrossentropy()([0., 0., 1., 1.], [1., 1., 1., 0.]) = 11.522857:
  // reproduces only with the "+ epsilon" inside the logs and 1 - 1e-7 rounded to float32.
  ag::Var p(Tensor::from<float>({4, 1}, {1.f, 1.f, 1.f, 0.f}));
  ag::Var loss = fn::binary_crossentropy(p, Tensor::from<float>({4}, {0.f, 0.f, 1.f, 1.f}), kNone,
                                         kNone, false);
  CHECK(loss.value().dtype() == DType::kFloat32);
  CHECK(loss.value().item() == Approx(11.522857).epsilon(2e-7));
}

TEST_CASE("binary_crossentropy: clipping stops the gradient", "[loss][cpu]") {
  const Tensor pred = f64({4, 1}, {0.0, 1.0, 1e-9, 1 - 1e-9});
  const Tensor y = f64({4}, {1.0, 0.0, 1.0, 1.0});
  LossGrad r = run(
      pred, [&](const ag::Var& p) { return fn::binary_crossentropy(p, y, kNone, kNone, false); });
  for (int i = 0; i < 4; ++i) CHECK(r.grad.item(i) == 0.0);
  const double want = (-std::log(2e-7) + -std::log(1 - (1 - kEps) + kEps) + -std::log(2e-7) +
                       -std::log(1 - kEps + kEps)) /
                      4;
  CHECK(r.loss == Approx(want).epsilon(1e-12));
  CHECK(std::isfinite(r.loss));
}

TEST_CASE("binary_crossentropy: from_logits matches sigmoid + probabilities", "[loss][cpu]") {
  const Tensor z = f64({3, 2, 1}, {-2.0, -0.3, 0.0, 0.7, 1.9, 3.0});
  const Tensor y = f64({3}, {1.0, 0.0, 1.0});
  const Tensor w = f64({3}, {0.5, 1.0, 2.0});
  const Tensor mask = Tensor::from<uint8_t>({3, 2}, {1, 1, 1, 0, 1, 1});
  Tensor prob = z.clone();
  for (int64_t i = 0; i < z.numel(); ++i) prob.data<double>()[i] = 1 / (1 + std::exp(-z.item(i)));
  LossGrad logits =
      run(z, [&](const ag::Var& p) { return fn::binary_crossentropy(p, y, w, mask, true); });
  LossGrad probs =
      run(prob, [&](const ag::Var& p) { return fn::binary_crossentropy(p, y, w, mask, false); });
  // The probability form carries the +1e-7 inside its logs, so agreement is to ~1e-6.
  CHECK(logits.loss == Approx(probs.loss).epsilon(1e-6));
  for (int64_t i = 0; i < z.numel(); ++i) {
    const double s = prob.item(i);
    CHECK(logits.grad.item(i) == Approx(probs.grad.item(i) * s * (1 - s)).margin(1e-7));
  }
  SECTION("large logits stay finite") {
    LossGrad big = run(f64({2, 1}, {800.0, -800.0}), [&](const ag::Var& p) {
      return fn::binary_crossentropy(p, f64({2}, {0.0, 0.0}), kNone, kNone, true);
    });
    CHECK(big.loss == Approx(400.0).epsilon(1e-14));
    CHECK(big.grad.item(0) == Approx(0.5).epsilon(1e-14));
    CHECK(big.grad.item(1) == Approx(0.0).margin(1e-300));
  }
}

TEST_CASE("sparse_categorical_crossentropy: hand-computed values", "[loss][cpu]") {
  SECTION("tf.keras's documented example (0.3239): probabilities are renormalized") {
    const Tensor pred = f64({3, 3}, {.9, .05, .05, .5, .89, .6, .05, .01, .94});
    const Tensor y = Tensor::from<int32_t>({3}, {0, 1, 2});
    LossGrad r = run(pred, [&](const ag::Var& p) {
      return fn::sparse_categorical_crossentropy(p, y, kNone, kNone, false);
    });
    const double want = -(std::log(0.9 / 1.0) + std::log(0.89 / 1.99) + std::log(0.94 / 1.0)) / 3;
    CHECK(r.loss == Approx(want).epsilon(1e-12));
    CHECK(r.loss == Approx(0.3239).margin(1e-4));
    // Row 1: d/dp_k = (1/S - [k == y] / p_y) / B.
    CHECK(r.grad.item(3) == Approx((1 / 1.99) / 3).epsilon(1e-12));
    CHECK(r.grad.item(4) == Approx((1 / 1.99 - 1 / 0.89) / 3).epsilon(1e-12));
  }
  SECTION("clipping: p[y] = 0 gives -log(1e-7), p[y] = 1 gives -log(1 - 1e-7); no gradient") {
    const Tensor pred = f64({2, 3}, {1.0, 0.0, 0.0, 1.0, 0.0, 0.0});
    const Tensor y = Tensor::from<int32_t>({2}, {1, 0});
    LossGrad r = run(pred, [&](const ag::Var& p) {
      return fn::sparse_categorical_crossentropy(p, y, kNone, kNone, false);
    });
    CHECK(r.loss == Approx((-std::log(kEps) - std::log(1 - kEps)) / 2).epsilon(1e-12));
    for (int i = 0; i < 6; ++i) CHECK(r.grad.item(i) == 0.0);
  }
  SECTION("logits: log-softmax; class ids may be given as whole floats") {
    const Tensor z = f64({1, 3}, {1.0, 2.0, 3.0});
    LossGrad r = run(z, [&](const ag::Var& p) {
      return fn::sparse_categorical_crossentropy(p, f64({1}, {0.0}), kNone, kNone, true);
    });
    const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    CHECK(r.loss == Approx(lse - 1.0).epsilon(1e-14));
    CHECK(r.grad.item(0) == Approx(std::exp(1.0 - lse) - 1).epsilon(1e-12));
    CHECK(r.grad.item(2) == Approx(std::exp(3.0 - lse)).epsilon(1e-12));
  }
  SECTION("per-step [B,T,K] with weights and mask") {
    const Tensor pred = f64({2, 2, 2}, {0.7, 0.3, 0.4, 0.6, 0.2, 0.8, 0.5, 0.5});
    const Tensor y = Tensor::from<int32_t>({2}, {0, 1});
    const Tensor mask = Tensor::from<uint8_t>({2, 2}, {1, 1, 1, 0});
    LossGrad r = run(pred, [&](const ag::Var& p) {
      return fn::sparse_categorical_crossentropy(p, y, f64({2}, {1.0, 4.0}), mask, false);
    });
    CHECK(r.loss ==
          Approx((-std::log(0.7) - std::log(0.4) - 4.0 * std::log(0.8)) / 3).epsilon(1e-12));
    CHECK(r.grad.item(6) == 0.0);
    CHECK(r.grad.item(7) == 0.0);
  }
}

TEST_CASE("sparse_categorical_crossentropy: from_logits matches softmax + probabilities",
          "[loss][cpu]") {
  const Tensor z = random_uniform({3, 2, 4}, DType::kFloat64, -2.0, 2.0, 5);
  const Tensor y = Tensor::from<int32_t>({3}, {3, 0, 2});
  const Tensor w = f64({3}, {1.0, 0.25, 2.0});
  const Tensor mask = Tensor::from<uint8_t>({3, 2}, {1, 0, 1, 1, 1, 1});
  Tensor prob = z.clone();
  for (int64_t r = 0; r < 6; ++r) {
    double s = 0;
    for (int k = 0; k < 4; ++k) s += std::exp(z.item(r * 4 + k));
    for (int k = 0; k < 4; ++k) prob.data<double>()[r * 4 + k] = std::exp(z.item(r * 4 + k)) / s;
  }
  LossGrad logits = run(z, [&](const ag::Var& p) {
    return fn::sparse_categorical_crossentropy(p, y, w, mask, true);
  });
  LossGrad probs = run(prob, [&](const ag::Var& p) {
    return fn::sparse_categorical_crossentropy(p, y, w, mask, false);
  });
  CHECK(logits.loss == Approx(probs.loss).epsilon(1e-12));
  // Chain rule through softmax: dL/dz_j = s_j (g_j - sum_k g_k s_k).
  for (int64_t r = 0; r < 6; ++r) {
    double gs = 0;
    for (int k = 0; k < 4; ++k) gs += probs.grad.item(r * 4 + k) * prob.item(r * 4 + k);
    for (int j = 0; j < 4; ++j) {
      const double want = prob.item(r * 4 + j) * (probs.grad.item(r * 4 + j) - gs);
      CHECK(logits.grad.item(r * 4 + j) == Approx(want).margin(1e-12));
    }
  }
}

TEST_CASE("losses: float64 gradcheck of every variant", "[loss][cpu]") {
  const Tensor y_bin = f64({3}, {1.0, 0.0, 1.0});
  const Tensor y_ids = Tensor::from<int32_t>({3}, {2, 0, 1});
  const Tensor w = f64({3}, {0.5, 2.0, 1.25});
  const Tensor mask = Tensor::from<uint8_t>({3, 4}, {1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0});
  // Probabilities well inside (1e-7, 1 - 1e-7), so no clipping within the finite differences.
  const Tensor p_bin2 = random_uniform({3, 1}, DType::kFloat64, 0.05, 0.95, 1);
  const Tensor p_bin3 = random_uniform({3, 4, 1}, DType::kFloat64, 0.05, 0.95, 2);
  const Tensor z_bin3 = random_uniform({3, 4, 1}, DType::kFloat64, -4.0, 4.0, 3);
  const Tensor p_cat2 = random_uniform({3, 5}, DType::kFloat64, 0.05, 0.9, 4);  // unnormalized
  const Tensor p_cat3 = random_uniform({3, 4, 5}, DType::kFloat64, 0.05, 0.9, 5);
  const Tensor z_cat3 = random_uniform({3, 4, 5}, DType::kFloat64, -3.0, 3.0, 6);
  for (bool weighted : {false, true}) {
    const Tensor& sw = weighted ? w : kNone;
    INFO("weighted " << weighted);
    auto bce = [&](bool logits, const Tensor& m) {
      return [&, logits](const std::vector<ag::Var>& v) {
        return fn::binary_crossentropy(v[0], y_bin, sw, m, logits);
      };
    };
    auto scce = [&](bool logits, const Tensor& m) {
      return [&, logits](const std::vector<ag::Var>& v) {
        return fn::sparse_categorical_crossentropy(v[0], y_ids, sw, m, logits);
      };
    };
    CHECK(gradcheck(bce(false, kNone), {p_bin2}, {true}) == "");
    CHECK(gradcheck(bce(false, mask), {p_bin3}, {true}) == "");
    CHECK(gradcheck(bce(true, kNone), {p_bin2}, {true}) == "");
    CHECK(gradcheck(bce(true, mask), {z_bin3}, {true}) == "");
    CHECK(gradcheck(scce(false, kNone), {p_cat2}, {true}) == "");
    CHECK(gradcheck(scce(false, mask), {p_cat3}, {true}) == "");
    CHECK(gradcheck(scce(true, kNone), {z_cat3}, {true}) == "");
    CHECK(gradcheck(scce(true, mask), {z_cat3}, {true}) == "");
  }
}

TEST_CASE("losses: float32 agrees with float64", "[loss][cpu]") {
  const Tensor p64 = random_uniform({4, 3, 1}, DType::kFloat64, 0.01, 0.99, 8);
  const Tensor y = f64({4}, {1, 0, 0, 1});
  ag::Var a(p64), b(p64.to(DType::kFloat32));
  const double l64 = fn::binary_crossentropy(a, y, kNone, kNone, false).value().item();
  const double l32 =
      fn::binary_crossentropy(b, y.to(DType::kFloat32), kNone, kNone, false).value().item();
  CHECK(l32 == Approx(l64).epsilon(1e-5));
}

TEST_CASE("losses: bad labels and shapes throw with the details", "[loss][cpu]") {
  const Tensor pred = f64({2, 3}, {0.2, 0.3, 0.5, 0.1, 0.1, 0.8});
  ag::Var p(pred, true);
  CHECK_THROWS_WITH(fn::sparse_categorical_crossentropy(p, Tensor::from<int32_t>({2}, {0, 3}),
                                                        kNone, kNone, false),
                    Catch::Contains("label 3") && Catch::Contains("row 1"));
  CHECK_THROWS_WITH(fn::sparse_categorical_crossentropy(p, Tensor::from<int32_t>({2}, {-1, 0}),
                                                        kNone, kNone, true),
                    Catch::Contains("label -1") && Catch::Contains("row 0"));
  CHECK_THROWS_WITH(fn::accuracy(pred, Tensor::from<int32_t>({2}, {0, 7}), kNone, false),
                    Catch::Contains("label 7") && Catch::Contains("row 1"));
  ag::Var pb(f64({2, 1}, {0.5, 0.5}), true);
  CHECK_THROWS_WITH(fn::binary_crossentropy(pb, f64({2}, {0.0, 2.0}), kNone, kNone, false),
                    Catch::Contains("2") && Catch::Contains("row 1"));
  // Shapes: BCE needs one output; labels, weights and masks must match B (and T).
  CHECK_THROWS_WITH(fn::binary_crossentropy(p, f64({2}, {0, 1}), kNone, kNone, false),
                    Catch::Contains("[2, 3]"));
  CHECK_THROWS_WITH(fn::binary_crossentropy(pb, f64({3}, {0, 1, 1}), kNone, kNone, false),
                    Catch::Contains("[3]"));
  CHECK_THROWS_AS(fn::binary_crossentropy(pb, f64({2}, {0, 1}), f64({1}, {1}), kNone, false),
                  std::invalid_argument);
  CHECK_THROWS_WITH(fn::binary_crossentropy(pb, f64({2}, {0, 1}), kNone,
                                            Tensor::from<uint8_t>({2, 2}, {1, 1, 1, 1}), false),
                    Catch::Contains("mask") && Catch::Contains("[2, 2]"));
  ag::Var p1(f64({2}, {0.5, 0.5}), true);
  CHECK_THROWS_AS(fn::binary_crossentropy(p1, f64({2}, {0, 1}), kNone, kNone, false),
                  std::invalid_argument);
}

TEST_CASE("accuracy: binary, logits, multi-class and per-step", "[loss][cpu]") {
  SECTION("binary probabilities: class 1 iff p > 0.5") {
    const Tensor pred = f64({4, 1}, {0.2, 0.7, 0.5, 0.9});
    CHECK(fn::accuracy(pred, f64({4}, {0, 1, 1, 0}), kNone, false) == 0.5);
    CHECK(fn::accuracy(pred, f64({4}, {0, 1, 0, 1}), kNone, false) == 1.0);
    // Float32 predictions with int32 labels.
    CHECK(fn::accuracy(pred.to(DType::kFloat32), Tensor::from<int32_t>({4}, {0, 1, 0, 0}), kNone,
                       false) == 0.75);
  }
  SECTION("binary logits: class 1 iff z > 0") {
    const Tensor z = f64({4, 1}, {-1.0, 2.0, 0.0, 0.3});
    CHECK(fn::accuracy(z, f64({4}, {0, 1, 0, 0}), kNone, true) == 0.75);
    // The same numbers as probabilities would threshold at 0.5 instead.
    CHECK(fn::accuracy(z, f64({4}, {0, 1, 0, 0}), kNone, false) == 1.0);
  }
  SECTION("multi-class argmax, ties go to the first index") {
    const Tensor pred = f64({4, 3}, {.1, .7, .2, .5, .2, .3, .3, .3, .4, .4, .4, .2});
    const Tensor y = Tensor::from<int32_t>({4}, {1, 1, 2, 0});
    CHECK(fn::accuracy(pred, y, kNone, false) == Approx(0.75));
    CHECK(fn::accuracy(pred, y, kNone, true) == Approx(0.75));
    const Tensor y_tie = Tensor::from<int32_t>({4}, {1, 0, 2, 1});
    CHECK(fn::accuracy(pred, y_tie, kNone, false) == Approx(0.75));
  }
  SECTION("per-step predictions: mean over unmasked steps") {
    const Tensor pred = f64({2, 3, 1}, {0.9, 0.2, 0.6, 0.1, 0.8, 0.3});
    const Tensor y = f64({2}, {1, 0});
    CHECK(fn::accuracy(pred, y, kNone, false) == Approx(4.0 / 6));
    const Tensor mask = Tensor::from<uint8_t>({2, 3}, {1, 0, 1, 1, 0, 1});
    CHECK(fn::accuracy(pred, y, mask, false) == 1.0);
    const Tensor cat = f64({1, 2, 2}, {0.1, 0.9, 0.8, 0.2});
    CHECK(fn::accuracy(cat, Tensor::from<int32_t>({1}, {1}), kNone, false) == 0.5);
    CHECK(fn::accuracy(cat, Tensor::from<int32_t>({1}, {1}), Tensor::from<uint8_t>({1, 2}, {1, 0}),
                       false) == 1.0);
  }
}
