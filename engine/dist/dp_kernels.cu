// Kernels and copies of dp_kernels.h. Grid-stride loops over int64 indices; the scale and the
// divisor are read from device memory so that no step waits for the host. Launched through
// EMBER_LAUNCH, so the CUDA emulator (EMBER_CUDA_EMU) builds and runs them too.
#include <cuda_runtime.h>

#include <string>

#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "engine/cuda/launch.cuh"
#include "engine/dist/dp_kernels.h"

namespace ember::dist {

using cuda::global_thread_index;
using cuda::grid_for;
using cuda::grid_stride;
using cuda::kBlockThreads;

namespace {

__global__ void make_tail_kernel(double* tail, const float* loss, const double* counts,
                                 double stop) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  const double total = counts ? counts[1] : 0.0;
  tail[0] = loss ? static_cast<double>(loss[0]) * total : 0.0;
  tail[1] = counts ? counts[0] : 0.0;
  tail[2] = total;
  tail[3] = stop;
}

__global__ void scale_kernel(float* x, int64_t n, const double* factor, bool divide) {
  const double f = *factor;
  const float s = static_cast<float>(f);
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    if (divide)
      x[i] = f > 0 ? x[i] / s : 0.0f;
    else
      x[i] = x[i] * s;
  }
}

template <class T>
__global__ void ordered_sum_kernel(const T* parts, int64_t stride, int nparts, int64_t n, T* out) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    T acc = parts[i];
    for (int q = 1; q < nparts; ++q) acc += parts[q * stride + i];
    out[i] = acc;
  }
}

}  // namespace

void make_tail(double* tail, const float* loss, const double* counts, double stop,
               cudaStream_t stream) {
  EMBER_LAUNCH(make_tail_kernel, 1, 32, 0, stream, tail, loss, counts, stop);
  EMBER_CUDA_CHECK_LAUNCH("make_tail_kernel");
}

void pack_scaled(const std::vector<const float*>& src, const std::vector<int64_t>& sizes,
                 float* flat, const double* scale, cudaStream_t stream) {
  EMBER_CHECK_ARG(src.size() == sizes.size(),
                  "pack_scaled: " << src.size() << " tensors, " << sizes.size() << " sizes");
  int64_t off = 0;
  for (size_t i = 0; i < src.size(); ++i) {
    const size_t bytes = static_cast<size_t>(sizes[i]) * sizeof(float);
    if (src[i])
      EMBER_CUDA_CHECK(
          cudaMemcpyAsync(flat + off, src[i], bytes, cudaMemcpyDeviceToDevice, stream));
    else
      EMBER_CUDA_CHECK(cudaMemsetAsync(flat + off, 0, bytes, stream));
    off += sizes[i];
  }
  if (off == 0) return;
  EMBER_LAUNCH(scale_kernel, grid_for(off), kBlockThreads, 0, stream, flat, off, scale, false);
  EMBER_CUDA_CHECK_LAUNCH("scale_kernel");
}

void unpack_divided(float* flat, const std::vector<float*>& dst, const std::vector<int64_t>& sizes,
                    const double* divisor, cudaStream_t stream) {
  EMBER_CHECK_ARG(dst.size() == sizes.size(),
                  "unpack_divided: " << dst.size() << " tensors, " << sizes.size() << " sizes");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total == 0) return;
  EMBER_LAUNCH(scale_kernel, grid_for(total), kBlockThreads, 0, stream, flat, total, divisor, true);
  EMBER_CUDA_CHECK_LAUNCH("scale_kernel");
  int64_t off = 0;
  for (size_t i = 0; i < dst.size(); ++i) {
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst[i], flat + off,
                                     static_cast<size_t>(sizes[i]) * sizeof(float),
                                     cudaMemcpyDeviceToDevice, stream));
    off += sizes[i];
  }
}

template <class T>
void ordered_sum(const T* parts, int64_t stride, int nparts, int64_t n, T* out,
                 cudaStream_t stream) {
  EMBER_CHECK_ARG(nparts >= 1 && n >= 0 && stride >= n,
                  "ordered_sum: " << nparts << " parts of " << n << " (stride " << stride << ")");
  if (n == 0) return;
  EMBER_LAUNCH(ordered_sum_kernel<T>, grid_for(n), kBlockThreads, 0, stream, parts, stride, nparts,
               n, out);
  EMBER_CUDA_CHECK_LAUNCH("ordered_sum_kernel");
}
template void ordered_sum<float>(const float*, int64_t, int, int64_t, float*, cudaStream_t);
template void ordered_sum<double>(const double*, int64_t, int, int64_t, double*, cudaStream_t);

std::string device_bus_id(int device) {
#ifdef EMBER_CUDA_EMU
  return "emulated device " + std::to_string(device);  // the emulator has no PCI bus
#else
  char id[64] = {};
  EMBER_CUDA_CHECK(cudaDeviceGetPCIBusId(id, sizeof id, device));
  return id;
#endif
}

}  // namespace ember::dist
