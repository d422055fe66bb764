// CUDA kernels for kernels/embedding.h. Forward: one thread per 16-byte vector of an output
// row (a scalar fallback when E or the pointers do not allow vectors). Backward: radix sort of
// (id, position) by id, chunked per-id partial sums in double, then one ordered pass per id
// (see the header): deterministic, no atomics, O(B*T*E) work however the ids repeat.
#include <cub/device/device_radix_sort.cuh>

#include <limits>

#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "kernels/embedding.h"

namespace ember::cuda {

namespace {

template <class T, int W>
struct alignas(sizeof(T) * W) Vec {
  T v[W];
};

// out[i, :] = weight[ids[i], :], handled as vectors of W elements (W = 1: scalars).
template <class T, int W>
__global__ void embedding_forward_kernel(const Vec<T, W>* __restrict__ weight,
                                         const int32_t* __restrict__ ids,
                                         Vec<T, W>* __restrict__ out, int64_t n_vec,
                                         int64_t row_vecs, int64_t vocab) {
  for (int64_t v = global_thread_index(); v < n_vec; v += grid_stride()) {
    const int64_t row = v / row_vecs, col = v - row * row_vecs;
    const int32_t id = ids[row];
    if (id >= 0 && id < vocab) {
      out[v] = weight[static_cast<int64_t>(id) * row_vecs + col];
    } else {
      Vec<T, W> nan;
      for (int k = 0; k < W; ++k) nan.v[k] = std::numeric_limits<T>::quiet_NaN();
      out[v] = nan;
    }
  }
}

// Sort input: key = id (invalid ids become the sentinel `vocab`), value = position.
__global__ void embedding_sort_prep_kernel(const int32_t* __restrict__ ids, uint32_t* keys,
                                           int32_t* positions, int64_t n, int64_t vocab) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const int32_t id = ids[i];
    keys[i] = (id >= 0 && id < vocab) ? static_cast<uint32_t>(id) : static_cast<uint32_t>(vocab);
    positions[i] = static_cast<int32_t>(i);
  }
}

// One block per chunk of kEmbeddingChunk sorted positions; threads stride over the E columns.
// Each run of equal keys inside the chunk (a "piece") is summed in position order and written
// to partial[first sorted index of the piece, :].
template <class T>
__global__ void embedding_chunk_sum_kernel(const T* __restrict__ d_out,
                                           const uint32_t* __restrict__ keys,
                                           const int32_t* __restrict__ positions,
                                           double* __restrict__ partial, int64_t n, int64_t dim) {
  EMBER_SHARED(uint32_t, s_key, kEmbeddingChunk);
  EMBER_SHARED(int32_t, s_pos, kEmbeddingChunk);
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kEmbeddingChunk;
  const int len = static_cast<int>(n - first < kEmbeddingChunk ? n - first : kEmbeddingChunk);
  for (int j = threadIdx.x; j < len; j += blockDim.x) {
    s_key[j] = keys[first + j];
    s_pos[j] = positions[first + j];
  }
  __syncthreads();
  for (int64_t e = threadIdx.x; e < dim; e += blockDim.x) {
    double acc = 0.0;
    int start = 0;
    for (int j = 0; j < len; ++j) {
      if (j > 0 && s_key[j] != s_key[j - 1]) {
        partial[(first + start) * dim + e] = acc;
        acc = 0.0;
        start = j;
      }
      acc += static_cast<double>(d_out[static_cast<int64_t>(s_pos[j]) * dim + e]);
    }
    partial[(first + start) * dim + e] = acc;
  }
}

// One warp per sorted index; only the first index of each id's run works: it adds the run's
// pieces (its own, then one per chunk boundary the run crosses) in order, then d_weight += sum.
template <class T>
__global__ void embedding_run_sum_kernel(const uint32_t* __restrict__ keys,
                                         const double* __restrict__ partial,
                                         T* __restrict__ d_weight, int64_t n, int64_t vocab,
                                         int64_t dim) {
  const int64_t j = global_thread_index() / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (j >= n) return;
  const uint32_t key = keys[j];
  if (key >= static_cast<uint64_t>(vocab)) return;  // invalid ids were mapped past the vocab
  if (j > 0 && keys[j - 1] == key) return;          // not the head of its run
  const int64_t first_boundary = (j / kEmbeddingChunk + 1) * kEmbeddingChunk;
  for (int64_t e = lane; e < dim; e += kWarp) {
    double acc = partial[j * dim + e];
    for (int64_t b = first_boundary; b < n && keys[b] == key; b += kEmbeddingChunk)
      acc += partial[b * dim + e];
    T* row = d_weight + static_cast<int64_t>(key) * dim;
    row[e] += static_cast<T>(acc);
  }
}

