// CUDA side of kernels/dense.h: cuBLAS gemm for the products (row-major through the
// column-major API: C^T = B^T A^T), Ember kernels for the bias broadcast and the bias gradient.
// The bias gradient is a two-pass column sum: blocks of 256 threads sum fixed row chunks per
// column tile (the tile width follows U, so U = 1 still uses the whole block), then one thread
// per unit adds the chunk partials in chunk order. No atomics; the order depends only on shapes.
#include <cublas_v2.h>

#include <climits>

#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/dense.h"

namespace ember::cuda {

namespace {

template <class T>
__global__ void bias_broadcast_kernel(const T* __restrict__ bias, T* __restrict__ y, int64_t rows,
                                      int64_t units) {
  for (int64_t i = global_thread_index(); i < rows * units; i += grid_stride())
    y[i] = bias[i % units];
}

// Block (chunk, tile): TC columns x (256/TC) row groups; thread (tc, rg) sums rows
// chunk*kDenseBiasRows + rg, + RG, ... of column tile*TC + tc; the row groups are then added
// in rg order.
template <class T>
__global__ void bias_grad_partial_kernel(const T* __restrict__ d_y, double* __restrict__ partial,
                                         int64_t rows, int64_t units, int tile_cols) {
  EMBER_SHARED(double, s, kBlockThreads);
  const int tc = threadIdx.x % tile_cols, rg = threadIdx.x / tile_cols;
  const int groups = kBlockThreads / tile_cols;
  const int64_t col = static_cast<int64_t>(blockIdx.y) * tile_cols + tc;
  const int64_t r0 = static_cast<int64_t>(blockIdx.x) * kDenseBiasRows;
  const int64_t r1 = r0 + kDenseBiasRows < rows ? r0 + kDenseBiasRows : rows;
  double acc = 0.0;
  if (col < units)
    for (int64_t r = r0 + rg; r < r1; r += groups) acc += static_cast<double>(d_y[r * units + col]);
  s[threadIdx.x] = acc;
  __syncthreads();
  if (rg == 0 && col < units) {
    double total = s[tc];
    for (int g = 1; g < groups; ++g) total += s[g * tile_cols + tc];
    partial[static_cast<int64_t>(blockIdx.x) * units + col] = total;
  }
}

template <class T>
__global__ void bias_grad_final_kernel(const double* __restrict__ partial, T* __restrict__ d_bias,
                                       int64_t chunks, int64_t units) {
  for (int64_t u = global_thread_index(); u < units; u += grid_stride()) {
    double acc = 0.0;
    for (int64_t c = 0; c < chunks; ++c) acc += partial[c * units + u];
    d_bias[u] += static_cast<T>(acc);
  }
}

// Column-major gemm: C[m,n] = alpha op(A) op(B) + beta C.
void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
          float alpha, const float* a, int lda, const float* b, int ldb, float beta, float* c,
          int ldc) {
  EMBER_CUBLAS_CHECK(cublasSgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc));
}
void gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
          double alpha, const double* a, int lda, const double* b, int ldb, double beta, double* c,
          int ldc) {
  EMBER_CUBLAS_CHECK(cublasDgemm(h, ta, tb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc));
}

void check_dims(cublasHandle_t handle, int64_t rows, int64_t in_features, int64_t units,
                cudaStream_t stream, const char* op) {
  EMBER_CHECK_ARG(handle, op << ": null cuBLAS handle");
  EMBER_CHECK_ARG(rows >= 0 && in_features > 0 && units > 0 && rows <= INT_MAX &&
                      in_features <= INT_MAX && units <= INT_MAX,
                  op << ": bad dims N=" << rows << " C=" << in_features << " U=" << units);
  cudaStream_t bound = nullptr;
  EMBER_CUBLAS_CHECK(cublasGetStream(handle, &bound));
  EMBER_CHECK_ARG(bound == stream, op << ": the cuBLAS handle is bound to another stream than "
                                         "the one given; the bias kernels would race the gemm");
}

int tile_cols_for(int64_t units) {
  int tc = 1;
  while (tc < kWarp && tc < units) tc *= 2;
  return tc;
}

}  // namespace

