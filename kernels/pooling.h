// GlobalMaxPooling1D: y[b,c] = max over t of x[b,t,c], with the winning step saved so the
// backward routes d_y to it. Ties go to the FIRST maximum (smallest t), so the gradient is
// deterministic and lands on exactly one step per (b, c). Keras max-pools over every step;
// a mask is not consulted. Dims: B batch, T time (T >= 1), C channels.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::ref {

// x [B,T,C] -> y [B,C] OVERWRITTEN, argmax [B,C] int32 OVERWRITTEN (the t of the maximum).
// A NaN at step 0 stays the result (comparisons with NaN are false); later NaNs are skipped.
template <class T>
void global_max_pool1d_forward(const T* x, T* y, int32_t* argmax, int64_t batch, int64_t steps,
                               int64_t channels);

// d_y [B,C], argmax [B,C] from the forward -> d_x [B,T,C] ACCUMULATED (+=) at (b, argmax, c)
// only; every other element of d_x is untouched.
template <class T>
void global_max_pool1d_backward(const T* d_y, const int32_t* argmax, T* d_x, int64_t batch,
                                int64_t steps, int64_t channels);

}  // namespace ember::ref

namespace ember::cuda {

// Same contracts as ref:: above (first maximum wins, same NaN behaviour), on device pointers,
// queued on `stream`. One thread per (b, c) walks the steps, reading x coalesced over c; the
// backward writes one element per (b, c), so it needs no atomics. Deterministic.
template <class T>
void global_max_pool1d_forward(const T* x, T* y, int32_t* argmax, int64_t batch, int64_t steps,
                               int64_t channels, cudaStream_t stream);
template <class T>
void global_max_pool1d_backward(const T* d_y, const int32_t* argmax, T* d_x, int64_t batch,
                                int64_t steps, int64_t channels, cudaStream_t stream);

}  // namespace ember::cuda
