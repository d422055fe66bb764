// CPU emulator stand-in for cub's DeviceRadixSort: a stable LSD radix sort on key bits
// [begin_bit, end_bit), executed when issued on `stream`. As cub's, the first call with
// temp_storage == nullptr only reports temp_storage_bytes; a later call checks that the storage
// it is given is that large (and device memory) and uses it as the sort's double buffers. Keys:
// 8/16/32/64-bit integers (signed keys order negative before positive); values: any trivially
// copyable type. Inputs and outputs must be device allocations that do not overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <cuda_runtime.h>

namespace emu::detail {
struct SortArgs {
  void* temp;
  std::size_t* temp_bytes;
  const void* keys_in;
  void* keys_out;
  const void* values_in;  // nullptr: keys only
  void* values_out;
  long long items;
  int key_bytes;
  bool key_signed;
  int value_bytes;
  int begin_bit, end_bit;
  cudaStream_t stream;
  const char* what;  // "SortPairs" / "SortKeys", for messages
};
cudaError_t radix_sort(const SortArgs& args);
}  // namespace emu::detail

namespace cub {

struct DeviceRadixSort {
  template <class K, class V, class N>
  static cudaError_t SortPairs(void* temp_storage, std::size_t& temp_storage_bytes,
                               const K* keys_in, K* keys_out, const V* values_in, V* values_out,
                               N num_items, int begin_bit = 0, int end_bit = sizeof(K) * 8,
                               cudaStream_t stream = 0) {
    static_assert(std::is_integral<K>::value, "emulated DeviceRadixSort: integer keys only");
    static_assert(std::is_trivially_copyable<V>::value,
                  "DeviceRadixSort: trivially copyable values");
    return ::emu::detail::radix_sort(
        {temp_storage, &temp_storage_bytes, keys_in, keys_out, values_in, values_out,
         static_cast<long long>(num_items), static_cast<int>(sizeof(K)), std::is_signed<K>::value,
         static_cast<int>(sizeof(V)), begin_bit, end_bit, stream, "SortPairs"});
  }
  template <class K, class N>
  static cudaError_t SortKeys(void* temp_storage, std::size_t& temp_storage_bytes, const K* keys_in,
                              K* keys_out, N num_items, int begin_bit = 0,
                              int end_bit = sizeof(K) * 8, cudaStream_t stream = 0) {
    static_assert(std::is_integral<K>::value, "emulated DeviceRadixSort: integer keys only");
    return ::emu::detail::radix_sort({temp_storage, &temp_storage_bytes, keys_in, keys_out, nullptr,
                                      nullptr, static_cast<long long>(num_items),
                                      static_cast<int>(sizeof(K)), std::is_signed<K>::value, 0,
                                      begin_bit, end_bit, stream, "SortKeys"});
  }
};

}  // namespace cub
