// CPU reference for kernels/losses.h: per-element Keras cross-entropies in T precision, the
// weighted mean accumulated in double. Forward and backward share one per-element helper per
// loss so the two cannot drift apart. Labels are validated here (the reference reads them
// anyway), with the offending row in the message.
#include "kernels/losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/check.h"

namespace ember::ref {

namespace {

// The reduction's weight of element (b,t) before dividing by D, and D itself.
template <class T>
double element_weight(const T* sample_weight, const uint8_t* mask, int64_t b, int64_t t,
                      int64_t steps) {
  double w = sample_weight ? static_cast<double>(sample_weight[b]) : 1.0;
  if (mask && mask[b * steps + t] == 0) w = 0.0;
  return w;
}

double denominator(const uint8_t* mask, int64_t B, int64_t steps) {
  if (!mask) return static_cast<double>(B * steps);
  double d = 0.0;
  for (int64_t i = 0; i < B * steps; ++i) d += mask[i] != 0 ? 1.0 : 0.0;
  return d;
}

template <class T>
void check_binary_targets(const T* y, int64_t B) {
  for (int64_t b = 0; b < B; ++b) {
    EMBER_CHECK_ARG(y[b] >= T(0) && y[b] <= T(1), "binary_crossentropy: target "
                                                      << y[b] << " in row " << b
                                                      << " is outside [0, 1]");
  }
}

void check_class_ids(const int32_t* y, int64_t B, int64_t K) {
  for (int64_t b = 0; b < B; ++b) {
    EMBER_CHECK_ARG(y[b] >= 0 && y[b] < K, "sparse_categorical_crossentropy: label "
                                               << y[b] << " in row " << b << " is outside [0, " << K
                                               << ")");
  }
}

// Binary loss of one element and its derivative with respect to the prediction.
template <class T>
void bce_element(T p, T y, bool from_logits, T* loss, T* grad) {
  if (from_logits) {
    // Stable for any z: never exponentiates a positive number.
    const T z = p;
    *loss = std::max(z, T(0)) - z * y + std::log1p(std::exp(-std::fabs(z)));
    const T sig = z >= T(0) ? T(1) / (T(1) + std::exp(-z)) : std::exp(z) / (T(1) + std::exp(z));
    *grad = sig - y;
    return;
  }
  const T eps = static_cast<T>(kLossEpsilon);
  const T lo = eps, hi = T(1) - eps;  // rounded in T, as tf.keras computes 1 - epsilon
  const T pc = std::min(std::max(p, lo), hi);
  *loss = -(y * std::log(pc + eps) + (T(1) - y) * std::log(T(1) - pc + eps));
  const bool clipped = p < lo || p > hi;
  *grad = clipped ? T(0) : -y / (pc + eps) + (T(1) - y) / (T(1) - pc + eps);
}

// Sparse loss of one [K] row; when grad is non-null it receives d l / d pred ([K], overwritten).
template <class T>
T scce_row(const T* p, int32_t label, int64_t K, bool from_logits, T* grad) {
  if (from_logits) {
    T zmax = p[0];
    for (int64_t k = 1; k < K; ++k) zmax = std::max(zmax, p[k]);
    double sum = 0.0;
    for (int64_t k = 0; k < K; ++k) sum += std::exp(static_cast<double>(p[k] - zmax));
    const T lse = zmax + static_cast<T>(std::log(sum));
    if (grad) {
      for (int64_t k = 0; k < K; ++k)
        grad[k] = static_cast<T>(std::exp(static_cast<double>(p[k] - zmax)) / sum) -
                  (k == label ? T(1) : T(0));
    }
    return lse - p[label];
  }
  T sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += p[k];
  const T eps = static_cast<T>(kLossEpsilon);
  const T lo = eps, hi = T(1) - eps;
  const T q = p[label] / sum;
  const T qc = std::min(std::max(q, lo), hi);
  if (grad) {
    const bool clipped = q < lo || q > hi;
    for (int64_t k = 0; k < K; ++k) {
      grad[k] = clipped ? T(0) : T(1) / sum - (k == label ? T(1) / p[label] : T(0));
    }
  }
  return -std::log(qc);
}

}  // namespace

template <class T>
void binary_crossentropy_forward(const T* pred, const T* y, const T* sample_weight,
                                 const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                 T* loss) {
  check_binary_targets(y, B);
  const double d = denominator(mask, B, steps);
  double total = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const double w = element_weight(sample_weight, mask, b, t, steps);
      if (w == 0.0) continue;  // masked steps contribute nothing, even a NaN
      T l, g;
      bce_element(pred[b * steps + t], y[b], from_logits, &l, &g);
      total += w * static_cast<double>(l);
    }
  }
  *loss = d > 0.0 ? static_cast<T>(total / d) : T(0);
}

