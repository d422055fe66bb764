// Process-wide state of the emulated device (internal): the lock that serialises runtime calls
// and launches, the per-thread last error and the sticky error of a faulted kernel, the
// diagnostics printer, and the table of live device allocations that memcpy/memset, cuBLAS and
// the radix sort check pointers against.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>

#include <cuda_runtime.h>

namespace emu::detail {

std::recursive_mutex& device_mutex();

// Records `e` as the calling thread's last error (unless success) and returns it.
cudaError_t set_error(cudaError_t e);
// The sticky error (cudaSuccess when none).
cudaError_t sticky_error();
// Makes `e` sticky and records `message` as the last fault (printed once to stderr).
void set_sticky(cudaError_t e, const std::string& message);
void clear_sticky();

// One line on stderr, prefixed "emu: ".
void diag(const std::string& message);

// Whether [p, p + bytes) lies inside one live cudaMalloc allocation; on false, `why` says how
// it does not (unknown pointer, or the allocation's size and the overrun).
bool device_range(const void* p, std::size_t bytes, std::string* why);
// Whether p lies inside any live device allocation.
bool is_device_pointer(const void* p);
// Frees every allocation (cudaDeviceReset).
void free_all_device_memory();
void destroy_all_streams_and_events();
void reset_function_attributes();

// Whether `s` names the default stream or a live stream.
bool valid_stream(cudaStream_t s);

// "0x7f..." for messages.
std::string hex(const void* p);
std::string hex(unsigned v);

}  // namespace emu::detail