size_t dense_backward_workspace_bytes(int64_t rows, int64_t units) {
  return static_cast<size_t>(ceil_div(rows, kDenseBiasRows) * units) * sizeof(double);
}

template <class T>
void dense_forward(cublasHandle_t handle, const T* x, const T* kernel, const T* bias, T* y,
                   int64_t rows, int64_t in_features, int64_t units, cudaStream_t stream) {
  check_dims(handle, rows, in_features, units, stream, "cuda::dense_forward");
  if (rows == 0) return;
  if (bias) {
    EMBER_LAUNCH(bias_broadcast_kernel<T>, grid_for(rows * units), kBlockThreads, 0, stream, bias,
                 y, rows, units);
    EMBER_CUDA_CHECK_LAUNCH("bias_broadcast_kernel");
  }
  // y^T [U,N] (+)= kernel^T [U,C] x^T [C,N]: row-major kernel [C,U] is column-major [U,C].
  const int n = static_cast<int>(rows), c = static_cast<int>(in_features),
            u = static_cast<int>(units);
  gemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, u, n, c, T(1), kernel, u, x, c, bias ? T(1) : T(0), y, u);
}

template <class T>
void dense_backward(cublasHandle_t handle, const T* x, const T* kernel, const T* d_y, T* d_x,
                    T* d_kernel, T* d_bias, int64_t rows, int64_t in_features, int64_t units,
                    void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  check_dims(handle, rows, in_features, units, stream, "cuda::dense_backward");
  if (rows == 0) return;
  const int n = static_cast<int>(rows), c = static_cast<int>(in_features),
            u = static_cast<int>(units);
  if (d_x)  // d_x^T [C,N] += kernel [C,U] d_y^T [U,N]
    gemm(handle, CUBLAS_OP_T, CUBLAS_OP_N, c, n, u, T(1), kernel, u, d_y, u, T(1), d_x, c);
  if (d_kernel)  // d_kernel^T [U,C] += d_y^T [U,N] x [N,C]
    gemm(handle, CUBLAS_OP_N, CUBLAS_OP_T, u, c, n, T(1), d_y, u, x, c, T(1), d_kernel, u);
  if (d_bias) {
    const size_t need = dense_backward_workspace_bytes(rows, units);
    EMBER_CHECK_ARG(workspace && workspace_bytes >= need, "cuda::dense_backward: workspace of "
                                                              << workspace_bytes << " bytes, needs "
                                                              << need);
    auto* partial = static_cast<double*>(workspace);
    const int tc = tile_cols_for(units);
    const int64_t chunks = ceil_div(rows, kDenseBiasRows);
    EMBER_CHECK_ARG(ceil_div(units, tc) <= 65535,
                    "cuda::dense_backward: " << units << " units is too many for the bias grid");
    const dim3 grid(static_cast<unsigned>(chunks), static_cast<unsigned>(ceil_div(units, tc)));
    EMBER_LAUNCH(bias_grad_partial_kernel<T>, grid, kBlockThreads, 0, stream, d_y, partial, rows,
                 units, tc);
    EMBER_CUDA_CHECK_LAUNCH("bias_grad_partial_kernel");
    EMBER_LAUNCH(bias_grad_final_kernel<T>, grid_for(units), kBlockThreads, 0, stream, partial,
                 d_bias, chunks, units);
    EMBER_CUDA_CHECK_LAUNCH("bias_grad_final_kernel");
  }
}

#define EMBER_INSTANTIATE_DENSE_CUDA(T)                                                     \
  template void dense_forward<T>(cublasHandle_t, const T*, const T*, const T*, T*, int64_t, \
                                 int64_t, int64_t, cudaStream_t);                           \
  template void dense_backward<T>(cublasHandle_t, const T*, const T*, const T*, T*, T*, T*, \
                                  int64_t, int64_t, int64_t, void*, size_t, cudaStream_t);
EMBER_INSTANTIATE_DENSE_CUDA(float)
EMBER_INSTANTIATE_DENSE_CUDA(double)
#undef EMBER_INSTANTIATE_DENSE_CUDA

}  // namespace ember::cuda
