// CUDA side of data_parallel.cpp and comm_nccl.cpp: packing gradients into one flat buffer,
// the ordered sum of N received copies, and the GPU's identity for choosing NCCL. Pointers
// are device memory; everything is queued on `stream` (never synchronises). Deterministic:
// elementwise, no atomics, the sum adds parts 0, 1, ..., N-1 in that order for every element.
// Declared for CUDA builds only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/cuda/cuda_fwd.h"

namespace ember::dist {

// tail[4] OVERWRITTEN: {loss[0] * counts[1], counts[0], counts[1], stop}; loss (float32 [1])
// and counts (float64 [2], fn::accuracy_counts) may both be null (a rank without rows: zeros).
void make_tail(double* tail, const float* loss, const double* counts, double stop,
               cudaStream_t stream);
// flat = concat(src[i] (zeros where null), sizes[i] each) * (float)*scale.
void pack_scaled(const std::vector<const float*>& src, const std::vector<int64_t>& sizes,
                 float* flat, const double* scale, cudaStream_t stream);
// flat /= (float)*divisor (0 when *divisor is 0), IN PLACE, then dst[i] = its slice.
void unpack_divided(float* flat, const std::vector<float*>& dst, const std::vector<int64_t>& sizes,
                    const double* divisor, cudaStream_t stream);
// out[i] = parts[0*stride + i] + parts[1*stride + i] + ... + parts[(nparts-1)*stride + i],
// OVERWRITTEN, left to right. out may alias no part.
template <class T>
void ordered_sum(const T* parts, int64_t stride, int nparts, int64_t n, T* out,
                 cudaStream_t stream);
// "<PCI bus id>" of a device: two ranks on one host share a GPU iff these match.
std::string device_bus_id(int device);

}  // namespace ember::dist
