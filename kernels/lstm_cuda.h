// CUDA-only helpers shared by the LSTM's two GPU paths (kernels/lstm.cu, the fused one, and
// kernels/cudnn_rnn.cpp): library handles bound to a given stream, a row-major gemm, the
// variational dropout kernels, a deterministic column sum, and the layout kernels that move
// data between Keras's [B,T,*] / [C,4H] layouts and cuDNN's. Include only from CUDA builds.
// Every launcher queues on the stream it is given, checks its launch and never synchronizes.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace ember::cuda {

// The cuBLAS handle to use on `stream` of `device`: the context's own for its main stream; for
// any other stream a handle of its own, created once and bound to that stream, with a private
// workspace (one handle's default workspace must not serve two streams at once).
cublasHandle_t cublas_for(int device, cudaStream_t stream);

// Row-major C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C, with leading dimensions (row
// strides) lda, ldb, ldc. float and double; plain FP32/FP64 math.
template <class T>
void gemm_rm(cublasHandle_t h, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
             T alpha, const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c,
             int64_t ldc);

// factor[i] = dropout_keep(seed, offset, i, (float)rate) ? scale : 0 for i < n, the draw of
// kernels/lstm_ref.cpp (scale = T(1 / (1 - rate)), rounded once on the host).
template <class T>
void dropout_factors(T* factor, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     cudaStream_t stream);
// y[b,t,c] = f[b,c] != 0 ? x[b,t,c] * f[b,c] : 0 (a select: a dropped inf/NaN gives 0).
template <class T>
void apply_row_factors(const T* x, const T* f, T* y, int64_t nb, int64_t nt, int64_t nc,
                       cudaStream_t stream);
// dx[b,t,c] += w[b,t,c] * f[b,c] where f[b,c] != 0.
template <class T>
void add_row_factors(const T* w, const T* f, T* dx, int64_t nb, int64_t nt, int64_t nc,
                     cudaStream_t stream);

// out[j] += sum over r < rows of m[r, j] (m [rows, cols] row-major), accumulated in double in
// a fixed order: partial sums of 64-row chunks, then the chunks in order. `partial` is device
// workspace of column_sums_workspace(rows, cols) doubles.
int64_t column_sums_workspace(int64_t rows, int64_t cols);
template <class T>
void column_sums_add(const T* m, int64_t rows, int64_t cols, double* partial, T* out,
                     cudaStream_t stream);

// ---- cuDNN layout (cudnn_rnn_layout.cu) ----
// dst[b,k,:] = src_map[b*nk + k] >= 0 ? src[b, src_map[b*nk+k], :] : 0, for src [B,ns,n] and
// dst [B,nk,n]: gathers rows along the time axis (and zero-fills the rest).
template <class T>
void gather_time_rows(const T* src, int64_t ns, const int32_t* src_map, T* dst, int64_t nb,
                      int64_t nk, int64_t n, cudaStream_t stream);
// The transpose of gather_time_rows, accumulating: for every (b, k) with src_map >= 0,
// dst[b, src_map[b,k], :] (+)= src[b,k,:] * (factor ? factor[b,:] : 1), the factor applied as a
// select (0 stays 0). Each destination row must be named at most once per b.
template <class T>
void scatter_add_time_rows(const T* src, int64_t nk, const int32_t* src_map, const T* factor,
                           T* dst, int64_t ns, int64_t nb, int64_t n, cudaStream_t stream);
// The gradient of gather_time_rows when rows repeat: dst[b,k,:] = sum over p with
// map[b*np + p] == k of src[b,p,:] (dst [B,nk,n] OVERWRITTEN; p in increasing order).
template <class T>
void sum_time_rows(const T* src, int64_t np, const int32_t* map, T* dst, int64_t nk,
                   int64_t nb, int64_t n, cudaStream_t stream);

// Where cuDNN keeps the four gate matrices (or bias vectors) of one linear layer, as element
// offsets into its weight space, and the strides of a matrix [hidden unit, input unit].
struct CudnnGateBlocks {
  int64_t offset[4];
  int64_t stride_unit, stride_in;
};
// Keras matrix w [K,4H] (gate q = columns [qH, (q+1)H)) -> cuDNN's matrices:
// space[offset[q] + h*stride_unit + k*stride_in] = w[k, qH + h]; w null writes zeros.
template <class T>
void keras_to_cudnn(const T* w, T* space, const CudnnGateBlocks& blocks, int64_t k, int64_t h,
                    cudaStream_t stream);
// The reverse, ACCUMULATING: w[k, qH + h] += space[offset[q] + h*stride_unit + k*stride_in].
template <class T>
void cudnn_to_keras_add(const T* space, T* w, const CudnnGateBlocks& blocks, int64_t k,
                        int64_t h, cudaStream_t stream);

}  // namespace ember::cuda
