// CUDA kernels for kernels/losses.h. The per-element math mirrors losses_ref.cpp line by line
// (same clipping, same T/double split); reductions are two fixed-shape passes: kLossBlocks
// blocks each reduce a grid-stride share of the elements to two doubles (a weighted loss sum
// and a count), then one block adds the partials in block order. Gradients are elementwise.
#include <limits>
#include <type_traits>

#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/losses.h"

namespace ember::cuda {

namespace {

template <class T>
__device__ __forceinline__ T dnan() {
  return std::numeric_limits<T>::quiet_NaN();
}

// std::max / std::min as the reference calls them (NaN in the first argument propagates).
template <class T>
__device__ __forceinline__ T ref_max(T a, T b) {
  return a < b ? b : a;
}
template <class T>
__device__ __forceinline__ T ref_min(T a, T b) {
  return b < a ? b : a;
}

// Weight of element i = (b, t) in the mean: sample weight times the mask (0 when masked).
template <class T>
__device__ __forceinline__ double element_weight(const T* sample_weight, const uint8_t* mask,
                                                 int64_t b, int64_t i) {
  double w = sample_weight ? static_cast<double>(sample_weight[b]) : 1.0;
  if (mask && mask[i] == 0) w = 0.0;
  return w;
}

// ref bce_element: loss and d loss / d pred of one element.
template <class T>
__device__ void bce_element(T p, T y, bool from_logits, T* loss, T* grad) {
  if (!(y >= T(0) && y <= T(1))) {  // unvalidated device target
    *loss = dnan<T>();
    *grad = dnan<T>();
    return;
  }
  if (from_logits) {
    const T z = p;
    *loss = ref_max(z, T(0)) - z * y + dev_log1p(dev_exp(-fabs(z)));
    const T sig = z >= T(0) ? T(1) / (T(1) + dev_exp(-z)) : dev_exp(z) / (T(1) + dev_exp(z));
    *grad = sig - y;
    return;
  }
  const T eps = static_cast<T>(ref::kLossEpsilon);
  const T lo = eps, hi = T(1) - eps;
  const T pc = ref_min(ref_max(p, lo), hi);
  *loss = -(y * dev_log(pc + eps) + (T(1) - y) * dev_log(T(1) - pc + eps));
  const bool clipped = p < lo || p > hi;
  *grad = clipped ? T(0) : -y / (pc + eps) + (T(1) - y) / (T(1) - pc + eps);
}

// ref scce_row: the loss of one [K] row; with Grad, adds scale * d l / d pred[k] to d_row[k].
template <class T, bool Grad>
__device__ T scce_row(const T* p, int32_t label, int64_t K, bool from_logits, double scale,
                      T* d_row) {
  if (label < 0 || label >= K) {  // unvalidated device label
    if (Grad)
      for (int64_t k = 0; k < K; ++k) d_row[k] += dnan<T>();
    return dnan<T>();
  }
  if (from_logits) {
    T zmax = p[0];
    for (int64_t k = 1; k < K; ++k) zmax = ref_max(zmax, p[k]);
    double sum = 0.0;
    for (int64_t k = 0; k < K; ++k) sum += exp(static_cast<double>(p[k] - zmax));
    if (Grad) {
      for (int64_t k = 0; k < K; ++k) {
        const T g = static_cast<T>(exp(static_cast<double>(p[k] - zmax)) / sum) -
                    (k == label ? T(1) : T(0));
        d_row[k] += static_cast<T>(scale * static_cast<double>(g));
      }
    }
    const T lse = zmax + static_cast<T>(log(sum));
    return lse - p[label];
  }
  T sum = 0;
  for (int64_t k = 0; k < K; ++k) sum += p[k];
  const T eps = static_cast<T>(ref::kLossEpsilon);
  const T lo = eps, hi = T(1) - eps;
  const T q = p[label] / sum;
  const T qc = ref_min(ref_max(q, lo), hi);
  if (Grad) {
    const bool clipped = q < lo || q > hi;
    for (int64_t k = 0; k < K; ++k) {
      const T g = clipped ? T(0) : T(1) / sum - (k == label ? T(1) / p[label] : T(0));
      d_row[k] += static_cast<T>(scale * static_cast<double>(g));
    }
  }
  return -dev_log(qc);
}

// ---- reductions: per element a pair (value, count), summed over the grid ----

template <class T>
struct BceTerm {
  const T *pred, *y, *sample_weight;
  const uint8_t* mask;
  int64_t steps;
  bool from_logits;
  __device__ void operator()(int64_t i, double* value, double* count) const {
    const int64_t b = i / steps;
    *count += (mask && mask[i] == 0) ? 0.0 : 1.0;
    const double w = element_weight(sample_weight, mask, b, i);
    if (w == 0.0) return;  // masked steps contribute nothing, even a NaN
    T l, g;
    bce_element(pred[i], y[b], from_logits, &l, &g);
    *value += w * static_cast<double>(l);
  }
};

template <class T>
struct ScceTerm {
  const T* pred;
  const int32_t* y;
  const T* sample_weight;
  const uint8_t* mask;
  int64_t steps, K;
  bool from_logits;
  __device__ void operator()(int64_t i, double* value, double* count) const {
    const int64_t b = i / steps;
    *count += (mask && mask[i] == 0) ? 0.0 : 1.0;
    const double w = element_weight(sample_weight, mask, b, i);
    if (w == 0.0) return;
    const T l = scce_row<T, false>(pred + i * K, y[b], K, from_logits, 0.0, nullptr);
    *value += w * static_cast<double>(l);
  }
};

template <class T>
struct BinaryAccuracyTerm {
  const T *pred, *y;
  const uint8_t* mask;
  int64_t steps;
  bool from_logits;
  __device__ void operator()(int64_t i, double* correct, double* total) const {
    if (mask && mask[i] == 0) return;
    const T threshold = from_logits ? T(0) : T(0.5);
    const T predicted = pred[i] > threshold ? T(1) : T(0);
    *correct += predicted == y[i / steps] ? 1.0 : 0.0;
    *total += 1.0;
  }
};

template <class T>
struct SparseAccuracyTerm {
  const T* pred;
  const int32_t* y;
  const uint8_t* mask;
  int64_t steps, K;
  __device__ void operator()(int64_t i, double* correct, double* total) const {
    if (mask && mask[i] == 0) return;
    const T* row = pred + i * K;
    int64_t best = 0;
    for (int64_t k = 1; k < K; ++k)
      if (row[k] > row[best]) best = k;  // strict: ties keep the first index
    *correct += best == y[i / steps] ? 1.0 : 0.0;
    *total += 1.0;
  }
};

// Pass 1: block j writes partials[j] (sum of first values) and partials[kLossBlocks + j].
template <class Term>
__global__ void __launch_bounds__(kBlockThreads)
    pair_partial_kernel(Term term, int64_t n, double* __restrict__ partials) {
  EMBER_SHARED(double, scratch, kBlockThreads / kWarp);
  double a = 0.0, c = 0.0;
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) term(i, &a, &c);
  a = block_sum<kBlockThreads>(a, scratch);
  c = block_sum<kBlockThreads>(c, scratch);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = a;
    partials[kLossBlocks + blockIdx.x] = c;
  }
}

