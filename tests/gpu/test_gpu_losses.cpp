// Cross-entropy losses and accuracy on the GPU against the CPU float64 reference: binary on
// [B,1] and [B,T,1], sparse categorical on [B,K] and [B,T,K], probabilities (with values
// clipped at both ends, where the gradient is zero) and logits, sample weights, masks (host
// float masks and device uint8 masks), labels given on the host and on the device, everything
// masked (loss 0, no gradient), B = 1 and T = 1; the loss's backward seeded with a non-unit
// gradient; bitwise repeatability (check_parity); accuracy counts equal to the CPU's exactly.
// Tolerance: per-element logs/exps in float32 and a mean over B*T terms, so float32 uses the
// table's float32 row scaled by 10.
#include <catch2/catch.hpp>

#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"

using namespace ember;
using namespace ember::test;

namespace {

const Tensor kNone;

// Probabilities in (0, 1) with a few exact 0s and 1s (clipped on both sides).
Tensor probabilities(const Shape& s, uint64_t seed) {
  Tensor p = random_uniform(s, DType::kFloat64, 0.001, 0.999, seed);
  if (p.numel() > 2) {
    p.data<double>()[0] = 0.0;
    p.data<double>()[p.numel() - 1] = 1.0;
  }
  return p;
}

Tensor binary_labels(int64_t batch, uint64_t seed) {
  return random_ints(Shape{batch}, 0, 2, seed).to(DType::kFloat64);
}

// A [B,T] float mask with some zeros (and at least one one).
Tensor float_mask(int64_t batch, int64_t steps, uint64_t seed) {
  Tensor m = random_ints(Shape{batch, steps}, 0, 3, seed).to(DType::kFloat64);
  m.data<double>()[0] = 1.0;
  return m;
}

// The label tensor as f should pass it on `dev`: host as given, or uploaded in `dt`.
Tensor place(const Tensor& host, Device dev, bool on_device, DType dt) {
  if (dev.is_cpu() || !on_device) return host;
  return to_device_as(host, dt, dev.index);
}

Tensor uint8_mask(const Tensor& m) {
  Tensor u = Tensor::empty(m.shape(), DType::kUInt8);
  for (int64_t i = 0; i < m.numel(); ++i) u.data<uint8_t>()[i] = m.item(i) != 0.0 ? 1 : 0;
  return u;
}

// A case's optional sample weights and float mask, drawn from seed in that order, and how f
// passes them on `dev`: as given on the CPU or with host labels, else uploaded (the mask as
// uint8 [B,T] or [B]; no mask stays none, since to_device refuses an undefined tensor).
struct WeightsAndMask {
  Tensor w, m, m8;
  WeightsAndMask(int64_t batch, int64_t steps, bool per_step, bool weights, bool mask,
                 uint64_t& seed) {
    w = weights ? random_uniform(Shape{batch}, DType::kFloat64, 0, 2, ++seed) : kNone;
    m = mask ? float_mask(batch, per_step ? steps : 1, ++seed) : kNone;
    m8 = m.defined() ? uint8_mask(per_step ? m : m.reshape(Shape{batch})) : kNone;
  }
  Tensor weights_on(Device dev, bool on_device, DType dt) const {
    return w.defined() ? place(w, dev, on_device, dt) : kNone;
  }
  Tensor mask_on(Device dev, bool on_device) const {
    return dev.is_cpu() || !on_device || !m8.defined() ? m : to_device(m8);
  }
};

}  // namespace

TEST_CASE("GPU binary cross-entropy matches the CPU reference", "[gpu][losses]") {
  uint64_t seed = 500;
  struct Case {
    int64_t batch, steps;
    bool per_step, weights, mask, logits, on_device;
  };
  const Case cases[] = {
      {1, 1, false, false, false, false, false}, {7, 1, false, true, false, false, true},
      {5, 1, false, false, false, true, false},  {9, 1, false, true, false, true, true},
      {3, 11, true, false, false, false, false}, {4, 13, true, true, true, false, true},
      {6, 5, true, true, true, true, false},     {1, 1, true, false, true, true, true},
      {257, 3, true, true, true, false, false},  {2, 9, true, false, true, true, true}};
  for (const Case& c : cases) {
    INFO("B=" << c.batch << " T=" << c.steps << " per_step=" << c.per_step
              << " weights=" << c.weights << " mask=" << c.mask << " logits=" << c.logits
              << " labels on device=" << c.on_device);
    const Shape ps = c.per_step ? Shape{c.batch, c.steps, 1} : Shape{c.batch, 1};
    const Tensor pred =
        c.logits ? random_uniform(ps, DType::kFloat64, -8, 8, ++seed) : probabilities(ps, ++seed);
    const Tensor y = binary_labels(c.batch, ++seed);
    const WeightsAndMask wm(c.batch, c.steps, c.per_step, c.weights, c.mask, seed);
    DeviceFn f = [&](const std::vector<ag::Var>& v, Device dev) {
      const DType dt = v[0].value().dtype();
      return fn::binary_crossentropy(v[0], place(y, dev, c.on_device, dt),
                                     wm.weights_on(dev, c.on_device, dt),
                                     wm.mask_on(dev, c.on_device), c.logits);
    };
    EMBER_CHECK_PARITY(f, {pred}, {true}, gpu_f32_tol(10));
  }
}

