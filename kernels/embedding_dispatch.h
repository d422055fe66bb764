// Backend-neutral embedding lookup (kernels/embedding.h), the contracts of ref::embedding_*
// and ref::nonzero_mask. The CPU forward and backward validate ids; the CUDA ones do not
// (callers check host ids with ref::embedding_check_ids before uploading). The CUDA backward
// needs embedding_backward_workspace_bytes(ex, ...) bytes of device scratch; 0 on the CPU,
// whose workspace arguments are ignored and may be null.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/core/exec.h"
#include "kernels/embedding.h"

namespace ember::kern {

void nonzero_mask(const Exec& ex, const int32_t* ids, uint8_t* mask, int64_t n);

template <class T>
void embedding_forward(const Exec& ex, const T* weight, const int32_t* ids, T* out, int64_t batch,
                       int64_t steps, int64_t vocab, int64_t dim);

size_t embedding_backward_workspace_bytes(const Exec& ex, int64_t batch, int64_t steps,
                                          int64_t vocab, int64_t dim);
template <class T>
void embedding_backward(const Exec& ex, const T* d_out, const int32_t* ids, T* d_weight,
                        int64_t batch, int64_t steps, int64_t vocab, int64_t dim, void* workspace,
                        size_t workspace_bytes);

}  // namespace ember::kern
