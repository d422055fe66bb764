// Device and pinned host memory. Device memory is host memory from posix_memalign (256-byte
// aligned, exactly the size asked, so AddressSanitizer reports an access one byte past it),
// registered in a table of live allocations that memcpy/memset, cuBLAS and the radix sort check
// their device pointers against: a pointer claimed to be device memory must lie inside one live
// allocation with room for the whole range, and one claimed to be host memory must not be
// device memory. Requests above the free device memory fail with cudaErrorMemoryAllocation
// without touching the host allocator.
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <vector>

#include "device.h"
#include "state.h"
#include "stream_queue.h"

namespace emu::detail {

namespace {

struct Table {
  std::map<const char*, std::size_t> device;  // start -> bytes
  std::map<const char*, std::size_t> pinned;
  std::size_t used = 0;
};

Table& table() {
  static Table* t = new Table;  // never destroyed: allocations stay reachable (LeakSanitizer)
  return *t;
}

// The allocation holding p: its start and size, or end().
std::map<const char*, std::size_t>::const_iterator holding(const void* p) {
  const auto& m = table().device;
  const char* c = static_cast<const char*>(p);
  auto it = m.upper_bound(c);
  if (it == m.begin()) return m.end();
  --it;
  return c < it->first + it->second || (it->second == 0 && c == it->first) ? it : m.end();
}

using Lock = std::lock_guard<std::recursive_mutex>;

}  // namespace

bool device_range(const void* p, std::size_t bytes, std::string* why) {
  Lock lock(device_mutex());
  auto it = holding(p);
  if (it == table().device.end()) {
    if (why) *why = hex(p) + " is not inside any live cudaMalloc allocation";
    return false;
  }
  const std::size_t offset = static_cast<std::size_t>(static_cast<const char*>(p) - it->first);
  if (bytes > it->second - offset) {
    if (why)
      *why = hex(p) + " is at offset " + std::to_string(offset) + " of a " +
             std::to_string(it->second) + "-byte allocation, which has no room for " +
             std::to_string(bytes) + " bytes";
    return false;
  }
  return true;
}

bool is_device_pointer(const void* p) {
  Lock lock(device_mutex());
  return holding(p) != table().device.end();
}

void free_all_device_memory() {
  Table& t = table();
  for (auto& [p, n] : t.device) std::free(const_cast<char*>(p));
  t.device.clear();
  t.used = 0;
}

}  // namespace emu::detail

using namespace emu::detail;

