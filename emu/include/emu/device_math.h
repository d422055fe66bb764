// Device math for the CPU emulator: atomics, integer and float intrinsics, and CUDA's
// global-namespace min/max overloads. Atomics are real read-modify-write functions on
// __atomic builtins (relaxed), so misuse compiles as in CUDA and ThreadSanitizer sees them as
// atomic; fibers only switch at barriers, so they are never interleaved anyway. Fast-math
// intrinsics (__expf, __fdividef, ...) are computed with libm at full precision: results are
// close to, not bit-equal with, the GPU's (emu/README.md).
#pragma once

#include <math.h>  // libstdc++'s wrapper: float overloads (fma, exp, ...) in the global namespace

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

// ---- atomics ---------------------------------------------------------------------------------
namespace emu::detail {
template <class T, class F>
T atomic_update(T* address, F f) {  // CAS loop on the value's bits: float/double arithmetic
  T old = __atomic_load_n(address, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(address, &old, f(old), false, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T, class F>
T atomic_update_fp(T* address, F f) {
  using U = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  U* u = reinterpret_cast<U*>(address);
  U old = __atomic_load_n(u, __ATOMIC_RELAXED);
  for (;;) {
    T ov, nv;
    std::memcpy(&ov, &old, sizeof(T));
    nv = f(ov);
    U nu;
    std::memcpy(&nu, &nv, sizeof(T));
    if (__atomic_compare_exchange_n(u, &old, nu, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      return ov;
  }
}
}  // namespace emu::detail

#define EMU_ATOMIC_INT_(T)                                                                  \
  inline T atomicAdd(T* a, T v) {                                                           \
    return __atomic_fetch_add(a, v, __ATOMIC_RELAXED);                                      \
  }                                                                                         \
  inline T atomicSub(T* a, T v) {                                                           \
    return __atomic_fetch_sub(a, v, __ATOMIC_RELAXED);                                      \
  }                                                                                         \
  inline T atomicExch(T* a, T v) {                                                          \
    return __atomic_exchange_n(a, v, __ATOMIC_RELAXED);                                     \
  }                                                                                         \
  inline T atomicAnd(T* a, T v) {                                                           \
    return __atomic_fetch_and(a, v, __ATOMIC_RELAXED);                                      \
  }                                                                                         \
  inline T atomicOr(T* a, T v) {                                                            \
    return __atomic_fetch_or(a, v, __ATOMIC_RELAXED);                                       \
  }                                                                                         \
  inline T atomicXor(T* a, T v) {                                                           \
    return __atomic_fetch_xor(a, v, __ATOMIC_RELAXED);                                      \
  }                                                                                         \
  inline T atomicMin(T* a, T v) {                                                           \
    return ::emu::detail::atomic_update(a, [v](T o) { return v < o ? v : o; });             \
  }                                                                                         \
  inline T atomicMax(T* a, T v) {                                                           \
    return ::emu::detail::atomic_update(a, [v](T o) { return v > o ? v : o; });             \
  }                                                                                         \
  inline T atomicCAS(T* a, T compare, T v) {                                                \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
    return compare;                                                                         \
  }
EMU_ATOMIC_INT_(int)
EMU_ATOMIC_INT_(unsigned int)
EMU_ATOMIC_INT_(unsigned long long)
EMU_ATOMIC_INT_(long long)
#undef EMU_ATOMIC_INT_

inline float atomicAdd(float* a, float v) {
  return ::emu::detail::atomic_update_fp(a, [v](float o) { return o + v; });
}
inline double atomicAdd(double* a, double v) {
  return ::emu::detail::atomic_update_fp(a, [v](double o) { return o + v; });
}
inline float atomicExch(float* a, float v) {
  return ::emu::detail::atomic_update_fp(a, [v](float) { return v; });
}
inline float atomicMin(float* a, float v) {
  return ::emu::detail::atomic_update_fp(a, [v](float o) { return fminf(o, v); });
}
inline float atomicMax(float* a, float v) {
  return ::emu::detail::atomic_update_fp(a, [v](float o) { return fmaxf(o, v); });
}
// ((old >= limit) ? 0 : old + 1) and ((old == 0 || old > limit) ? limit : old - 1), as CUDA's.
inline unsigned atomicInc(unsigned* a, unsigned limit) {
  return ::emu::detail::atomic_update(a, [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* a, unsigned limit) {
  return ::emu::detail::atomic_update(
      a, [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}

// ---- integer intrinsics ----------------------------------------------------------------------
inline int __popc(unsigned x) {
  return __builtin_popcount(x);
}
inline int __popcll(unsigned long long x) {
  return __builtin_popcountll(x);
}
inline int __ffs(int x) {
  return __builtin_ffs(x);
}
inline int __ffsll(long long x) {
  return __builtin_ffsll(x);
}
inline int __clz(int x) {
  return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x));
}
inline int __clzll(long long x) {
  return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x));
}
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int __mulhi(int a, int b) {
  return static_cast<int>((static_cast<long long>(a) * b) >> 32);
}
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline long long __mul64hi(long long a, long long b) {
  return static_cast<long long>((static_cast<__int128>(a) * b) >> 64);
}
template <class T>
inline T __ldg(const T* p) {
  return *p;
}

// ---- float intrinsics: IEEE round-to-nearest operations are the plain C++ ones (the build
// does not contract a*b+c), fast-math ones are libm's ---------------------------------------
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline float __fsqrt_rn(float a) {
  return std::sqrt(a);
}
inline float __frcp_rn(float a) {
  return 1.0f / a;
}
inline float __fmaf_rn(float a, float b, float c) {
  return std::fma(a, b, c);
}
inline double __dadd_rn(double a, double b) {
  return a + b;
}
inline double __dsub_rn(double a, double b) {
  return a - b;
}
inline double __dmul_rn(double a, double b) {
  return a * b;
}
inline double __ddiv_rn(double a, double b) {
  return a / b;
}
inline double __dsqrt_rn(double a) {
  return std::sqrt(a);
}
inline double __drcp_rn(double a) {
  return 1.0 / a;
}
inline double __fma_rn(double a, double b, double c) {
  return std::fma(a, b, c);
}
inline float __expf(float x) {
  return std::exp(x);
}
inline float __exp10f(float x) {
  return std::pow(10.0f, x);
}
inline float __logf(float x) {
  return std::log(x);
}
inline float __log2f(float x) {
  return std::log2(x);
}
inline float __log10f(float x) {
  return std::log10(x);
}
inline float __powf(float x, float y) {
  return std::pow(x, y);
}
inline float __sinf(float x) {
  return std::sin(x);
}
inline float __cosf(float x) {
  return std::cos(x);
}
inline float __tanf(float x) {
  return std::tan(x);
}
inline float __tanhf(float x) {
  return std::tanh(x);
}
inline float __fdividef(float a, float b) {
  return a / b;
}
inline float rsqrtf(float x) {
  return 1.0f / std::sqrt(x);
}
inline double rsqrt(double x) {
  return 1.0 / std::sqrt(x);
}
inline float __saturatef(float x) {  // NaN -> 0, as the GPU's
  return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
}
inline int __float2int_rn(float x) {
  return static_cast<int>(std::nearbyint(x));
}
inline int __float2int_rz(float x) {
  return static_cast<int>(x);
}
inline int __float2int_rd(float x) {
  return static_cast<int>(std::floor(x));
}
inline int __float2int_ru(float x) {
  return static_cast<int>(std::ceil(x));
}
inline unsigned __float2uint_rn(float x) {
  return static_cast<unsigned>(std::nearbyint(x));
}
inline float __int2float_rn(int x) {
  return static_cast<float>(x);
}
inline int __double2int_rn(double x) {
  return static_cast<int>(std::nearbyint(x));
}
inline int __float_as_int(float x) {
  int r;
  std::memcpy(&r, &x, 4);
  return r;
}
inline unsigned __float_as_uint(float x) {
  unsigned r;
  std::memcpy(&r, &x, 4);
  return r;
}
inline float __int_as_float(int x) {
  float r;
  std::memcpy(&r, &x, 4);
  return r;
}
inline float __uint_as_float(unsigned x) {
  float r;
  std::memcpy(&r, &x, 4);
  return r;
}
inline long long __double_as_longlong(double x) {
  long long r;
  std::memcpy(&r, &x, 8);
  return r;
}
inline double __longlong_as_double(long long x) {
  double r;
  std::memcpy(&r, &x, 8);
  return r;
}

// ---- min/max in the global namespace, as CUDA's math headers declare them (non-templates, so
// they win over std::min/std::max brought in by a using-declaration) -------------------------
#define EMU_MINMAX_(R, A, B)                              \
  inline R min(A a, B b) {                                \
    return static_cast<R>(a) < static_cast<R>(b) ? a : b; \
  }                                                       \
  inline R max(A a, B b) {                                \
    return static_cast<R>(a) > static_cast<R>(b) ? a : b; \
  }
EMU_MINMAX_(int, int, int)
EMU_MINMAX_(unsigned int, unsigned int, unsigned int)
EMU_MINMAX_(unsigned int, int, unsigned int)
EMU_MINMAX_(unsigned int, unsigned int, int)
EMU_MINMAX_(long, long, long)
EMU_MINMAX_(unsigned long, unsigned long, unsigned long)
EMU_MINMAX_(unsigned long, long, unsigned long)
EMU_MINMAX_(unsigned long, unsigned long, long)
EMU_MINMAX_(long long, long long, long long)
EMU_MINMAX_(unsigned long long, unsigned long long, unsigned long long)
EMU_MINMAX_(unsigned long long, long long, unsigned long long)
EMU_MINMAX_(unsigned long long, unsigned long long, long long)
#undef EMU_MINMAX_
inline float min(float a, float b) {
  return std::fmin(a, b);
}
inline float max(float a, float b) {
  return std::fmax(a, b);
}
inline double min(double a, double b) {
  return std::fmin(a, b);
}
inline double max(double a, double b) {
  return std::fmax(a, b);
}
inline double min(float a, double b) {
  return std::fmin(static_cast<double>(a), b);
}
inline double max(float a, double b) {
  return std::fmax(static_cast<double>(a), b);
}
inline double min(double a, float b) {
  return std::fmin(a, static_cast<double>(b));
}
inline double max(double a, float b) {
  return std::fmax(a, static_cast<double>(b));
}
