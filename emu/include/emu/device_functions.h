// Device-side CUDA for the CPU emulator: the qualifier macros (kernels are ordinary C++
// functions), __syncthreads and its counting variants, warp shuffles/votes/__syncwarp, memory
// fences. Barriers and warp operations record their call site (__builtin_FILE/LINE as default
// arguments) so a fault names where each thread waits. Shuffles move any trivially copyable value
// of at most 8 bytes (int, unsigned, float, double, 64-bit integers) through the warp's slots.
// Atomics and intrinsics are in emu/device_math.h.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "emu/engine.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
// No __noinline__: libstdc++ spells __attribute__((__noinline__)), which a macro would break
// (CUDA's own headers stopped defining it for GCC for the same reason).
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
#define __constant__
#define __managed__
#define __grid_constant__

constexpr int warpSize = 32;

namespace emu::detail {

struct Site {
  const char* file;
  int line;
};

// Block barriers (kind: plain, count, and, or); returns the reduction for the counting kinds.
enum class BarrierKind : unsigned char { Plain, Count, And, Or };
int block_barrier(BarrierKind kind, int predicate, Site site);

// Warp operations; `bits` carries the lane's value (or predicate), the result comes back the
// same way.
enum class WarpKind : unsigned char { Sync, Idx, Up, Down, Xor, Ballot, Any, All };
std::uint64_t warp_op(WarpKind kind, unsigned mask, std::uint64_t bits, int arg, int width,
                      Site site);
unsigned active_mask();

template <class T>
std::uint64_t to_bits(T v) {
  static_assert(std::is_trivially_copyable<T>::value && sizeof(T) <= 8,
                "warp shuffles move trivially copyable values of at most 8 bytes");
  std::uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(std::uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace emu::detail

inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::emu::detail::block_barrier(::emu::detail::BarrierKind::Plain, 0, {file, line});
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(),
                               int line = __builtin_LINE()) {
  return ::emu::detail::block_barrier(::emu::detail::BarrierKind::Count, pred, {file, line});
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(),
                             int line = __builtin_LINE()) {
  return ::emu::detail::block_barrier(::emu::detail::BarrierKind::And, pred, {file, line});
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(),
                            int line = __builtin_LINE()) {
  return ::emu::detail::block_barrier(::emu::detail::BarrierKind::Or, pred, {file, line});
}

inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(),
                       int line = __builtin_LINE()) {
  ::emu::detail::warp_op(::emu::detail::WarpKind::Sync, mask, 0, 0, warpSize, {file, line});
}

template <class T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return from_bits<T>(warp_op(WarpKind::Idx, mask, to_bits(var), src_lane, width, {file, line}));
}
template <class T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return from_bits<T>(
      warp_op(WarpKind::Up, mask, to_bits(var), static_cast<int>(delta), width, {file, line}));
}
template <class T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return from_bits<T>(
      warp_op(WarpKind::Down, mask, to_bits(var), static_cast<int>(delta), width, {file, line}));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return from_bits<T>(warp_op(WarpKind::Xor, mask, to_bits(var), lane_mask, width, {file, line}));
}

inline unsigned __ballot_sync(unsigned mask, int pred, const char* file = __builtin_FILE(),
                              int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return static_cast<unsigned>(
      warp_op(WarpKind::Ballot, mask, pred != 0, 0, warpSize, {file, line}));
}
inline int __any_sync(unsigned mask, int pred, const char* file = __builtin_FILE(),
                      int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return static_cast<int>(warp_op(WarpKind::Any, mask, pred != 0, 0, warpSize, {file, line}));
}
inline int __all_sync(unsigned mask, int pred, const char* file = __builtin_FILE(),
                      int line = __builtin_LINE()) {
  using namespace ::emu::detail;
  return static_cast<int>(warp_op(WarpKind::All, mask, pred != 0, 0, warpSize, {file, line}));
}
// The lanes of the caller's warp that exist and have not exited. Threads are not run in
// lock-step here, so this is not "the lanes converged with the caller" (emu/README.md).
inline unsigned __activemask() {
  return ::emu::detail::active_mask();
}

// Fences: every fiber runs on one host thread, so memory is always coherent; these only stop
// the compiler from moving accesses across them.
inline void __threadfence() {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
inline void __threadfence_block() {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
inline void __threadfence_system() {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