TEST_CASE("GPU sparse categorical cross-entropy matches the CPU reference", "[gpu][losses]") {
  uint64_t seed = 600;
  struct Case {
    int64_t batch, steps, classes;
    bool per_step, weights, mask, logits, on_device;
  };
  const Case cases[] = {
      {1, 1, 2, false, false, false, false, false}, {7, 1, 3, false, true, false, false, true},
      {5, 1, 7, false, false, false, true, false},  {9, 1, 3, false, true, false, true, true},
      {3, 11, 3, true, false, false, false, false}, {4, 13, 5, true, true, true, false, true},
      {6, 5, 3, true, true, true, true, false},     {1, 1, 1, true, false, true, false, true},
      {129, 3, 40, true, true, true, true, false},  {2, 9, 3, true, false, true, true, true}};
  for (const Case& c : cases) {
    INFO("B=" << c.batch << " T=" << c.steps << " K=" << c.classes << " weights=" << c.weights
              << " mask=" << c.mask << " logits=" << c.logits << " on device=" << c.on_device);
    const Shape ps = c.per_step ? Shape{c.batch, c.steps, c.classes} : Shape{c.batch, c.classes};
    // Probabilities need not sum to 1 (Keras renormalizes); logits span a wide range.
    const Tensor pred = c.logits ? random_uniform(ps, DType::kFloat64, -10, 10, ++seed)
                                 : random_uniform(ps, DType::kFloat64, 0.01, 1.0, ++seed);
    const Tensor y = random_ints(Shape{c.batch}, 0, static_cast<int32_t>(c.classes), ++seed);
    const WeightsAndMask wm(c.batch, c.steps, c.per_step, c.weights, c.mask, seed);
    DeviceFn f = [&](const std::vector<ag::Var>& v, Device dev) {
      const DType dt = v[0].value().dtype();
      const Tensor labels = dev.is_cpu() || !c.on_device ? y : to_device(y);
      return fn::sparse_categorical_crossentropy(v[0], labels, wm.weights_on(dev, c.on_device, dt),
                                                 wm.mask_on(dev, c.on_device), c.logits);
    };
    EMBER_CHECK_PARITY(f, {pred}, {true}, gpu_f32_tol(10));
  }
}

TEST_CASE("GPU losses with everything masked are 0 with no gradient", "[gpu][losses]") {
  const Tensor pred = probabilities(Shape{3, 4, 1}, 1);
  const Tensor zeros = Tensor::zeros(Shape{3, 4}, DType::kFloat64);
  DeviceFn f = [&](const std::vector<ag::Var>& v, Device) {
    return fn::binary_crossentropy(v[0], binary_labels(3, 2), kNone, zeros, false);
  };
  EMBER_CHECK_PARITY(f, {pred}, {true}, gpu_f32_tol(10));
  ag::Var p(to_device(pred.to(DType::kFloat32)), true);
  ag::Var loss = fn::binary_crossentropy(p, binary_labels(3, 2), kNone, zeros, false);
  loss.backward();
  CHECK(to_host(loss.value()).item() == 0.0);
  CHECK(to_host(p.grad()).item(5) == 0.0);
}

TEST_CASE("GPU losses validate host labels", "[gpu][losses]") {
  ag::Var p(to_device(probabilities(Shape{2, 1}, 3).to(DType::kFloat32)), true);
  CHECK_THROWS_WITH(
      fn::binary_crossentropy(p, Tensor::from<double>(Shape{2}, {0, 2}), kNone, kNone, false),
      Catch::Matchers::Contains("outside [0, 1]"));
  ag::Var q(to_device(random_uniform(Shape{2, 3}, DType::kFloat32, 0, 1, 4)), true);
  CHECK_THROWS_WITH(fn::sparse_categorical_crossentropy(q, Tensor::from<int32_t>(Shape{2}, {0, 3}),
                                                        kNone, kNone, false),
                    Catch::Matchers::Contains("label 3"));
}

TEST_CASE("GPU accuracy equals the CPU's", "[gpu][losses]") {
  uint64_t seed = 700;
  for (bool logits : {false, true}) {
    for (int64_t steps : {int64_t{1}, int64_t{7}}) {
      for (bool masked : {false, true}) {
        INFO("logits " << logits << " T " << steps << " masked " << masked);
        const int64_t B = 37;
        const Shape bs = steps == 1 ? Shape{B, 1} : Shape{B, steps, 1};
        const Tensor pred = logits ? random_uniform(bs, DType::kFloat32, -2, 2, ++seed)
                                   : random_uniform(bs, DType::kFloat32, 0, 1, ++seed);
        const Tensor y = binary_labels(B, ++seed);
        const Tensor m = masked ? float_mask(B, steps, ++seed) : kNone;
        const Tensor m_arg = masked && steps == 1 ? m.reshape(Shape{B}) : m;
        const double cpu = fn::accuracy(pred, y, m_arg, logits);
        CHECK(fn::accuracy(to_device(pred), y, m_arg, logits) == cpu);
        CHECK(fn::accuracy(to_device(pred), to_device(y.to(DType::kFloat32)),
                           masked ? to_device(uint8_mask(m_arg)) : kNone, logits) == cpu);
        // Sparse: values from a small set, so argmax ties are common (first index wins).
        const int64_t K = 4;
        const Shape ss = steps == 1 ? Shape{B, K} : Shape{B, steps, K};
        const Tensor sp = random_ints(ss, 0, 3, ++seed).to(DType::kFloat64);
        const Tensor sy = random_ints(Shape{B}, 0, static_cast<int32_t>(K), ++seed);
        const double scpu = fn::accuracy(sp, sy, m_arg, logits);
        CHECK(fn::accuracy(to_device(sp), sy, m_arg, logits) == scpu);
        CHECK(fn::accuracy(to_device(sp), to_device(sy),
                           masked ? to_device(uint8_mask(m_arg)) : kNone, logits) == scpu);
      }
    }
  }
}
