// The radix sort behind cub::DeviceRadixSort (emu/include/cub/device/device_radix_sort.cuh):
// LSD passes of 8-bit digits over key bits [begin_bit, end_bit), each a stable counting sort
// that moves keys and values together between the output arrays and the caller's temporary
// storage (laid out as cub's would be used: one key buffer and one value buffer), so a too
// small temporary is a real error, as it is on the GPU. Signed keys have their sign bit flipped
// first so negative keys order first.
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "state.h"
#include "stream_queue.h"

namespace emu::detail {

namespace {

std::size_t align_up(std::size_t x) {
  return (x + 255) & ~std::size_t{255};
}

std::uint64_t load_key(const char* p, int bytes, bool is_signed) {
  std::uint64_t k = 0;
  std::memcpy(&k, p, static_cast<std::size_t>(bytes));  // little-endian: the low bytes
  if (is_signed) k ^= std::uint64_t{1} << (bytes * 8 - 1);
  return k;
}

cudaError_t bad(const SortArgs& a, const std::string& why) {
  diag(std::string("cub::DeviceRadixSort::") + a.what + ": " + why);
  return set_error(cudaErrorInvalidValue);
}

// The passes; `a` was checked, n items of kb-byte keys and vb-byte values (0: none).
void sort(const SortArgs& a, std::size_t n, std::size_t kb, std::size_t vb) {
  const int passes = (a.end_bit - a.begin_bit + 7) / 8;
  char* tk = static_cast<char*>(a.temp);
  char* tv = tk + align_up(n * kb);
  char* ok = static_cast<char*>(a.keys_out);
  char* ov = static_cast<char*>(a.values_out);
  const char* sk = static_cast<const char*>(a.keys_in);
  const char* sv = static_cast<const char*>(a.values_in);
  if (passes == 0) {
    std::memcpy(ok, sk, n * kb);
    if (vb) std::memcpy(ov, sv, n * vb);
    return;
  }
  std::vector<std::size_t> count(256);
  for (int p = 0; p < passes; ++p) {
    // Alternate so that the last pass writes the outputs.
    const bool to_out = (passes - 1 - p) % 2 == 0;
    char* dk = to_out ? ok : tk;
    char* dv = to_out ? ov : tv;
    const int shift = a.begin_bit + 8 * p;
    const int bits = a.end_bit - shift < 8 ? a.end_bit - shift : 8;
    const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
    std::fill(count.begin(), count.end(), 0);
    for (std::size_t i = 0; i < n; ++i)
      ++count[(load_key(sk + i * kb, a.key_bytes, a.key_signed) >> shift) & mask];
    std::size_t sum = 0;
    for (std::size_t& c : count) {
      const std::size_t here = c;
      c = sum;
      sum += here;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t d =
          count[(load_key(sk + i * kb, a.key_bytes, a.key_signed) >> shift) & mask]++;
      std::memcpy(dk + d * kb, sk + i * kb, kb);
      if (vb) std::memcpy(dv + d * vb, sv + i * vb, vb);
    }
    sk = dk;
    sv = dv;
  }
}

}  // namespace

cudaError_t radix_sort(const SortArgs& a) {
  std::lock_guard<std::recursive_mutex> lock(device_mutex());
  if (cudaError_t e = sticky_error()) return set_error(e);
  const std::size_t n = a.items > 0 ? static_cast<std::size_t>(a.items) : 0;
  const std::size_t kb = static_cast<std::size_t>(a.key_bytes);
  // Pairs by the value type (SortKeys passes 0), not by values_in: cub's size query ignores every
  // pointer, and callers pass nulls to it.
  const std::size_t vb = static_cast<std::size_t>(a.value_bytes);
  const std::size_t need = align_up(n * kb) + align_up(n * vb) + 256;
  if (!a.temp_bytes) return bad(a, "temp_storage_bytes is null");
  if (!a.temp) {  // size query
    *a.temp_bytes = need;
    return cudaSuccess;
  }
  if (a.items < 0) return bad(a, "num_items " + std::to_string(a.items) + " is negative");
  if (a.begin_bit < 0 || a.end_bit > a.key_bytes * 8 || a.begin_bit > a.end_bit)
    return bad(a, "bits [" + std::to_string(a.begin_bit) + ", " + std::to_string(a.end_bit) +
                      ") are not within the " + std::to_string(a.key_bytes * 8) + "-bit key");
  if (!valid_stream(a.stream)) return set_error(cudaErrorInvalidResourceHandle);
  if (*a.temp_bytes < need)
    return bad(a, "temp_storage_bytes " + std::to_string(*a.temp_bytes) + " is below the " +
                      std::to_string(need) + " this sort needs (query it with a null temp)");
  if (n == 0) return cudaSuccess;
  std::string why;
  if (!device_range(a.temp, need, &why)) return bad(a, "temp storage: " + why);
  if (!device_range(a.keys_in, n * kb, &why)) return bad(a, "keys_in: " + why);
  if (!device_range(a.keys_out, n * kb, &why)) return bad(a, "keys_out: " + why);
  auto overlap = [](const void* x, const void* y, std::size_t bytes) {
    const char *p = static_cast<const char*>(x), *q = static_cast<const char*>(y);
    return p < q + bytes && q < p + bytes;
  };
  if (overlap(a.keys_in, a.keys_out, n * kb)) return bad(a, "keys_in and keys_out overlap");
  if (vb) {
    if (!device_range(a.values_in, n * vb, &why)) return bad(a, "values_in: " + why);
    if (!device_range(a.values_out, n * vb, &why)) return bad(a, "values_out: " + why);
    if (overlap(a.values_in, a.values_out, n * vb))
      return bad(a, "values_in and values_out overlap");
  }

  const SortArgs args = a;  // the pointers and sizes, for when the sort runs
  issue(a.stream, [args, n, kb, vb] { sort(args, n, kb, vb); });
  return cudaSuccess;
}

}  // namespace emu::detail
