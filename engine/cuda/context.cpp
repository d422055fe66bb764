// Context (see context.h). Handles are created lazily: a CPU-only run that touches CUDA memory
// for a test never pays for a cuDNN handle.
#include "engine/cuda/context.h"

#include <array>
#include <mutex>

#include "engine/cuda/check.h"

namespace ember::cuda {

Context& Context::get(int device) {
  static std::mutex mu;
  static std::array<std::unique_ptr<Context>, 16> contexts;
  std::lock_guard<std::mutex> lock(mu);
  if (device < 0 || device >= static_cast<int>(contexts.size()))
    throw std::runtime_error("CUDA device index " + std::to_string(device) + " out of range");
  if (!contexts[device]) contexts[device].reset(new Context(device));  // private constructor
  return *contexts[device];
}

Context::Context(int device) : device_(device), allocator_(device) {
  EMBER_CUDA_CHECK(cudaSetDevice(device));
  EMBER_CUDA_CHECK(cudaStreamCreate(&stream_));
  EMBER_CUDA_CHECK(cudaStreamCreate(&side_stream_));
  EMBER_CUDA_CHECK(cudaEventCreateWithFlags(&join_event_, cudaEventDisableTiming));
}

Context::~Context() {
  // Never throw from here: the process may be exiting with the driver already torn down.
  if (cudnn_) cudnnDestroy(cudnn_);
  if (cublas_) cublasDestroy(cublas_);
  if (join_event_) cudaEventDestroy(join_event_);
  if (side_stream_) cudaStreamDestroy(side_stream_);
  if (stream_) cudaStreamDestroy(stream_);
}

cublasHandle_t Context::cublas() {
  if (!cublas_) {
    EMBER_CUDA_CHECK(cudaSetDevice(device_));
    EMBER_CUBLAS_CHECK(cublasCreate(&cublas_));
    EMBER_CUBLAS_CHECK(cublasSetStream(cublas_, stream_));
    // Plain FP32 math: parity with the CPU reference is checked at float32 tolerances.
    EMBER_CUBLAS_CHECK(cublasSetMathMode(cublas_, CUBLAS_DEFAULT_MATH));
  }
  return cublas_;
}

cudnnHandle_t Context::cudnn() {
#ifdef EMBER_CUDA_EMU
  // The emulator's cudnn.h only lets this file compile; nothing there can use a handle.
  throw std::runtime_error(
      "cuDNN is not available under the CUDA emulator (EMBER_CUDA_EMU): it cannot be emulated");
#endif
  if (!cudnn_) {
    EMBER_CUDA_CHECK(cudaSetDevice(device_));
    EMBER_CUDNN_CHECK(cudnnCreate(&cudnn_));
    EMBER_CUDNN_CHECK(cudnnSetStream(cudnn_, stream_));
  }
  return cudnn_;
}

void Context::join(cudaStream_t waiter, cudaStream_t signaller) {
  EMBER_CUDA_CHECK(cudaEventRecord(join_event_, signaller));
  EMBER_CUDA_CHECK(cudaStreamWaitEvent(waiter, join_event_, 0));
}

}  // namespace ember::cuda