// Pass 2 (one block): totals in block order; the mean loss and D, or the two counts.
template <class T, bool Loss>
__global__ void __launch_bounds__(kBlockThreads)
    pair_finish_kernel(const double* __restrict__ partials, bool masked, int64_t n, T* loss,
                       double* out) {
  EMBER_SHARED(double, scratch, kBlockThreads / kWarp);
  double a = 0.0, c = 0.0;
  for (int j = threadIdx.x; j < kLossBlocks; j += blockDim.x) {
    a += partials[j];
    c += partials[kLossBlocks + j];
  }
  a = block_sum<kBlockThreads>(a, scratch);
  c = block_sum<kBlockThreads>(c, scratch);
  if (threadIdx.x != 0) return;
  if (Loss) {
    const double d = masked ? c : static_cast<double>(n);
    *loss = d > 0.0 ? static_cast<T>(a / d) : T(0);
    if (out) *out = d;
  } else {
    out[0] = a;
    out[1] = c;
  }
}

// The losses' backward: d_pred[i] += dL * w_i / D * dl_i/dpred for every element i of the
// n = B*T whose weight w_i (sample weight, mask) is not zero; nothing when D = 0 (nothing was
// counted). Grad adds one element's term, given dL * w_i / D.
template <class T, class Grad>
__global__ void loss_backward_kernel(Grad grad, const T* __restrict__ sample_weight,
                                     const uint8_t* __restrict__ mask, int64_t n, int64_t steps,
                                     const T* __restrict__ d_loss,
                                     const double* __restrict__ denom) {
  const double d = *denom;
  if (d <= 0.0) return;
  const double dl = static_cast<double>(*d_loss);
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const int64_t b = i / steps;
    const double w = element_weight(sample_weight, mask, b, i);
    if (w == 0.0) continue;
    grad(i, b, dl * w / d);
  }
}

