// Error checks for CUDA, cuBLAS and cuDNN calls. Each throws std::runtime_error naming the call
// as written, the library's error string and file:line; launchers add the op's name through
// EMBER_CUDA_CHECK_LAUNCH("op"). With EMBER_SYNC_CHECK every launch check also synchronises,
// so an asynchronous fault is reported at the op that caused it. Destructors use the _LOG
// variants, which print and never throw.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

namespace ember::cuda {

[[noreturn]] void throw_cuda(cudaError_t e, const char* call, const char* file, int line);
[[noreturn]] void throw_cublas(cublasStatus_t s, const char* call, const char* file, int line);
[[noreturn]] void throw_cudnn(cudnnStatus_t s, const char* call, const char* file, int line);
void log_cuda(cudaError_t e, const char* call, const char* file, int line);
// After a kernel launch: cudaGetLastError (and cudaDeviceSynchronize under EMBER_SYNC_CHECK).
void check_launch(const char* op, const char* file, int line);

}  // namespace ember::cuda

#define EMBER_CUDA_CHECK(call)                                                                   \
  do {                                                                                           \
    cudaError_t ember_e_ = (call);                                                               \
    if (ember_e_ != cudaSuccess) ::ember::cuda::throw_cuda(ember_e_, #call, __FILE__, __LINE__); \
  } while (0)

#define EMBER_CUBLAS_CHECK(call)                                        \
  do {                                                                  \
    cublasStatus_t ember_s_ = (call);                                   \
    if (ember_s_ != CUBLAS_STATUS_SUCCESS)                              \
      ::ember::cuda::throw_cublas(ember_s_, #call, __FILE__, __LINE__); \
  } while (0)

#define EMBER_CUDNN_CHECK(call)                                        \
  do {                                                                 \
    cudnnStatus_t ember_s_ = (call);                                   \
    if (ember_s_ != CUDNN_STATUS_SUCCESS)                              \
      ::ember::cuda::throw_cudnn(ember_s_, #call, __FILE__, __LINE__); \
  } while (0)

#define EMBER_CUDA_CHECK_LOG(call) ::ember::cuda::log_cuda((call), #call, __FILE__, __LINE__)

#define EMBER_CUDA_CHECK_LAUNCH(op) ::ember::cuda::check_launch((op), __FILE__, __LINE__)
