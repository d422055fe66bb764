// Embedding lookup: out[b,t,:] = weight[ids[b,t], :], and its backward, a scatter-add of the
// output gradient into the rows of d_weight. Dims: B batch, T time, V vocab, E embedding.
// The backward is deterministic by construction: positions are bucketed by token id (counting
// sort), then each row sums its positions in increasing (b,t) order, so repeated ids never
// race and two runs give identical bits (no float atomics; no O(B*T*V) scan).
#pragma once

#include <cstdint>

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

}  // namespace ember::ref
