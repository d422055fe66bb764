// Embedding lookup: out[b,t,:] = weight[ids[b,t], :], and its backward, a scatter-add of the
// output gradient into the rows of d_weight. Dims: B batch, T time, V vocab, E embedding.
// The backward is deterministic by construction: positions are bucketed by token id (counting
// sort), then each row sums its positions in increasing (b,t) order, so repeated ids never
// race and two runs give identical bits (no float atomics; no O(B*T*V) scan).
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::ref {

// Throws std::invalid_argument naming the first id outside [0,V) and its position (b, t).
// ids [B,T] int32.
void embedding_check_ids(const int32_t* ids, int64_t batch, int64_t steps, int64_t vocab);

// weight [V,E], ids [B,T] int32 (checked: all in [0,V)), out [B,T,E] OVERWRITTEN.
// out must not alias weight.
template <class T>
void embedding_forward(const T* weight, const int32_t* ids, T* out, int64_t batch, int64_t steps,
                       int64_t vocab, int64_t dim);

// d_out [B,T,E], ids [B,T] int32 (checked), d_weight [V,E] ACCUMULATED (+=). Rows whose id
// never occurs are left untouched. Each row's contributions are summed in double in (b,t)
// order, then added once to d_weight: deterministic, independent of thread count.
template <class T>
void embedding_backward(const T* d_out, const int32_t* ids, T* d_weight, int64_t batch,
                        int64_t steps, int64_t vocab, int64_t dim);

// mask_zero's mask: mask[i] = ids[i] != 0 ? 1 : 0 for i < n (uint8 OVERWRITTEN).
void nonzero_mask(const int32_t* ids, uint8_t* mask, int64_t n);

}  // namespace ember::ref

namespace ember::cuda {

// ref::nonzero_mask on the device, so mask_zero never copies the ids back to the host.
void nonzero_mask(const int32_t* ids, uint8_t* mask, int64_t n, cudaStream_t stream);

// Same contracts as ref:: above, on device pointers, queued on `stream` (never synchronized).
// ids are NOT checked on the device (that would need a host round trip): callers validate
// host-side ids with ref::embedding_check_ids before uploading them. An out-of-range id on the
// device gives a row of NaN in the forward and is skipped by the backward; nothing reads or
// writes out of bounds. Rows are gathered with 16-byte vector loads when E allows it
// (float: E % 4 == 0, double: E % 2 == 0, pointers 16-byte aligned).
template <class T>
void embedding_forward(const T* weight, const int32_t* ids, T* out, int64_t batch, int64_t steps,
                       int64_t vocab, int64_t dim, cudaStream_t stream);

// Deterministic backward without float atomics: (id, position) pairs are radix-sorted by id
// (stable, so positions stay ascending within an id); the sorted list is cut into fixed chunks
// of kEmbeddingChunk positions, each chunk sums (in double) the rows of each id run it holds,
// and a second pass adds, per id, its chunk partials in order and then adds the total to
// d_weight once. The summation order depends only on the ids, so runs are bitwise repeatable;
// long runs (padding id 0) are summed in parallel chunks. d_weight ACCUMULATED (+=).
// `workspace` is device memory of embedding_backward_workspace_bytes(batch, steps, vocab, dim)
// bytes (scratch; contents undefined before and after). B*T must be below 2^31.
constexpr int64_t kEmbeddingChunk = 32;
size_t embedding_backward_workspace_bytes(int64_t batch, int64_t steps, int64_t vocab, int64_t dim);
template <class T>
void embedding_backward(const T* d_out, const int32_t* ids, T* d_weight, int64_t batch,
                        int64_t steps, int64_t vocab, int64_t dim, void* workspace,
                        size_t workspace_bytes, cudaStream_t stream);

}  // namespace ember::cuda
