// Helpers for the emulator's own tests: a launch helper in the style of the project's (builds a
// cudaLaunchConfig_t, optional cluster dims, names the launch), a static __shared__ macro over
// emu::block_shared, device buffers that free themselves, and a guard that resets the emulated
// device after a planted defect so the next test starts clean.
#pragma once

#include <cuda_runtime.h>

#include <string>
#include <vector>

// `type name[count]` in the block's shared memory (one allocation per declaration and block).
#define EMU_SHARED(type, name, count)                \
  static const char name##_site = 0;                 \
  type(&name)[count] = *static_cast<type(*)[count]>( \
      ::emu::block_shared(sizeof(type[count]), alignof(type), &name##_site))

namespace emu_test {

struct Launch {
  dim3 grid = dim3(1), block = dim3(1);
  size_t smem = 0;
  cudaStream_t stream = nullptr;
  dim3 cluster = dim3(1);
  bool with_cluster = false;
  const char* name = nullptr;

  template <class... Exp, class... Act>
  cudaError_t operator()(void (*kernel)(Exp...), Act&&... args) const {
    cudaLaunchConfig_t c{};
    c.gridDim = grid;
    c.blockDim = block;
    c.dynamicSmemBytes = smem;
    c.stream = stream;
    cudaLaunchAttribute attr[1];
    if (with_cluster) {
      attr[0] = {};
      attr[0].id = cudaLaunchAttributeClusterDimension;
      attr[0].val.clusterDim.x = cluster.x;
      attr[0].val.clusterDim.y = cluster.y;
      attr[0].val.clusterDim.z = cluster.z;
      c.attrs = attr;
      c.numAttrs = 1;
    }
    if (name) ::emu::name_next_launch(name);
    return cudaLaunchKernelEx(&c, kernel, static_cast<Act&&>(args)...);
  }
};

inline Launch grid(dim3 g, dim3 b, size_t smem = 0) {
  Launch l;
  l.grid = g;
  l.block = b;
  l.smem = smem;
  return l;
}

template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (cudaMalloc(&p_, n * sizeof(T)) != cudaSuccess) p_ = nullptr;
  }
  explicit DeviceBuffer(const std::vector<T>& h) : DeviceBuffer(h.size()) { upload(h); }
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  size_t size() const { return n_; }
  void upload(const std::vector<T>& h) {
    cudaMemcpy(p_, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice);
  }
  std::vector<T> download() const {
    std::vector<T> h(n_);
    cudaMemcpy(h.data(), p_, n_ * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }

 private:
  T* p_ = nullptr;
  size_t n_;
};

// After a planted defect: clear the sticky error and the fault, whatever the test found.
struct ResetAfter {
  ~ResetAfter() { ::emu::reset_device(); }
};

// Whether the last fault message contains every one of `parts`.
inline bool fault_mentions(std::initializer_list<const char*> parts) {
  const std::string f = ::emu::last_fault();
  for (const char* p : parts)
    if (f.find(p) == std::string::npos) return false;
  return !f.empty();
}

}  // namespace emu_test
