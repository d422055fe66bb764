// The generic cuBLAS pieces every GPU path uses (declared in kernels/lstm/lstm_cuda.h, where the
// callers include them from): cublas_for, a cuBLAS handle per (device, stream) with its own
// workspace, and gemm_rm, a row-major gemm on top of column-major cuBLAS. Matrices are
// row-major with leading dimensions = row strides; sizes are int64_t at the interface and
// must fit cuBLAS's int (the callers check).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <type_traits>
#include <utility>

#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "kernels/lstm/lstm_cuda.h"

namespace ember::cuda {

namespace {

// A cuBLAS handle for a stream other than the context's main one, created once per stream
// (never in the training loop) and released at exit, where errors are ignored: as in
// cuda::Context's destructor, the driver may already be gone.
struct StreamBlas {
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
  StreamBlas() = default;
  StreamBlas(const StreamBlas&) = delete;
  StreamBlas& operator=(const StreamBlas&) = delete;
  ~StreamBlas() {
    if (handle) (void)cublasDestroy(handle);
    if (workspace) (void)cudaFree(workspace);
  }
};

constexpr size_t kSideBlasWorkspace = size_t{32} << 20;  // cuBLAS's recommendation for Hopper

}  // namespace

cublasHandle_t cublas_for(int device, cudaStream_t stream) {
  Context& ctx = Context::get(device);
  if (stream == ctx.stream()) return ctx.cublas();
  static std::mutex mu;
  static std::map<std::pair<int, cudaStream_t>, StreamBlas> handles;
  std::lock_guard<std::mutex> lock(mu);
  StreamBlas& sb = handles[{device, stream}];
  if (!sb.handle) {
    EMBER_CUDA_CHECK(cudaSetDevice(device));
    EMBER_CUDA_CHECK(cudaMalloc(&sb.workspace, kSideBlasWorkspace));
    EMBER_CUBLAS_CHECK(cublasCreate(&sb.handle));
    EMBER_CUBLAS_CHECK(cublasSetStream(sb.handle, stream));  // resets the workspace: set it after
    EMBER_CUBLAS_CHECK(cublasSetWorkspace(sb.handle, sb.workspace, kSideBlasWorkspace));
    EMBER_CUBLAS_CHECK(cublasSetMathMode(sb.handle, CUBLAS_DEFAULT_MATH));
  }
  return sb.handle;
}

// Row-major C = A·B is column-major C^T = B^T·A^T: swap the operands and the sizes.
template <class T>
void gemm_rm(cublasHandle_t h, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha,
             const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const cublasOperation_t op_a = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
  if constexpr (std::is_same_v<T, float>)
    EMBER_CUBLAS_CHECK(cublasSgemm(h, op_b, op_a, in, im, ik, &alpha, b, static_cast<int>(ldb), a,
                                   static_cast<int>(lda), &beta, c, static_cast<int>(ldc)));
  else
    EMBER_CUBLAS_CHECK(cublasDgemm(h, op_b, op_a, in, im, ik, &alpha, b, static_cast<int>(ldb), a,
                                   static_cast<int>(lda), &beta, c, static_cast<int>(ldc)));
}
template void gemm_rm<float>(cublasHandle_t, bool, bool, int64_t, int64_t, int64_t, float,
                             const float*, int64_t, const float*, int64_t, float, float*, int64_t);
template void gemm_rm<double>(cublasHandle_t, bool, bool, int64_t, int64_t, int64_t, double,
                              const double*, int64_t, const double*, int64_t, double, double*,
                              int64_t);

}  // namespace ember::cuda
