// One CUDA context per device: the main compute stream, a side stream (the second direction of
// a Bidirectional LSTM runs there), and the cuBLAS and cuDNN handles bound to the main stream,
// plus the caching allocator. Created on first use and kept for the life of the process, so
// no handle is created inside the training loop. Streams are created blocking with respect to
// the legacy default stream, so synchronous copies (Tensor::copy_from) order after queued work.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <memory>

#include "engine/cuda/allocator.h"

namespace ember::cuda {

class Context {
 public:
  static Context& get(int device = 0);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cudaStream_t side_stream() const { return side_stream_; }
  cublasHandle_t cublas();  // bound to stream()
  cudnnHandle_t cudnn();    // bound to stream()
  CachingAllocator& allocator() { return allocator_; }
  // Makes `waiter` wait for all work queued on `signaller` so far (an event, no host sync).
  void join(cudaStream_t waiter, cudaStream_t signaller);

 private:
  explicit Context(int device);
  int device_;
  cudaStream_t stream_ = nullptr, side_stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  cudnnHandle_t cudnn_ = nullptr;
  cudaEvent_t join_event_ = nullptr;
  CachingAllocator allocator_;
};

}  // namespace ember::cuda
