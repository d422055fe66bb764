// Host allocation and the device dispatch for storage. See device.h.
#include "engine/core/device.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace ember {

namespace {
constexpr size_t kAlign = 64;

void host_free(void* p, size_t, Device) {
  std::free(p);
}
void cuda_free(void* p, size_t, Device d) {
  cuda_rt::free(p, d.index);
}
}  // namespace

int cuda_device_count() {
  return built_with_cuda() ? cuda_rt::device_count() : 0;
}

std::string cuda_device_name(int index) {
  return cuda_rt::device_name(index);
}

Device resolve_device(const std::string& choice) {
  if (choice == "cpu") return Device::cpu();
  if (choice == "cuda" || choice == "gpu") {
    if (!built_with_cuda())
      throw Error("--device cuda: this ember was built without CUDA (rebuild with EMBER_CUDA=ON)");
    if (cuda_device_count() == 0)
      throw Error("--device cuda: no CUDA device is visible on this machine");
    return Device::cuda(0);
  }
  if (choice == "auto") return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  throw Error("--device: expected auto, cpu or cuda, got '" + choice + "'");
}

void tune_host_allocator() {
  mallopt(M_MMAP_THRESHOLD, 1 << 30);  // blocks below 1 GiB come from the heap ...
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // ... and freed memory is kept for the next step
}

std::shared_ptr<Storage> allocate_storage(size_t bytes, Device dev) {
  auto s = std::make_shared<Storage>();
  s->bytes = bytes;
  s->device = dev;
  if (dev.is_cpu()) {
    size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
    s->ptr = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
    if (!s->ptr) throw std::bad_alloc();
    s->deleter = host_free;
  } else {
    s->ptr = cuda_rt::malloc(bytes, dev.index);
    s->deleter = cuda_free;
  }
  return s;
}

void device_memset_zero(void* ptr, size_t bytes, Device dev) {
  if (dev.is_cpu())
    std::memset(ptr, 0, bytes);
  else
    cuda_rt::memset_zero(ptr, bytes, dev.index);
}

void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (dst_dev.is_cpu() && src_dev.is_cpu())
    std::memcpy(dst, src, bytes);
  else
    cuda_rt::copy(dst, dst_dev, src, src_dev, bytes);
}

}  // namespace ember
