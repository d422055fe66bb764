// Dropout (one draw per element) and SpatialDropout1D (one draw per (sample, channel), shared
// by every time step), with inverted scaling: kept values are multiplied by 1/(1-rate).
// Masks are a pure function of (seed, offset, index) through ember::dropout_keep
// (engine/core/rng.h), so the backward regenerates the mask instead of storing it, and the CUDA
// kernels will draw the same bits. Deterministic; no state.
//  - rate 0 is the identity; rate 1 drops everything and never divides by zero.
//  - the scale is computed in double, 1/(1-rate), then rounded to T once.
//  - index_base shifts the draws: element i draws Philox index index_base + i. A data-parallel
//    rank holding rows [lo, hi) of a global batch passes lo * (draws per row), so it draws
//    exactly the mask rows a single process would for the whole batch.
#pragma once

#include <cstdint>

#include "engine/cuda/cuda_fwd.h"

namespace ember::ref {

// x, y [N] (any shape, flat index i draws Philox index index_base + i of stream (seed,
// offset)). y OVERWRITTEN; y may alias x (in place).
template <class T>
void dropout_forward(const T* x, T* y, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     uint64_t index_base = 0);

// d_y, d_x [N]: d_x ACCUMULATED (+=) with d_y * mask * scale, the same mask as the forward.
template <class T>
void dropout_backward(const T* d_y, T* d_x, int64_t n, double rate, uint64_t seed, uint64_t offset,
                      uint64_t index_base = 0);

// x, y [B,T,C]: element (b,t,c) keeps iff Philox index index_base + b*C + c keeps, for every
// t. y OVERWRITTEN; y may alias x.
template <class T>
void spatial_dropout1d_forward(const T* x, T* y, int64_t batch, int64_t steps, int64_t channels,
                               double rate, uint64_t seed, uint64_t offset,
                               uint64_t index_base = 0);

// d_y, d_x [B,T,C]: d_x ACCUMULATED (+=) with d_y * mask * scale.
template <class T>
void spatial_dropout1d_backward(const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                uint64_t index_base = 0);

}  // namespace ember::ref

namespace ember::cuda {

// Same contracts as ref:: above (overwrite / accumulate, aliasing, rate in [0, 1] checked),
// on device pointers, queued on `stream`. The masks are bit-identical to the reference's: each
// thread evaluates one Philox block and uses its 4 lanes for 4 consecutive draws, exactly the
// indexing of ember::dropout_keep. Deterministic (elementwise, no reductions).
// index_base as above; the draws stay bit-identical to the reference's for any base (threads
// own one Philox block of the shifted index range each, so a base that is not a multiple of 4
// only leaves the first and last blocks partly used).
template <class T>
void dropout_forward(const T* x, T* y, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     cudaStream_t stream, uint64_t index_base = 0);
template <class T>
void dropout_backward(const T* d_y, T* d_x, int64_t n, double rate, uint64_t seed, uint64_t offset,
                      cudaStream_t stream, uint64_t index_base = 0);
template <class T>
void spatial_dropout1d_forward(const T* x, T* y, int64_t batch, int64_t steps, int64_t channels,
                               double rate, uint64_t seed, uint64_t offset, cudaStream_t stream,
                               uint64_t index_base = 0);
template <class T>
void spatial_dropout1d_backward(const T* d_y, T* d_x, int64_t batch, int64_t steps,
                                int64_t channels, double rate, uint64_t seed, uint64_t offset,
                                cudaStream_t stream, uint64_t index_base = 0);

}  // namespace ember::cuda
