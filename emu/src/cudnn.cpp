// The cuDNN stand-in (see emu/include/cudnn.h): no cuDNN function can run under the emulator,
// so creating a handle reports CUDNN_STATUS_NOT_SUPPORTED with a message saying why.
#include <cudnn.h>

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  if (handle) *handle = nullptr;
  return CUDNN_STATUS_NOT_SUPPORTED;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  return handle ? CUDNN_STATUS_BAD_PARAM : CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t, cudaStream_t) {
  return CUDNN_STATUS_NOT_SUPPORTED;
}

const char* cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
    case CUDNN_STATUS_SUCCESS:
      return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED:
      return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_BAD_PARAM:
      return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_NOT_SUPPORTED:
      return "CUDNN_STATUS_NOT_SUPPORTED (cuDNN is not available under the CUDA emulator)";
    case CUDNN_STATUS_INTERNAL_ERROR:
      return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_EXECUTION_FAILED:
      return "CUDNN_STATUS_EXECUTION_FAILED";
  }
  return "CUDNN_STATUS_UNKNOWN";
}

size_t cudnnGetVersion() {
  return 0;
}