template <class T>
struct BceGrad {
  const T *pred, *y;
  bool from_logits;
  T* d_pred;
  __device__ void operator()(int64_t i, int64_t b, double scale) const {
    T l, g;
    bce_element(pred[i], y[b], from_logits, &l, &g);
    d_pred[i] += static_cast<T>(scale * static_cast<double>(g));
  }
};

template <class T>
struct ScceGrad {
  const T* pred;
  const int32_t* y;
  int64_t K;
  bool from_logits;
  T* d_pred;
  __device__ void operator()(int64_t i, int64_t b, double scale) const {
    scce_row<T, true>(pred + i * K, y[b], K, from_logits, scale, d_pred + i * K);
  }
};

void check_workspace(void* workspace, size_t bytes, const char* op) {
  EMBER_CHECK_ARG(workspace && bytes >= loss_workspace_bytes(),
                  op << ": workspace of " << bytes << " bytes, needs " << loss_workspace_bytes());
}

void check_dims(int64_t B, int64_t steps, int64_t K, const char* op) {
  EMBER_CHECK_ARG(B >= 1 && steps >= 1 && K >= 1,
                  op << ": bad dims B=" << B << " T=" << steps << " K=" << K);
}

template <class T, bool Loss, class Term>
void reduce_pairs(const Term& term, int64_t n, bool masked, T* loss, double* out, void* workspace,
                  cudaStream_t stream, const char* op) {
  auto* partials = static_cast<double*>(workspace);
  EMBER_LAUNCH(pair_partial_kernel<Term>, kLossBlocks, kBlockThreads, 0, stream, term, n, partials);
  EMBER_CUDA_CHECK_LAUNCH(op);
  EMBER_LAUNCH((pair_finish_kernel<T, Loss>), 1, kBlockThreads, 0, stream, partials, masked, n,
               loss, out);
  EMBER_CUDA_CHECK_LAUNCH(op);
}

}  // namespace

size_t loss_workspace_bytes() {
  return 2 * kLossBlocks * sizeof(double);
}

template <class T>
void binary_crossentropy_forward(const T* pred, const T* y, const T* sample_weight,
                                 const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                 T* loss, double* denom, void* workspace, size_t workspace_bytes,
                                 cudaStream_t stream) {
  const char* op = "cuda::binary_crossentropy_forward";
  check_dims(B, steps, 1, op);
  check_workspace(workspace, workspace_bytes, op);
  BceTerm<T> term{pred, y, sample_weight, mask, steps, from_logits};
  reduce_pairs<T, true>(term, B * steps, mask != nullptr, loss, denom, workspace, stream, op);
}

template <class T>
void binary_crossentropy_backward(const T* pred, const T* y, const T* sample_weight,
                                  const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                  const T* d_loss, const double* denom, T* d_pred,
                                  cudaStream_t stream) {
  check_dims(B, steps, 1, "cuda::binary_crossentropy_backward");
  const int64_t n = B * steps;
  const BceGrad<T> grad{pred, y, from_logits, d_pred};
  EMBER_LAUNCH((loss_backward_kernel<T, BceGrad<T>>), grid_for(n), kBlockThreads, 0, stream, grad,
               sample_weight, mask, n, steps, d_loss, denom);
  EMBER_CUDA_CHECK_LAUNCH("loss_backward_kernel (binary_crossentropy)");
}

