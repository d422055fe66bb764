// Backend-neutral losses and accuracy counts (kernels/losses.h), one signature for both
// backends: the CUDA contract's, whose extra arguments the CPU ignores. So
//   denom    [1] double  written by the CUDA forward, read by its backward; unused on the CPU
//   d_loss   [1] T       the loss's incoming gradient, on ex.device (the CPU reads *d_loss)
//   counts   [2] double  {correct, total}, OVERWRITTEN on both
//   workspace            loss_workspace_bytes(ex) bytes of scratch: 0 on the CPU (may be null)
// The CPU validates labels as it reads them; the CUDA kernels do not (see losses.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/core/exec.h"
#include "kernels/losses.h"

namespace ember::kern {

size_t loss_workspace_bytes(const Exec& ex);

template <class T>
void binary_crossentropy_forward(const Exec& ex, const T* pred, const T* y, const T* sample_weight,
                                 const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                 T* loss, double* denom, void* workspace, size_t workspace_bytes);
template <class T>
void binary_crossentropy_backward(const Exec& ex, const T* pred, const T* y, const T* sample_weight,
                                  const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                  const T* d_loss, const double* denom, T* d_pred);
template <class T>
void sparse_categorical_crossentropy_forward(const Exec& ex, const T* pred, const int32_t* y,
                                             const T* sample_weight, const uint8_t* mask, int64_t B,
                                             int64_t steps, int64_t K, bool from_logits, T* loss,
                                             double* denom, void* workspace,
                                             size_t workspace_bytes);
template <class T>
void sparse_categorical_crossentropy_backward(const Exec& ex, const T* pred, const int32_t* y,
                                              const T* sample_weight, const uint8_t* mask,
                                              int64_t B, int64_t steps, int64_t K, bool from_logits,
                                              const T* d_loss, const double* denom, T* d_pred);
template <class T>
void binary_accuracy_counts(const Exec& ex, const T* pred, const T* y, const uint8_t* mask,
                            int64_t B, int64_t steps, bool from_logits, double* counts,
                            void* workspace, size_t workspace_bytes);
template <class T>
void sparse_accuracy_counts(const Exec& ex, const T* pred, const int32_t* y, const uint8_t* mask,
                            int64_t B, int64_t steps, int64_t K, double* counts, void* workspace,
                            size_t workspace_bytes);

}  // namespace ember::kern
