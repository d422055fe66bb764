// Merging two tensors, as Bidirectional's merge_mode does: concat joins the last axis
// (a [R,Ha] ++ b [R,Hb] -> [R,Ha+Hb], R = product of the leading dims); sum, mul and ave are
// elementwise over equal shapes [N]. Deterministic. The backward functions ACCUMULATE and
// allow d_a and d_b to be the same buffer (merge(x, x) adds both contributions to it).
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember {

enum class MergeMode { kConcat, kSum, kMul, kAve };

}  // namespace ember

namespace ember::ref {

// a [R,Ha], b [R,Hb] -> y [R,Ha+Hb] OVERWRITTEN.
template <class T>
void merge_concat_forward(const T* a, const T* b, T* y, int64_t rows, int64_t width_a,
                          int64_t width_b);
// d_y [R,Ha+Hb] -> d_a [R,Ha], d_b [R,Hb] ACCUMULATED (+=); either may be null (skipped).
template <class T>
void merge_concat_backward(const T* d_y, T* d_a, T* d_b, int64_t rows, int64_t width_a,
                           int64_t width_b);

// mode sum | mul | ave: a, b, y [N]; y OVERWRITTEN (may alias a or b).
template <class T>
void merge_elementwise_forward(MergeMode mode, const T* a, const T* b, T* y, int64_t n);
// d_y [N] -> d_a, d_b [N] ACCUMULATED (+=); either may be null. mul reads a and b (the
// forward inputs); sum and ave ignore them (they may be null then).
template <class T>
void merge_elementwise_backward(MergeMode mode, const T* a, const T* b, const T* d_y, T* d_a,
                                T* d_b, int64_t n);

}  // namespace ember::ref

namespace ember::cuda {

// Same contracts as ref:: above, on device pointers, queued on `stream`. Backward keeps the
// reference's order of additions when d_a and d_b are one buffer: concat adds d_a's slice in
// one kernel and then d_b's in a second (same stream, so never concurrently); the elementwise
// backward adds d_a's then d_b's contribution within one thread. Deterministic.
template <class T>
void merge_concat_forward(const T* a, const T* b, T* y, int64_t rows, int64_t width_a,
                          int64_t width_b, cudaStream_t stream);
template <class T>
void merge_concat_backward(const T* d_y, T* d_a, T* d_b, int64_t rows, int64_t width_a,
                           int64_t width_b, cudaStream_t stream);
template <class T>
void merge_elementwise_forward(MergeMode mode, const T* a, const T* b, T* y, int64_t n,
                               cudaStream_t stream);
template <class T>
void merge_elementwise_backward(MergeMode mode, const T* a, const T* b, const T* d_y, T* d_a,
                                T* d_b, int64_t n, cudaStream_t stream);

}  // namespace ember::cuda