namespace {
using Lock = std::lock_guard<std::recursive_mutex>;

cudaError_t check_device_side(const char* call, const char* which, const void* p,
                              std::size_t bytes) {
  std::string why;
  if (device_range(p, bytes, &why)) return cudaSuccess;
  diag(std::string(call) + ": " + which + " should be device memory, but " + why);
  return cudaErrorInvalidValue;
}

cudaError_t check_host_side(const char* call, const char* which, const void* p) {
  if (!is_device_pointer(p)) return cudaSuccess;
  diag(std::string(call) + ": " + which + " " + hex(p) +
       " should be host memory but is a device allocation (wrong cudaMemcpyKind?)");
  return cudaErrorInvalidValue;
}

// Checks both sides of a copy for `kind`: dst spans `dspan` bytes, src `sspan`.
cudaError_t check_copy(const char* call, void* dst, std::size_t dspan, const void* src,
                       std::size_t sspan, cudaMemcpyKind kind) {
  bool dst_dev, src_dev;
  switch (kind) {
    case cudaMemcpyHostToHost:
      return cudaSuccess;
    case cudaMemcpyHostToDevice:
      dst_dev = true, src_dev = false;
      break;
    case cudaMemcpyDeviceToHost:
      dst_dev = false, src_dev = true;
      break;
    case cudaMemcpyDeviceToDevice:
      dst_dev = src_dev = true;
      break;
    case cudaMemcpyDefault:  // inferred from the table, as with unified addressing
      dst_dev = is_device_pointer(dst);
      src_dev = is_device_pointer(src);
      break;
    default:
      diag(std::string(call) + ": cudaMemcpyKind " + std::to_string(static_cast<int>(kind)) +
           " is not a copy direction");
      return cudaErrorInvalidMemcpyDirection;
  }
  cudaError_t e =
      dst_dev ? check_device_side(call, "dst", dst, dspan) : check_host_side(call, "dst", dst);
  if (e == cudaSuccess)
    e = src_dev ? check_device_side(call, "src", src, sspan) : check_host_side(call, "src", src);
  return e;
}

bool is_pinned(const void* p) {
  const auto& m = table().pinned;
  const char* c = static_cast<const char*>(p);
  auto it = m.upper_bound(c);
  if (it == m.begin()) return false;
  --it;
  return c < it->first + it->second;
}

// Every copy: checks, then the rows. A copy into pageable host memory, or any cudaMemcpy
// (`sync`), waits for all queued work and runs now; one from pageable host memory takes its
// bytes now (the driver stages them before returning); the rest runs on `stream`.
cudaError_t copy_2d(const char* call, void* dst, std::size_t dpitch, const void* src,
                    std::size_t spitch, std::size_t width, std::size_t height, cudaMemcpyKind kind,
                    cudaStream_t stream, bool sync) {
  Lock lock(device_mutex());
  if (cudaError_t e = sticky_error()) return set_error(e);
  if (!valid_stream(stream)) return set_error(cudaErrorInvalidResourceHandle);
  if (width == 0 || height == 0) return cudaSuccess;
  if (dpitch < width || spitch < width) {
    diag(std::string(call) + ": pitch below the row width " + std::to_string(width));
    return set_error(cudaErrorInvalidPitchValue);
  }
  // Each side's span is its pitch times the rows before the last, plus one row.
  const std::size_t dspan = dpitch * (height - 1) + width, sspan = spitch * (height - 1) + width;
  if (cudaError_t e = check_copy(call, dst, dspan, src, sspan, kind)) return set_error(e);
  auto rows = [=](const char* from, std::size_t from_pitch) {
    for (std::size_t r = 0; r < height; ++r)
      std::memmove(static_cast<char*>(dst) + r * dpitch, from + r * from_pitch, width);
  };
  const char* s = static_cast<const char*>(src);
  const bool dst_host = !is_device_pointer(dst), src_host = !is_device_pointer(src);
  if (sync || (dst_host && !is_pinned(dst))) {
    if (cudaError_t e = drain()) return set_error(e);
    rows(s, spitch);
    return cudaSuccess;
  }
  if (src_host && !is_pinned(src) && stream_mode() != StreamMode::Immediate) {
    auto staged = std::make_shared<std::vector<char>>(width * height);
    for (std::size_t r = 0; r < height; ++r)
      std::memcpy(staged->data() + r * width, s + r * spitch, width);
    issue(stream, [rows, staged, width] { rows(staged->data(), width); });
    return cudaSuccess;
  }
  issue(stream, [rows, s, spitch] { rows(s, spitch); });
  return cudaSuccess;
}

// Memsets are asynchronous (cudaMemset too, on the legacy stream).
cudaError_t set_2d(const char* call, void* ptr, std::size_t pitch, int value, std::size_t width,
                   std::size_t height, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (cudaError_t e = sticky_error()) return set_error(e);
  if (!valid_stream(stream)) return set_error(cudaErrorInvalidResourceHandle);
  if (width == 0 || height == 0) return cudaSuccess;
  if (pitch < width) {
    diag(std::string(call) + ": pitch " + std::to_string(pitch) + " below the row width " +
         std::to_string(width));
    return set_error(cudaErrorInvalidPitchValue);
  }
  if (cudaError_t e = check_device_side(call, "ptr", ptr, pitch * (height - 1) + width))
    return set_error(e);
  char* p = static_cast<char*>(ptr);
  issue(stream, [=] {
    for (std::size_t r = 0; r < height; ++r) std::memset(p + r * pitch, value, width);
  });
  return cudaSuccess;
}
}  // namespace

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  Lock lock(device_mutex());
  if (!ptr) return set_error(cudaErrorInvalidValue);
  if (!device_present()) return set_error(cudaErrorNoDevice);
  if (cudaError_t e = sticky_error()) return set_error(e);
  *ptr = nullptr;
  if (bytes == 0) return cudaSuccess;
  Table& t = table();
  if (bytes > profile().total_mem - t.used) return set_error(cudaErrorMemoryAllocation);
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes) != 0 || !p) return set_error(cudaErrorMemoryAllocation);
  t.device.emplace(static_cast<const char*>(p), bytes);
  t.used += bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  Lock lock(device_mutex());
  if (!ptr) return cudaSuccess;
  drain();  // cudaFree synchronises the device, so no queued work still uses the memory
  Table& t = table();
  auto it = t.device.find(static_cast<const char*>(ptr));
  if (it == t.device.end()) {
    auto in = holding(ptr);
    if (in != t.device.end())
      diag("cudaFree(" + hex(ptr) + "): not the start of an allocation (offset " +
           std::to_string(static_cast<const char*>(ptr) - in->first) + " of a " +
           std::to_string(in->second) + "-byte one)");
    else
      diag("cudaFree(" + hex(ptr) +
           "): not a live device allocation (freed already, or host "
           "memory)");
    return set_error(cudaErrorInvalidValue);
  }
  t.used -= it->second;
  std::free(const_cast<char*>(it->first));
  t.device.erase(it);
  return set_error(sticky_error());  // freed either way; a sticky error is still reported
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  Lock lock(device_mutex());
  if (!ptr) return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = sticky_error()) return set_error(e);
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes ? bytes : 1) != 0 || !p)
    return set_error(cudaErrorMemoryAllocation);
  table().pinned.emplace(static_cast<const char*>(p), bytes);
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaHostAlloc(void** ptr, size_t bytes, unsigned int) {
  return cudaMallocHost(ptr, bytes);
}