int key_bits(int64_t vocab) {  // bits needed for keys 0..vocab (vocab is the sentinel)
  int bits = 1;
  while (bits < 32 && (uint64_t{1} << bits) <= static_cast<uint64_t>(vocab)) ++bits;
  return bits;
}

size_t align_up(size_t x) {
  return (x + 255) & ~size_t{255};
}

struct BackwardLayout {
  size_t keys_in, keys_out, pos_in, pos_out, partial, sort_temp, sort_temp_bytes, total;
};

BackwardLayout backward_layout(int64_t n, int64_t vocab, int64_t dim) {
  BackwardLayout l{};
  size_t sort_bytes = 0;
  EMBER_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
      nullptr, sort_bytes, static_cast<const uint32_t*>(nullptr), static_cast<uint32_t*>(nullptr),
      static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), static_cast<int>(n), 0,
      key_bits(vocab)));
  const size_t n4 = align_up(static_cast<size_t>(n) * 4);
  l.keys_in = 0;
  l.keys_out = l.keys_in + n4;
  l.pos_in = l.keys_out + n4;
  l.pos_out = l.pos_in + n4;
  l.partial = l.pos_out + n4;
  l.sort_temp = l.partial + align_up(static_cast<size_t>(n) * static_cast<size_t>(dim) * 8);
  l.sort_temp_bytes = sort_bytes;
  l.total = l.sort_temp + align_up(sort_bytes);
  return l;
}

__global__ void nonzero_mask_kernel(const int32_t* __restrict__ ids, uint8_t* __restrict__ mask,
                                    int64_t n) {
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) mask[i] = ids[i] != 0 ? 1 : 0;
}

}  // namespace

void nonzero_mask(const int32_t* ids, uint8_t* mask, int64_t n, cudaStream_t stream) {
  EMBER_CHECK_ARG(n >= 0, "cuda::nonzero_mask: n = " << n);
  if (n == 0) return;
  EMBER_LAUNCH(nonzero_mask_kernel, grid_for(n), kBlockThreads, 0, stream, ids, mask, n);
  EMBER_CUDA_CHECK_LAUNCH("nonzero_mask_kernel");
}

template <class T>
void embedding_forward(const T* weight, const int32_t* ids, T* out, int64_t batch, int64_t steps,
                       int64_t vocab, int64_t dim, cudaStream_t stream) {
  EMBER_CHECK_ARG(batch >= 0 && steps >= 0 && vocab > 0 && dim > 0,
                  "cuda::embedding_forward: bad dims B=" << batch << " T=" << steps
                                                         << " V=" << vocab << " E=" << dim);
  const int64_t n = batch * steps;
  if (n == 0) return;
  constexpr int kW = 16 / sizeof(T);  // elements per 16-byte vector: float 4, double 2
  const bool aligned =
      reinterpret_cast<uintptr_t>(weight) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0;
  if (dim % kW == 0 && aligned) {
    const int64_t row_vecs = dim / kW, n_vec = n * row_vecs;
    EMBER_LAUNCH((embedding_forward_kernel<T, kW>), grid_for(n_vec), kBlockThreads, 0, stream,
                 reinterpret_cast<const Vec<T, kW>*>(weight), ids,
                 reinterpret_cast<Vec<T, kW>*>(out), n_vec, row_vecs, vocab);
  } else {
    EMBER_LAUNCH((embedding_forward_kernel<T, 1>), grid_for(n * dim), kBlockThreads, 0, stream,
                 reinterpret_cast<const Vec<T, 1>*>(weight), ids, reinterpret_cast<Vec<T, 1>*>(out),
                 n * dim, dim, vocab);
  }
  EMBER_CUDA_CHECK_LAUNCH("embedding_forward_kernel");
}

