// Deterministic column sums of a row-major [rows, cols] matrix on the GPU (column_sums_add and
// its workspace size, declared in kernels/lstm/lstm_cuda.h): the LSTM's d_bias is the column sum of
// d_gates over all B*T rows. Accumulated in double in a fixed order, with no atomics: each
// (column, 64-row chunk) partial sum is one thread's loop, then one thread per column adds the
// chunks in order. Block (kSumCols, kSumChunks) = (32 columns, 8 chunks).
#include <cuda_runtime.h>

#include <algorithm>

#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "engine/cuda/launch.cuh"
#include "kernels/lstm/lstm_cuda.h"

namespace ember::cuda {

namespace {

constexpr int64_t kSumChunkRows = 64;
constexpr int kSumCols = 32, kSumChunks = 8;  // block shape of the partial-sum kernel

int64_t chunk_rows(int64_t rows) {
  // Enough rows per chunk that the chunk count fits gridDim.y (65535 blocks of kSumChunks).
  const int64_t cap = int64_t{65535} * kSumChunks;
  return std::max(kSumChunkRows, ceil_div(rows, cap));
}

template <class T>
__global__ void column_partial_sums_kernel(const T* m, int64_t rows, int64_t cols,
                                           int64_t rows_per_chunk, int64_t chunks,
                                           double* partial) {
  const int64_t col = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t chunk = static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y;
  if (col >= cols || chunk >= chunks) return;
  const int64_t r0 = chunk * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < rows ? r0 + rows_per_chunk : rows;
  double acc = 0.0;
  for (int64_t r = r0; r < r1; ++r) acc += static_cast<double>(m[r * cols + col]);
  partial[chunk * cols + col] = acc;
}

template <class T>
__global__ void column_sums_finish_kernel(const double* partial, int64_t chunks, int64_t cols,
                                          T* out) {
  const int64_t col = global_thread_index();
  if (col >= cols) return;
  double acc = 0.0;
  for (int64_t k = 0; k < chunks; ++k) acc += partial[k * cols + col];
  out[col] += static_cast<T>(acc);
}

}  // namespace

int64_t column_sums_workspace(int64_t rows, int64_t cols) {
  const int64_t per = chunk_rows(rows);
  return std::max<int64_t>(1, ceil_div(rows, per)) * cols;
}

template <class T>
void column_sums_add(const T* m, int64_t rows, int64_t cols, double* partial, T* out,
                     cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const int64_t per = chunk_rows(rows);
  const int64_t chunks = ceil_div(rows, per);
  const dim3 block(kSumCols, kSumChunks);
  const dim3 grid(static_cast<unsigned>(ceil_div(cols, kSumCols)),
                  static_cast<unsigned>(ceil_div(chunks, kSumChunks)));
  EMBER_LAUNCH(column_partial_sums_kernel<T>, grid, block, 0, stream, m, rows, cols, per, chunks,
               partial);
  EMBER_CUDA_CHECK_LAUNCH("column_partial_sums_kernel");
  EMBER_LAUNCH(column_sums_finish_kernel<T>, blocks_for(cols), kBlockThreads, 0, stream, partial,
               chunks, cols, out);
  EMBER_CUDA_CHECK_LAUNCH("column_sums_finish_kernel");
}

template void column_sums_add<float>(const float*, int64_t, int64_t, double*, float*, cudaStream_t);
template void column_sums_add<double>(const double*, int64_t, int64_t, double*, double*,
                                      cudaStream_t);

}  // namespace ember::cuda
