// CUDA runtime stubs for builds without CUDA (EMBER_CUDA=OFF, or AUTO with no nvcc). Every
// entry that would touch a device throws, naming the rebuild that would make it work.
#include "engine/core/device.h"

namespace ember {

bool built_with_cuda() {
  return false;
}

namespace cuda_rt {
namespace {
[[noreturn]] void no_cuda() {
  throw Error("CUDA memory requested, but this ember was built without CUDA (EMBER_CUDA=ON)");
}
}  // namespace
int device_count() {
  return 0;
}
std::string device_name(int) {
  return "none";
}
void* malloc(size_t, int) {
  no_cuda();
}
void free(void*, int) {}
void memset_zero(void*, size_t, int) {
  no_cuda();
}
void copy(void*, Device, const void*, Device, size_t) {
  no_cuda();
}
}  // namespace cuda_rt

}  // namespace ember
