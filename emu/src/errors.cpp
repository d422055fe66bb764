// Error state and error names (see state.h): the per-host-thread last error, the sticky error a
// kernel fault leaves (later runtime calls return it until cudaDeviceReset or
// emu::reset_device), the last fault's message, and cudaGetErrorName/String.
#include <cstdio>
#include <sstream>

#include "state.h"

namespace emu::detail {

namespace {
__thread cudaError_t tl_last_error = cudaSuccess;
cudaError_t g_sticky = cudaSuccess;
std::string& last_fault_message() {
  static std::string* s = new std::string;
  return *s;
}
}  // namespace

std::recursive_mutex& device_mutex() {
  static std::recursive_mutex* mu = new std::recursive_mutex;
  return *mu;
}

cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) tl_last_error = e;
  return e;
}

cudaError_t sticky_error() {
  return g_sticky;
}

void set_sticky(cudaError_t e, const std::string& message) {
  g_sticky = e;
  last_fault_message() = message;
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
}

void clear_sticky() {
  g_sticky = cudaSuccess;
  last_fault_message().clear();
  tl_last_error = cudaSuccess;
}

void diag(const std::string& message) {
  std::fprintf(stderr, "emu: %s\n", message.c_str());
  std::fflush(stderr);
}

std::string hex(const void* p) {
  std::ostringstream o;
  o << p;
  return o.str();
}
std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

}  // namespace emu::detail

namespace emu {
std::string last_fault() {
  std::lock_guard<std::recursive_mutex> lock(detail::device_mutex());
  return detail::last_fault_message();
}
void reset_device() {
  std::lock_guard<std::recursive_mutex> lock(detail::device_mutex());
  detail::clear_sticky();
}
}  // namespace emu

using emu::detail::tl_last_error;

cudaError_t cudaGetLastError() {
  // A sticky error is reported again after being read, as by the CUDA runtime.
  const cudaError_t e = tl_last_error != cudaSuccess ? tl_last_error : emu::detail::g_sticky;
  tl_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() {
  return tl_last_error != cudaSuccess ? tl_last_error : emu::detail::g_sticky;
}

namespace {
struct ErrorText {
  cudaError_t code;
  const char* name;
  const char* text;
};
#define EMU_E_(name, text) \
  { name, #name, text }
constexpr ErrorText kErrors[] = {
    EMU_E_(cudaSuccess, "no error"),
    EMU_E_(cudaErrorInvalidValue, "invalid argument"),
    EMU_E_(cudaErrorMemoryAllocation, "out of memory"),
    EMU_E_(cudaErrorInitializationError, "initialization error"),
    EMU_E_(cudaErrorCudartUnloading, "driver shutting down"),
    EMU_E_(cudaErrorInvalidConfiguration, "invalid configuration argument"),
    EMU_E_(cudaErrorInvalidPitchValue, "invalid pitch argument"),
    EMU_E_(cudaErrorInvalidSymbol, "invalid device symbol"),
    EMU_E_(cudaErrorInvalidHostPointer, "invalid host pointer"),
    EMU_E_(cudaErrorInvalidDevicePointer, "invalid device pointer"),
    EMU_E_(cudaErrorInvalidMemcpyDirection, "invalid copy direction for memcpy"),
    EMU_E_(cudaErrorMissingConfiguration, "__global__ function call is not configured"),
    EMU_E_(cudaErrorPriorLaunchFailure, "unspecified launch failure in prior launch"),
    EMU_E_(cudaErrorInvalidDeviceFunction, "invalid device function"),
    EMU_E_(cudaErrorNoDevice, "no CUDA-capable device is detected"),
    EMU_E_(cudaErrorInvalidDevice, "invalid device ordinal"),
    EMU_E_(cudaErrorStartupFailure, "device initialization failed"),
    EMU_E_(cudaErrorInvalidKernelImage, "device kernel image is invalid"),
    EMU_E_(cudaErrorInvalidResourceHandle, "invalid resource handle"),
    EMU_E_(cudaErrorIllegalState, "the operation cannot be performed in the present state"),
    EMU_E_(cudaErrorNotReady, "device not ready"),
    EMU_E_(cudaErrorIllegalAddress, "an illegal memory access was encountered"),
    EMU_E_(cudaErrorLaunchOutOfResources, "too many resources requested for launch"),
    EMU_E_(cudaErrorLaunchTimeout, "the launch timed out and was terminated"),
    EMU_E_(cudaErrorAssert, "device-side assert triggered"),
    EMU_E_(cudaErrorHardwareStackError, "hardware stack error"),
    EMU_E_(cudaErrorIllegalInstruction, "an illegal instruction was encountered"),
    EMU_E_(cudaErrorMisalignedAddress, "misaligned address"),
    EMU_E_(cudaErrorLaunchFailure, "unspecified launch failure"),
    EMU_E_(cudaErrorCooperativeLaunchTooLarge, "too many blocks in cooperative launch"),
    EMU_E_(cudaErrorNotPermitted, "operation not permitted"),
    EMU_E_(cudaErrorNotSupported, "operation not supported"),
    EMU_E_(cudaErrorTimeout, "timeout"),
    EMU_E_(cudaErrorInvalidClusterSize, "invalid cluster size"),
    EMU_E_(cudaErrorUnknown, "unknown error"),
};
#undef EMU_E_
const ErrorText* find_error(cudaError_t e) {
  for (const ErrorText& t : kErrors)
    if (t.code == e) return &t;
  return nullptr;
}
}  // namespace

const char* cudaGetErrorName(cudaError_t error) {
  const ErrorText* t = find_error(error);
  return t ? t->name : "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  const ErrorText* t = find_error(error);
  return t ? t->text : "unrecognized error code";
}