template <class T>
void sparse_categorical_crossentropy_forward(const T* pred, const int32_t* y,
                                             const T* sample_weight, const uint8_t* mask, int64_t B,
                                             int64_t steps, int64_t K, bool from_logits, T* loss,
                                             double* denom, void* workspace, size_t workspace_bytes,
                                             cudaStream_t stream) {
  const char* op = "cuda::sparse_categorical_crossentropy_forward";
  check_dims(B, steps, K, op);
  check_workspace(workspace, workspace_bytes, op);
  ScceTerm<T> term{pred, y, sample_weight, mask, steps, K, from_logits};
  reduce_pairs<T, true>(term, B * steps, mask != nullptr, loss, denom, workspace, stream, op);
}

template <class T>
void sparse_categorical_crossentropy_backward(const T* pred, const int32_t* y,
                                              const T* sample_weight, const uint8_t* mask,
                                              int64_t B, int64_t steps, int64_t K, bool from_logits,
                                              const T* d_loss, const double* denom, T* d_pred,
                                              cudaStream_t stream) {
  check_dims(B, steps, K, "cuda::sparse_categorical_crossentropy_backward");
  const int64_t n = B * steps;
  const ScceGrad<T> grad{pred, y, K, from_logits, d_pred};
  EMBER_LAUNCH((loss_backward_kernel<T, ScceGrad<T>>), grid_for(n), kBlockThreads, 0, stream, grad,
               sample_weight, mask, n, steps, d_loss, denom);
  EMBER_CUDA_CHECK_LAUNCH("loss_backward_kernel (sparse_categorical_crossentropy)");
}

template <class T>
void binary_accuracy_counts(const T* pred, const T* y, const uint8_t* mask, int64_t B,
                            int64_t steps, bool from_logits, double* counts, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream) {
  const char* op = "cuda::binary_accuracy_counts";
  check_dims(B, steps, 1, op);
  check_workspace(workspace, workspace_bytes, op);
  BinaryAccuracyTerm<T> term{pred, y, mask, steps, from_logits};
  reduce_pairs<T, false>(term, B * steps, mask != nullptr, static_cast<T*>(nullptr), counts,
                         workspace, stream, op);
}

template <class T>
void sparse_accuracy_counts(const T* pred, const int32_t* y, const uint8_t* mask, int64_t B,
                            int64_t steps, int64_t K, double* counts, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream) {
  const char* op = "cuda::sparse_accuracy_counts";
  check_dims(B, steps, K, op);
  check_workspace(workspace, workspace_bytes, op);
  SparseAccuracyTerm<T> term{pred, y, mask, steps, K};
  reduce_pairs<T, false>(term, B * steps, mask != nullptr, static_cast<T*>(nullptr), counts,
                         workspace, stream, op);
}

#define EMBER_INSTANTIATE_LOSSES_CUDA(T)                                                           \
  template void binary_crossentropy_forward<T>(const T*, const T*, const T*, const uint8_t*,       \
                                               int64_t, int64_t, bool, T*, double*, void*, size_t, \
                                               cudaStream_t);                                      \
  template void binary_crossentropy_backward<T>(const T*, const T*, const T*, const uint8_t*,      \
                                                int64_t, int64_t, bool, const T*, const double*,   \
                                                T*, cudaStream_t);                                 \
  template void sparse_categorical_crossentropy_forward<T>(                                        \
      const T*, const int32_t*, const T*, const uint8_t*, int64_t, int64_t, int64_t, bool, T*,     \
      double*, void*, size_t, cudaStream_t);                                                       \
  template void sparse_categorical_crossentropy_backward<T>(                                       \
      const T*, const int32_t*, const T*, const uint8_t*, int64_t, int64_t, int64_t, bool,         \
      const T*, const double*, T*, cudaStream_t);                                                  \
  template void binary_accuracy_counts<T>(const T*, const T*, const uint8_t*, int64_t, int64_t,    \
                                          bool, double*, void*, size_t, cudaStream_t);             \
  template void sparse_accuracy_counts<T>(const T*, const int32_t*, const uint8_t*, int64_t,       \
                                          int64_t, int64_t, double*, void*, size_t, cudaStream_t);
EMBER_INSTANTIATE_LOSSES_CUDA(float)
EMBER_INSTANTIATE_LOSSES_CUDA(double)
#undef EMBER_INSTANTIATE_LOSSES_CUDA

}  // namespace ember::cuda
