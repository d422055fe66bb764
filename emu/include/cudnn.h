// CPU emulator stand-in for cudnn.h. cuDNN cannot be emulated honestly (its kernels are not
// ours to run), so this declares only what lets headers that mention cuDNN compile: the handle,
// the status codes and the handle functions. cudnnCreate and cudnnSetStream return
// CUDNN_STATUS_NOT_SUPPORTED, so any path that really needs cuDNN fails with a clear status;
// cudnnGetVersion() returns 0 (no cuDNN).
#pragma once

#include <cstddef>

#include <cuda_runtime.h>

struct cudnnContext;
typedef struct cudnnContext* cudnnHandle_t;

enum cudnnStatus_t {
  CUDNN_STATUS_SUCCESS = 0,
  CUDNN_STATUS_NOT_INITIALIZED = 1001,
  CUDNN_STATUS_BAD_PARAM = 2000,
  CUDNN_STATUS_NOT_SUPPORTED = 3000,
  CUDNN_STATUS_INTERNAL_ERROR = 4000,
  CUDNN_STATUS_EXECUTION_FAILED = 5000
};

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle);
cudnnStatus_t cudnnDestroy(cudnnHandle_t handle);
cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream);
const char* cudnnGetErrorString(cudnnStatus_t status);
size_t cudnnGetVersion();
