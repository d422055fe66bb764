// Keras cross-entropy losses and accuracy counts. Dims: B samples, T steps (T = 1 for one
// prediction per sample), K classes; rightmost fastest. The label of sample b applies to
// every step t. Per element (b,t) a loss l[b,t] is computed in T precision (as Keras does in
// the model's dtype); the reduction is accumulated in double and written as one scalar:
//   loss = sum_{b,t} w[b] * m[b,t] * l[b,t] / D,  D = B*T without a mask, D = sum m with one,
// where w = sample_weight (1 when null) and m = mask (1 when null). D = 0 (everything masked)
// gives loss 0 and zero gradients. Not divided by sum(w): Keras's sum_over_batch_size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::ref {

// Keras's epsilon(): probabilities are clipped to [kLossEpsilon, 1 - kLossEpsilon].
constexpr double kLossEpsilon = 1e-7;

// Binary cross-entropy.
//   pred           [B,T]  probabilities, or logits when from_logits
//   y              [B]    targets in [0, 1] (0/1 labels; soft labels allowed)
//   sample_weight  [B]    or null
//   mask           [B,T]  uint8, nonzero = step counts; or null
//   loss           [1]    overwritten
// Probabilities follow tf.keras 2.x backend.binary_crossentropy exactly:
//   p' = clip(p, eps, 1-eps);  l = -(y log(p' + eps) + (1-y) log(1 - p' + eps))
// (the "+ eps" inside the logs is tf.keras's; Keras 3 dropped it. We keep it because the seeds
// are tf.keras programs, and it reproduces tf.keras's documented BinaryCrossentropy example,
// 11.522857 for y=[0,0,1,1], p=[1,1,1,0] in float32.) clip's gradient is TF's: zero where
// p < eps or p > 1-eps, passed through at the bounds themselves.
// Logits: l = max(z,0) - z y + log(1 + exp(-|z|)) (tf.nn.sigmoid_cross_entropy_with_logits),
// gradient sigmoid(z) - y. Note: in tf.keras fit(), a loss on a sigmoid/softmax layer's output
// silently takes that layer's logits (backend._get_logits), so Keras never clips there; the
// caller matches that by passing logits with from_logits, and the clipped form is for
// probabilities that did not come straight from a sigmoid/softmax.
// Throws std::invalid_argument for a target outside [0, 1], naming the row.
template <class T>
void binary_crossentropy_forward(const T* pred, const T* y, const T* sample_weight,
                                 const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                 T* loss);
// d_pred [B,T] ACCUMULATED (+=) with d_loss * d loss / d pred. Deterministic (no reductions).
template <class T>
void binary_crossentropy_backward(const T* pred, const T* y, const T* sample_weight,
                                  const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                  double d_loss, T* d_pred);

// Sparse categorical cross-entropy.
//   pred           [B,T,K] probabilities (a softmax output), or logits when from_logits
//   y              [B]     int32 class ids in [0, K)
//   sample_weight, mask, loss: as above
// Probabilities: q = p[y] / sum_k p[k] (Keras renormalizes), l = -log(clip(q, eps, 1-eps));
// gradient -1/p[y] + 1/sum_k p[k] on the label's class and 1/sum_k p[k] on the others, zero
// when clipping is active. Logits: l = logsumexp(z) - z[y], gradient softmax(z) - onehot(y).
// Throws std::invalid_argument for a label outside [0, K), naming the label and the row.
template <class T>
void sparse_categorical_crossentropy_forward(const T* pred, const int32_t* y,
                                             const T* sample_weight, const uint8_t* mask, int64_t B,
                                             int64_t steps, int64_t K, bool from_logits, T* loss);
// d_pred [B,T,K] ACCUMULATED (+=). Deterministic.
template <class T>
void sparse_categorical_crossentropy_backward(const T* pred, const int32_t* y,
                                              const T* sample_weight, const uint8_t* mask,
                                              int64_t B, int64_t steps, int64_t K, bool from_logits,
                                              double d_loss, T* d_pred);

// Accuracy counts over the unmasked (b,t): *correct and *total are OVERWRITTEN.
// Binary (Keras binary_accuracy): pred [B,T], y [B]; predicted class 1 iff pred > 0.5 (> 0 for
// logits); correct iff it equals y exactly (Keras compares with tf.equal).
template <class T>
void binary_accuracy_counts(const T* pred, const T* y, const uint8_t* mask, int64_t B,
                            int64_t steps, bool from_logits, double* correct, double* total);
// Sparse (Keras sparse_categorical_accuracy): pred [B,T,K], y [B] int32; the prediction is
// the first index of the maximum (tf.argmax), for probabilities and logits alike.
template <class T>
void sparse_accuracy_counts(const T* pred, const int32_t* y, const uint8_t* mask, int64_t B,
                            int64_t steps, int64_t K, double* correct, double* total);

}  // namespace ember::ref

namespace ember::cuda {

// Same formulas as ref:: above, on device pointers, queued on `stream`; nothing synchronizes.
// Per element the loss and gradient are computed in T with the reference's expressions (one
// thread per (b,t), looping over K in class order, so the probability renormalization sums in
// the reference's order); the weighted mean and the mask count are reduced in double by
// kLossBlocks fixed blocks, then one block adds their partials in order: deterministic.
// Targets are NOT validated on the device (that needs a host round trip): callers check
// host-side labels with the reference's rules before uploading. A target outside [0, 1] or a
// class id outside [0, K) makes that element's loss and gradient NaN; nothing is read out of
// bounds. mask: uint8, nonzero = counts. sample_weight and mask may be null.
//   loss   [1] T       OVERWRITTEN (0 when everything is masked)
//   denom  [1] double  OVERWRITTEN with D (B*T, or the mask count); the backward reads it
//   d_loss [1] T       the loss's incoming gradient, read on the device
//   d_pred            ACCUMULATED (+=); untouched when D = 0
// `workspace`: loss_workspace_bytes() bytes of device scratch.
constexpr int kLossBlocks = 128;
size_t loss_workspace_bytes();

template <class T>
void binary_crossentropy_forward(const T* pred, const T* y, const T* sample_weight,
                                 const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                 T* loss, double* denom, void* workspace, size_t workspace_bytes,
                                 cudaStream_t stream);
template <class T>
void binary_crossentropy_backward(const T* pred, const T* y, const T* sample_weight,
                                  const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                  const T* d_loss, const double* denom, T* d_pred,
                                  cudaStream_t stream);
template <class T>
void sparse_categorical_crossentropy_forward(const T* pred, const int32_t* y,
                                             const T* sample_weight, const uint8_t* mask, int64_t B,
                                             int64_t steps, int64_t K, bool from_logits, T* loss,
                                             double* denom, void* workspace, size_t workspace_bytes,
                                             cudaStream_t stream);
template <class T>
void sparse_categorical_crossentropy_backward(const T* pred, const int32_t* y,
                                              const T* sample_weight, const uint8_t* mask,
                                              int64_t B, int64_t steps, int64_t K, bool from_logits,
                                              const T* d_loss, const double* denom, T* d_pred,
                                              cudaStream_t stream);

// counts [2] double OVERWRITTEN: {correct, total} over the unmasked (b,t), as the ref counts.
template <class T>
void binary_accuracy_counts(const T* pred, const T* y, const uint8_t* mask, int64_t B,
                            int64_t steps, bool from_logits, double* counts, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream);
template <class T>
void sparse_accuracy_counts(const T* pred, const int32_t* y, const uint8_t* mask, int64_t B,
                            int64_t steps, int64_t K, double* counts, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream);

}  // namespace ember::cuda
