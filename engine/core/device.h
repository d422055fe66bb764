// Where tensor memory lives. CPU memory is 64-byte aligned host memory. CUDA memory comes from
// engine/core/device_cuda.cpp when the build has CUDA; without it, or on a machine with no device,
// asking for CUDA memory throws an error that says so. Everything here is safe to call on a
// machine with no GPU.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "engine/core/tensor.h"

namespace ember {

bool built_with_cuda();
int cuda_device_count();  // 0 when not built with CUDA or no device/driver is present
std::string cuda_device_name(int index);

// Picks the device for `ember train --device auto|cpu|cuda`; throws if cuda is asked for
// and cannot be had.
Device resolve_device(const std::string& choice);

std::shared_ptr<Storage> allocate_storage(size_t bytes, Device dev);
// Keeps large host blocks in the heap instead of mapping and unmapping them on every op:
// training allocates the same tens of megabytes each step, and page faults cost 10-15% of a
// CPU step otherwise. Called once by programs (ember, benchmarks), not by the library.
void tune_host_allocator();
void device_memset_zero(void* ptr, size_t bytes, Device dev);
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);

// CUDA half of the above; defined in device_cuda.cpp or as throwing stubs in device_nocuda.cpp.
namespace cuda_rt {
int device_count();
std::string device_name(int index);
void* malloc(size_t bytes, int device);
void free(void* ptr, int device);
void memset_zero(void* ptr, size_t bytes, int device);
void copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);
}  // namespace cuda_rt

}  // namespace ember