template <class T>
void binary_crossentropy_backward(const T* pred, const T* y, const T* sample_weight,
                                  const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                  double d_loss, T* d_pred) {
  const double d = denominator(mask, B, steps);
  if (d <= 0.0) return;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const double w = element_weight(sample_weight, mask, b, t, steps);
      if (w == 0.0) continue;
      T l, g;
      bce_element(pred[b * steps + t], y[b], from_logits, &l, &g);
      d_pred[b * steps + t] += static_cast<T>(d_loss * w / d * static_cast<double>(g));
    }
  }
}

template <class T>
void sparse_categorical_crossentropy_forward(const T* pred, const int32_t* y,
                                             const T* sample_weight, const uint8_t* mask, int64_t B,
                                             int64_t steps, int64_t K, bool from_logits, T* loss) {
  check_class_ids(y, B, K);
  const double d = denominator(mask, B, steps);
  double total = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const double w = element_weight(sample_weight, mask, b, t, steps);
      if (w == 0.0) continue;
      const T l = scce_row<T>(pred + (b * steps + t) * K, y[b], K, from_logits, nullptr);
      total += w * static_cast<double>(l);
    }
  }
  *loss = d > 0.0 ? static_cast<T>(total / d) : T(0);
}

template <class T>
void sparse_categorical_crossentropy_backward(const T* pred, const int32_t* y,
                                              const T* sample_weight, const uint8_t* mask,
                                              int64_t B, int64_t steps, int64_t K, bool from_logits,
                                              double d_loss, T* d_pred) {
  check_class_ids(y, B, K);
  const double d = denominator(mask, B, steps);
  if (d <= 0.0) return;
  std::vector<T> g(static_cast<size_t>(K));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const double w = element_weight(sample_weight, mask, b, t, steps);
      if (w == 0.0) continue;
      const int64_t row = (b * steps + t) * K;
      scce_row<T>(pred + row, y[b], K, from_logits, g.data());
      const double scale = d_loss * w / d;
      for (int64_t k = 0; k < K; ++k)
        d_pred[row + k] += static_cast<T>(scale * static_cast<double>(g[k]));
    }
  }
}

template <class T>
void binary_accuracy_counts(const T* pred, const T* y, const uint8_t* mask, int64_t B,
                            int64_t steps, bool from_logits, double* correct, double* total) {
  const T threshold = from_logits ? T(0) : T(0.5);
  double c = 0.0, n = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      if (mask && mask[b * steps + t] == 0) continue;
      const T predicted = pred[b * steps + t] > threshold ? T(1) : T(0);
      c += predicted == y[b] ? 1.0 : 0.0;
      n += 1.0;
    }
  }
  *correct = c;
  *total = n;
}

template <class T>
void sparse_accuracy_counts(const T* pred, const int32_t* y, const uint8_t* mask, int64_t B,
                            int64_t steps, int64_t K, double* correct, double* total) {
  double c = 0.0, n = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      if (mask && mask[b * steps + t] == 0) continue;
      const T* row = pred + (b * steps + t) * K;
      int64_t best = 0;
      for (int64_t k = 1; k < K; ++k)
        if (row[k] > row[best]) best = k;  // strict: ties keep the first index
      c += best == y[b] ? 1.0 : 0.0;
      n += 1.0;
    }
  }
  *correct = c;
  *total = n;
}

#define EMBER_INSTANTIATE_LOSSES(T)                                                             \
  template void binary_crossentropy_forward<T>(const T*, const T*, const T*, const uint8_t*,    \
                                               int64_t, int64_t, bool, T*);                     \
  template void binary_crossentropy_backward<T>(const T*, const T*, const T*, const uint8_t*,   \
                                                int64_t, int64_t, bool, double, T*);            \
  template void sparse_categorical_crossentropy_forward<T>(                                     \
      const T*, const int32_t*, const T*, const uint8_t*, int64_t, int64_t, int64_t, bool, T*); \
  template void sparse_categorical_crossentropy_backward<T>(const T*, const int32_t*, const T*, \
                                                            const uint8_t*, int64_t, int64_t,   \
                                                            int64_t, bool, double, T*);         \
  template void binary_accuracy_counts<T>(const T*, const T*, const uint8_t*, int64_t, int64_t, \
                                          bool, double*, double*);                              \
  template void sparse_accuracy_counts<T>(const T*, const int32_t*, const uint8_t*, int64_t,    \
                                          int64_t, int64_t, double*, double*);

EMBER_INSTANTIATE_LOSSES(float)
EMBER_INSTANTIATE_LOSSES(double)
#undef EMBER_INSTANTIATE_LOSSES

}  // namespace ember::ref