size_t embedding_backward_workspace_bytes(int64_t batch, int64_t steps, int64_t vocab,
                                          int64_t dim) {
  const int64_t n = batch * steps;
  if (n <= 0) return 0;
  return backward_layout(n, vocab, dim).total;
}

template <class T>
void embedding_backward(const T* d_out, const int32_t* ids, T* d_weight, int64_t batch,
                        int64_t steps, int64_t vocab, int64_t dim, void* workspace,
                        size_t workspace_bytes, cudaStream_t stream) {
  EMBER_CHECK_ARG(batch >= 0 && steps >= 0 && vocab > 0 && dim > 0,
                  "cuda::embedding_backward: bad dims B=" << batch << " T=" << steps
                                                          << " V=" << vocab << " E=" << dim);
  const int64_t n = batch * steps;
  if (n == 0) return;
  EMBER_CHECK_ARG(
      n < (int64_t{1} << 31) && vocab < (int64_t{1} << 31),
      "cuda::embedding_backward: B*T = " << n << " or V = " << vocab << " does not fit in 31 bits");
  const BackwardLayout l = backward_layout(n, vocab, dim);
  EMBER_CHECK_ARG(workspace && workspace_bytes >= l.total, "cuda::embedding_backward: workspace of "
                                                               << workspace_bytes
                                                               << " bytes, needs " << l.total);
  char* ws = static_cast<char*>(workspace);
  auto* keys_in = reinterpret_cast<uint32_t*>(ws + l.keys_in);
  auto* keys_out = reinterpret_cast<uint32_t*>(ws + l.keys_out);
  auto* pos_in = reinterpret_cast<int32_t*>(ws + l.pos_in);
  auto* pos_out = reinterpret_cast<int32_t*>(ws + l.pos_out);
  auto* partial = reinterpret_cast<double*>(ws + l.partial);

  EMBER_LAUNCH(embedding_sort_prep_kernel, grid_for(n), kBlockThreads, 0, stream, ids, keys_in,
               pos_in, n, vocab);
  EMBER_CUDA_CHECK_LAUNCH("embedding_sort_prep_kernel");
  size_t sort_bytes = l.sort_temp_bytes;
  EMBER_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(ws + l.sort_temp, sort_bytes, keys_in, keys_out,
                                                   pos_in, pos_out, static_cast<int>(n), 0,
                                                   key_bits(vocab), stream));
  EMBER_CUDA_CHECK_LAUNCH("embedding_backward radix sort");

  const int64_t chunks = ceil_div(n, kEmbeddingChunk);
  const int threads = dim >= 256 ? 256 : static_cast<int>(ceil_div(dim, kWarp) * kWarp);
  EMBER_LAUNCH(embedding_chunk_sum_kernel<T>, static_cast<unsigned>(chunks), threads, 0, stream,
               d_out, keys_out, pos_out, partial, n, dim);
  EMBER_CUDA_CHECK_LAUNCH("embedding_chunk_sum_kernel");
  const int64_t warps_per_block = kBlockThreads / kWarp;
  EMBER_LAUNCH(embedding_run_sum_kernel<T>, static_cast<unsigned>(ceil_div(n, warps_per_block)),
               kBlockThreads, 0, stream, keys_out, partial, d_weight, n, vocab, dim);
  EMBER_CUDA_CHECK_LAUNCH("embedding_run_sum_kernel");
}

#define EMBER_INSTANTIATE_EMBEDDING_CUDA(T)                                                    \
  template void embedding_forward<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t,  \
                                     int64_t, cudaStream_t);                                   \
  template void embedding_backward<T>(const T*, const int32_t*, T*, int64_t, int64_t, int64_t, \
                                      int64_t, void*, size_t, cudaStream_t);
EMBER_INSTANTIATE_EMBEDDING_CUDA(float)
EMBER_INSTANTIATE_EMBEDDING_CUDA(double)
#undef EMBER_INSTANTIATE_EMBEDDING_CUDA

}  // namespace ember::cuda
