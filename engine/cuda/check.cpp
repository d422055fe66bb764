// Throwing and logging halves of check.h, and launch.cuh's launch error.
#include "engine/cuda/check.h"
#include "engine/cuda/launch.cuh"

#include <cstdio>
#include <stdexcept>
#include <string>

namespace ember::cuda {

namespace {
std::string where(const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line);
}
}  // namespace

void throw_cuda(cudaError_t e, const char* call, const char* file, int line) {
  // The failed call also left e as the thread's last error; a non-sticky error belongs to this
  // call alone, and the next launch check (cudaGetLastError) must not report it again.
  (void)cudaGetLastError();
  throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(e) + " (" +
                           cudaGetErrorString(e) + ") at " + where(file, line));
}

void throw_cublas(cublasStatus_t s, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(call) + " failed: " + cublasGetStatusName(s) + " (" +
                           cublasGetStatusString(s) + ") at " + where(file, line));
}

void throw_cudnn(cudnnStatus_t s, const char* call, const char* file, int line) {
  throw std::runtime_error(std::string(call) + " failed: " + cudnnGetErrorString(s) + " at " +
                           where(file, line));
}

void log_cuda(cudaError_t e, const char* call, const char* file, int line) {
  if (e == cudaSuccess) return;
  (void)cudaGetLastError();  // as in throw_cuda: reported here, once
  std::fprintf(stderr, "ember: %s failed: %s at %s\n", call, cudaGetErrorString(e),
               where(file, line).c_str());
}

void throw_launch(cudaError_t e, const char* kernel, const char* file, int line) {
  (void)cudaGetLastError();  // as in throw_cuda: the next launch check must not see it again
  throw std::runtime_error(std::string("kernel launch of ") + kernel +
                           " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                           ") at " + where(file, line));
}

void check_launch(const char* op, const char* file, int line) {
  cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) {
#ifdef EMBER_SYNC_CHECK
    e = cudaDeviceSynchronize();
#endif
  }
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("kernel launch of ") + op +
                             " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                             ") at " + where(file, line));
}

}  // namespace ember::cuda
