// Index helpers shared by host and device code: the EMBER_HD qualifier, ceil_div, and which
// time step a sequence loop's index maps to. Plain C++ (no CUDA header), so the CPU reference
// (kernels/*_ref.cpp, g++ without CUDA), the host planners (lstm_persistent.cpp, cudnn_rnn.cpp)
// and the kernels all use the same definitions. Conventions: a sequence has `steps` times;
// processing step s = 0, 1, ... reads time time_of(q, s) and writes output position
// out_pos(q, s); both are their own inverse.
#pragma once

#include <cstdint>

// EMBER_HD: __host__ __device__ __forceinline__ under nvcc, an always-inlined `inline` for a
// host compiler, including the CUDA emulator's build, where device code is ordinary C++. The
// one definition: engine/core/rng.h (Philox, needed on both sides) takes it from here. Always
// inlined because a plain inline function that the optimiser leaves out of line is one symbol
// for the whole program, and the linker may keep the copy of a test compiled at -O0 (clang
// did: Philox at -O0 was half the emulated dropout tests' time).
#if defined(__CUDACC__)
#define EMBER_HD __host__ __device__ __forceinline__
#else
#define EMBER_HD inline __attribute__((always_inline))
#endif

namespace ember {

// a / b rounded up, for a >= 0 and b > 0.
EMBER_HD constexpr int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Time read by processing step s of `q` (anything with `steps` and `go_backwards`: LstmConfig,
// the persistent kernels' arguments): go_backwards reads the sequence from its end. I is the
// caller's index type (int64_t on the host, int in the persistent kernels); steps converts to it.
template <class Seq, class I>
EMBER_HD constexpr I time_of(const Seq& q, I s) {
  return q.go_backwards ? static_cast<I>(q.steps) - 1 - s : s;
}

// Output position written by processing step s (return_sequences): reverse_outputs stores the
// outputs in processing order reversed.
template <class Seq, class I>
EMBER_HD constexpr I out_pos(const Seq& q, I s) {
  return q.reverse_outputs ? static_cast<I>(q.steps) - 1 - s : s;
}

}  // namespace ember
