// Device queries of the emulated GPU (the profile in device.h): device count and selection,
// cudaGetDeviceProperties, cudaDeviceGetAttribute, versions, cudaDeviceSynchronize and
// cudaDeviceReset. Environment: EMBER_EMU_NO_DEVICE=1 reports no device (to exercise a
// program's CPU fallback), EMBER_EMU_MEM_MB sets the device memory size.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "device.h"
#include "state.h"
#include "stream_queue.h"

namespace emu::detail {

const Profile& profile() {
  static const Profile p = [] {
    Profile h100{};
    h100.name = "Emulated NVIDIA H100 (ember emu)";
    h100.major = 9;
    h100.minor = 0;
    h100.sms = 132;
    h100.total_mem = std::size_t{80} << 30;
    h100.smem_per_block = 48 * 1024;
    h100.smem_per_block_optin = 227 * 1024;
    h100.smem_per_sm = 228 * 1024;
    h100.smem_reserved_per_block = 1024;
    h100.max_threads_per_block = 1024;
    h100.max_threads_per_sm = 2048;
    h100.max_blocks_per_sm = 32;
    h100.regs_per_block = 65536;
    h100.regs_per_sm = 65536;
    h100.l2_bytes = 50 * 1024 * 1024;
    h100.memory_bus_width = 5120;
    // 132 SMs in 8 GPCs: six of 16 SMs and two of 18 (a cluster stays inside one GPC).
    h100.gpcs_small = 6;
    h100.sms_per_gpc_small = 16;
    h100.gpcs_large = 2;
    h100.sms_per_gpc_large = 18;
    if (const char* mb = std::getenv("EMBER_EMU_MEM_MB")) {
      char* end = nullptr;
      const unsigned long long v = std::strtoull(mb, &end, 10);
      if (end == mb || *end != '\0' || v == 0) {
        diag(std::string("EMBER_EMU_MEM_MB=") + mb + " is not a positive number of MiB");
        std::abort();
      }
      h100.total_mem = static_cast<std::size_t>(v) << 20;
    }
    return h100;
  }();
  return p;
}

bool device_present() {
  const char* v = std::getenv("EMBER_EMU_NO_DEVICE");
  return !(v && *v && std::strcmp(v, "0") != 0);
}

}  // namespace emu::detail

using namespace emu::detail;

