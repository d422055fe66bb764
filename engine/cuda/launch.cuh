// The one way the project launches a kernel, and its shared-memory declarations, so the same
// sources build with nvcc and, as plain C++, on the CUDA emulator in emu/ (EMBER_CUDA_EMU):
// a host compiler cannot parse `<<<...>>>` or a `__shared__` prefix. Every launch goes through
// cudaLaunchKernelEx (in CUDA's runtime and in the emulator, same signature), with the kernel's
// name as written, which launch errors and the emulator's diagnostics quote. A failed launch
// throws here, naming the kernel; the launcher's EMBER_CUDA_CHECK_LAUNCH after it still catches
// what the kernel itself reports (and everything under EMBER_SYNC_CHECK).
//
//   EMBER_LAUNCH(kernel, grid, block, smem_bytes, stream, args...);
//   EMBER_LAUNCH_CLUSTER(kernel, grid, block, cluster_dims, smem_bytes, stream, args...);
//   EMBER_SHARED(double, scratch, kWarps);          // __shared__ double scratch[kWarps]
//   EMBER_DYNAMIC_SHARED(unsigned char, raw, 128);  // extern __shared__ __align__(128) ... raw[]
//
// A template kernel's name holds commas: parenthesise it, EMBER_LAUNCH((k<T, true>), ...).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

namespace ember::cuda {

// Throws std::runtime_error "kernel launch of <name> failed: ..." (after clearing the error,
// so the next launch check does not report it again).
[[noreturn]] void throw_launch(cudaError_t e, const char* kernel, const char* file, int line);

// A kernel's name as written at the launch, without the parentheses that protect its commas;
// built at compile time into static storage, since the emulator keeps the pointer.
template <std::size_t N>
struct KernelName {
  char text[N] = {};
  constexpr explicit KernelName(const char (&s)[N]) {
    std::size_t b = 0, e = N - 1;
    if (e >= 2 && s[0] == '(' && s[e - 1] == ')') ++b, --e;
    for (std::size_t i = b; i < e; ++i) text[i - b] = s[i];
  }
};

// kernel<<<grid, block, smem, stream>>>(args...) on clusters of `cluster` blocks (0x0x0: no
// cluster attribute, the plain launch; a cluster kernel gets the attribute even for 1x1x1).
// Arguments convert to the kernel's parameter types as they would in a `<<<>>>` launch.
template <class... Params, class... Args>
void launch_kernel(const char* name, const char* file, int line, void (*kernel)(Params...),
                   dim3 grid, dim3 block, dim3 cluster, std::size_t smem, cudaStream_t stream,
                   Args&&... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  cudaLaunchAttribute attr[1] = {};
  if (cluster.x != 0) {
    attr[0].id = cudaLaunchAttributeClusterDimension;
    attr[0].val.clusterDim.x = cluster.x;
    attr[0].val.clusterDim.y = cluster.y;
    attr[0].val.clusterDim.z = cluster.z;
    config.attrs = attr;
    config.numAttrs = 1;
  }
#ifdef EMBER_CUDA_EMU
  ::emu::name_next_launch(name);
#endif
  const cudaError_t e = cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
  if (e != cudaSuccess) throw_launch(e, name, file, line);
}

}  // namespace ember::cuda

#define EMBER_KERNEL_NAME(kernel)                                                     \
  ([]() -> const char* {                                                              \
    static constexpr ::ember::cuda::KernelName<sizeof(#kernel)> ember_name_{#kernel}; \
    return ember_name_.text;                                                          \
  }())

#define EMBER_LAUNCH(kernel, grid, block, smem, stream, ...)                                  \
  ::ember::cuda::launch_kernel(EMBER_KERNEL_NAME(kernel), __FILE__, __LINE__, kernel, (grid), \
                               (block), dim3(0, 0, 0), (smem), (stream), __VA_ARGS__)

#define EMBER_LAUNCH_CLUSTER(kernel, grid, block, cluster, smem, stream, ...)                 \
  ::ember::cuda::launch_kernel(EMBER_KERNEL_NAME(kernel), __FILE__, __LINE__, kernel, (grid), \
                               (block), (cluster), (smem), (stream), __VA_ARGS__)

#define EMBER_CAT_IMPL_(a, b) a##b
#define EMBER_CAT_(a, b) EMBER_CAT_IMPL_(a, b)

#ifdef EMBER_CUDA_EMU
// The emulator hands out one array per declaration site and block; the address of a
// function-local static identifies the site (each template instantiation has its own).
#define EMBER_SHARED_AT_(type, name, count, site) \
  static const char site = 0;                     \
  type(&name)[count] =                            \
      *static_cast<type(*)[count]>(::emu::block_shared(sizeof(type[count]), alignof(type), &site))
#define EMBER_SHARED(type, name, count) \
  EMBER_SHARED_AT_(type, name, count, EMBER_CAT_(ember_shared_site_, __COUNTER__))
#define EMBER_DYNAMIC_SHARED(type, name, align) \
  type* name = static_cast<type*>(::emu::dynamic_shared())
#else
#define EMBER_SHARED(type, name, count) __shared__ type name[count]
#define EMBER_DYNAMIC_SHARED(type, name, align) \
  extern __shared__ __align__(align)            \
  type name[]
#endif