cudaError_t cudaFreeHost(void* ptr) {
  Lock lock(device_mutex());
  if (!ptr) return cudaSuccess;
  auto& m = table().pinned;
  auto it = m.find(static_cast<const char*>(ptr));
  if (it == m.end()) {
    diag("cudaFreeHost(" + hex(ptr) + "): not memory from cudaMallocHost");
    return set_error(cudaErrorInvalidValue);
  }
  std::free(ptr);
  m.erase(it);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  Lock lock(device_mutex());
  if (!free_bytes || !total_bytes) return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = sticky_error()) return set_error(e);
  *total_bytes = profile().total_mem;
  *free_bytes = profile().total_mem - table().used;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return copy_2d("cudaMemcpy", dst, bytes, src, bytes, bytes, 1, kind, 0, true);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  return copy_2d("cudaMemcpyAsync", dst, bytes, src, bytes, bytes, 1, kind, stream, false);
}

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                         size_t height, cudaMemcpyKind kind) {
  return copy_2d("cudaMemcpy2D", dst, dpitch, src, spitch, width, height, kind, 0, true);
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream) {
  return copy_2d("cudaMemcpy2DAsync", dst, dpitch, src, spitch, width, height, kind, stream, false);
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  return set_2d("cudaMemset", ptr, bytes, value, bytes, 1, 0);
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  return set_2d("cudaMemsetAsync", ptr, bytes, value, bytes, 1, stream);
}

cudaError_t cudaMemset2D(void* ptr, size_t pitch, int value, size_t width, size_t height) {
  return set_2d("cudaMemset2D", ptr, pitch, value, width, height, 0);
}

cudaError_t cudaMemset2DAsync(void* ptr, size_t pitch, int value, size_t width, size_t height,
                              cudaStream_t stream) {
  return set_2d("cudaMemset2DAsync", ptr, pitch, value, width, height, stream);
}