namespace {
using Lock = std::lock_guard<std::recursive_mutex>;
cudaError_t check_device(int device) {
  if (!device_present()) return cudaErrorNoDevice;
  return device == 0 ? cudaSuccess : cudaErrorInvalidDevice;
}
}  // namespace

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return set_error(cudaErrorInvalidValue);
  *count = device_present() ? 1 : 0;
  return device_present() ? cudaSuccess : set_error(cudaErrorNoDevice);
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return set_error(cudaErrorInvalidValue);
  if (!device_present()) return set_error(cudaErrorNoDevice);
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return set_error(check_device(device));
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (!prop) return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = check_device(device)) return set_error(e);
  const Profile& p = profile();
  std::memset(prop, 0, sizeof *prop);
  std::strncpy(prop->name, p.name, sizeof prop->name - 1);
  prop->totalGlobalMem = p.total_mem;
  prop->sharedMemPerBlock = p.smem_per_block;
  prop->regsPerBlock = p.regs_per_block;
  prop->warpSize = 32;
  prop->memPitch = 2147483647;
  prop->maxThreadsPerBlock = p.max_threads_per_block;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 2147483647;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->totalConstMem = 65536;
  prop->major = p.major;
  prop->minor = p.minor;
  prop->textureAlignment = 512;
  prop->multiProcessorCount = p.sms;
  prop->concurrentKernels = 1;
  prop->asyncEngineCount = 1;
  prop->unifiedAddressing = 1;
  prop->memoryBusWidth = p.memory_bus_width;
  prop->l2CacheSize = p.l2_bytes;
  prop->maxThreadsPerMultiProcessor = p.max_threads_per_sm;
  prop->sharedMemPerMultiprocessor = p.smem_per_sm;
  prop->regsPerMultiprocessor = p.regs_per_sm;
  prop->cooperativeLaunch = 1;
  prop->sharedMemPerBlockOptin = p.smem_per_block_optin;
  prop->maxBlocksPerMultiProcessor = p.max_blocks_per_sm;
  prop->reservedSharedMemPerBlock = p.smem_reserved_per_block;
  prop->clusterLaunch = p.major >= 9;
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return set_error(cudaErrorInvalidValue);
  cudaDeviceProp p;
  if (cudaError_t e = cudaGetDeviceProperties(&p, device)) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxBlockDimX:
      *value = p.maxThreadsDim[0];
      break;
    case cudaDevAttrMaxBlockDimY:
      *value = p.maxThreadsDim[1];
      break;
    case cudaDevAttrMaxBlockDimZ:
      *value = p.maxThreadsDim[2];
      break;
    case cudaDevAttrMaxGridDimX:
      *value = p.maxGridSize[0];
      break;
    case cudaDevAttrMaxGridDimY:
      *value = p.maxGridSize[1];
      break;
    case cudaDevAttrMaxGridDimZ:
      *value = p.maxGridSize[2];
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(p.sharedMemPerBlock);
      break;
    case cudaDevAttrTotalConstantMemory:
      *value = static_cast<int>(p.totalConstMem);
      break;
    case cudaDevAttrWarpSize:
      *value = p.warpSize;
      break;
    case cudaDevAttrMaxRegistersPerBlock:
      *value = p.regsPerBlock;
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrIntegrated:
      *value = 0;
      break;
    case cudaDevAttrConcurrentKernels:
      *value = p.concurrentKernels;
      break;
    case cudaDevAttrGlobalMemoryBusWidth:
      *value = p.memoryBusWidth;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
      break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = p.maxThreadsPerMultiProcessor;
      break;
    case cudaDevAttrAsyncEngineCount:
      *value = p.asyncEngineCount;
      break;
    case cudaDevAttrUnifiedAddressing:
      *value = p.unifiedAddressing;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
      *value = static_cast<int>(p.sharedMemPerMultiprocessor);
      break;
    case cudaDevAttrMaxRegistersPerMultiprocessor:
      *value = p.regsPerMultiprocessor;
      break;
    case cudaDevAttrManagedMemory:
      *value = 0;
      break;
    case cudaDevAttrCooperativeLaunch:
      *value = p.cooperativeLaunch;
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(p.sharedMemPerBlockOptin);
      break;
    case cudaDevAttrMaxBlocksPerMultiprocessor:
      *value = p.maxBlocksPerMultiProcessor;
      break;
    case cudaDevAttrMaxPersistingL2CacheSize:
      *value = 0;
      break;
    case cudaDevAttrReservedSharedMemoryPerBlock:
      *value = static_cast<int>(p.reservedSharedMemPerBlock);
      break;
    case cudaDevAttrClusterLaunch:
      *value = p.clusterLaunch;
      break;
    default:
      diag("cudaDeviceGetAttribute: attribute " + std::to_string(static_cast<int>(attr)) +
           " is not emulated");
      return set_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}

cudaError_t cudaDeviceGetPCIBusId(char* bus_id, int len, int device) {
  if (!bus_id || len <= 0) return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = check_device(device)) return set_error(e);
  std::snprintf(bus_id, static_cast<std::size_t>(len), "0000:00:00.0");  // the one emulated GPU
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return set_error(cudaErrorInvalidValue);
  *version = 13000;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  return cudaDriverGetVersion(version);
}

cudaError_t cudaDeviceSynchronize() {
  Lock lock(device_mutex());
  if (!device_present()) return set_error(cudaErrorNoDevice);
  return set_error(drain());
}

cudaError_t cudaDeviceReset() {
  Lock lock(device_mutex());
  free_all_device_memory();
  destroy_all_streams_and_events();
  reset_function_attributes();
  clear_sticky();
  return cudaSuccess;
}
