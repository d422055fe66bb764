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

// One line per atomic: EMU_FETCH_(T, name, builtin) is a relaxed __atomic read-modify-write;
// EMU_UPDATE_(T, name, update, new_value) a CAS loop (emu::detail::atomic_update, or
// atomic_update_fp on a float's bits) storing new_value of the old value o.
#define EMU_FETCH_(T, name, builtin)        \
  inline T name(T* a, T v) {                \
    return builtin(a, v, __ATOMIC_RELAXED); \
  }
#define EMU_UPDATE_(T, name, update, new_value)                      \
  inline T name(T* a, T v) {                                         \
    return ::emu::detail::update(a, [v](T o) { return new_value; }); \
  }
#define EMU_ATOMIC_INT_(T)                                                                  \
  EMU_FETCH_(T, atomicAdd, __atomic_fetch_add)                                              \
  EMU_FETCH_(T, atomicSub, __atomic_fetch_sub)                                              \
  EMU_FETCH_(T, atomicExch, __atomic_exchange_n)                                            \
  EMU_FETCH_(T, atomicAnd, __atomic_fetch_and)                                              \
  EMU_FETCH_(T, atomicOr, __atomic_fetch_or)                                                \
  EMU_FETCH_(T, atomicXor, __atomic_fetch_xor)                                              \
  EMU_UPDATE_(T, atomicMin, atomic_update, v < o ? v : o)                                   \
  EMU_UPDATE_(T, atomicMax, atomic_update, v > o ? v : o)                                   \
  inline T atomicCAS(T* a, T compare, T v) {                                                \
    __atomic_compare_exchange_n(a, &compare, v, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
    return compare;                                                                         \
  }
EMU_ATOMIC_INT_(int)
EMU_ATOMIC_INT_(unsigned int)
EMU_ATOMIC_INT_(unsigned long long)
EMU_ATOMIC_INT_(long long)
#undef EMU_ATOMIC_INT_
EMU_UPDATE_(float, atomicAdd, atomic_update_fp, o + v)
EMU_UPDATE_(double, atomicAdd, atomic_update_fp, o + v)
EMU_UPDATE_(float, atomicMin, atomic_update_fp, fminf(o, v))
EMU_UPDATE_(float, atomicMax, atomic_update_fp, fmaxf(o, v))
#undef EMU_FETCH_
#undef EMU_UPDATE_
inline float atomicExch(float* a, float v) {
  return ::emu::detail::atomic_update_fp(a, [v](float) { return v; });
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
// Each is one expression of its arguments: EMU_FN1_(R, name, T, expr) is R name(T x),
// EMU_FN2_ R name(T a, T b), EMU_FN3_ R name(T a, T b, T c); EMU_BITS_(R, name, A)
// reinterprets an A's bits as an R.
#define EMU_FN1_(R, name, T, expr) \
  inline R name(T x) {             \
    return expr;                   \
  }
#define EMU_FN2_(R, name, T, expr) \
  inline R name(T a, T b) {        \
    return expr;                   \
  }
#define EMU_FN3_(R, name, T, expr) \
  inline R name(T a, T b, T c) {   \
    return expr;                   \
  }
#define EMU_BITS_(R, name, A)              \
  inline R name(A x) {                     \
    static_assert(sizeof(R) == sizeof(A)); \
    R r;                                   \
    std::memcpy(&r, &x, sizeof r);         \
    return r;                              \
  }
// The IEEE round-to-nearest operations of one floating type, named as CUDA names them.
#define EMU_RN_(T, add, sub, mul, div, sqrt_, rcp, fma_) \
  EMU_FN2_(T, add, T, a + b)                             \
  EMU_FN2_(T, sub, T, a - b)                             \
  EMU_FN2_(T, mul, T, (a * b))                           \
  EMU_FN2_(T, div, T, a / b)                             \
  EMU_FN1_(T, sqrt_, T, std::sqrt(x))                    \
  EMU_FN1_(T, rcp, T, T(1) / x)                          \
  EMU_FN3_(T, fma_, T, std::fma(a, b, c))
EMU_RN_(float, __fadd_rn, __fsub_rn, __fmul_rn, __fdiv_rn, __fsqrt_rn, __frcp_rn, __fmaf_rn)
EMU_RN_(double, __dadd_rn, __dsub_rn, __dmul_rn, __ddiv_rn, __dsqrt_rn, __drcp_rn, __fma_rn)
#undef EMU_RN_
EMU_FN1_(float, __expf, float, std::exp(x))
EMU_FN1_(float, __exp10f, float, std::pow(10.0f, x))
EMU_FN1_(float, __logf, float, std::log(x))
EMU_FN1_(float, __log2f, float, std::log2(x))
EMU_FN1_(float, __log10f, float, std::log10(x))
EMU_FN2_(float, __powf, float, std::pow(a, b))
EMU_FN1_(float, __sinf, float, std::sin(x))
EMU_FN1_(float, __cosf, float, std::cos(x))
EMU_FN1_(float, __tanf, float, std::tan(x))
EMU_FN1_(float, __tanhf, float, std::tanh(x))
EMU_FN2_(float, __fdividef, float, a / b)
EMU_FN1_(float, rsqrtf, float, 1.0f / std::sqrt(x))
EMU_FN1_(double, rsqrt, double, 1.0 / std::sqrt(x))
// __saturatef takes NaN to 0, as the GPU's does.
EMU_FN1_(float, __saturatef, float, x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f)
EMU_FN1_(int, __float2int_rn, float, static_cast<int>(std::nearbyint(x)))
EMU_FN1_(int, __float2int_rz, float, static_cast<int>(x))
EMU_FN1_(int, __float2int_rd, float, static_cast<int>(std::floor(x)))
EMU_FN1_(int, __float2int_ru, float, static_cast<int>(std::ceil(x)))
EMU_FN1_(unsigned, __float2uint_rn, float, static_cast<unsigned>(std::nearbyint(x)))
EMU_FN1_(float, __int2float_rn, int, static_cast<float>(x))
EMU_FN1_(int, __double2int_rn, double, static_cast<int>(std::nearbyint(x)))
EMU_BITS_(int, __float_as_int, float)
EMU_BITS_(unsigned, __float_as_uint, float)
EMU_BITS_(float, __int_as_float, int)
EMU_BITS_(float, __uint_as_float, unsigned)
EMU_BITS_(long long, __double_as_longlong, double)
EMU_BITS_(double, __longlong_as_double, long long)
#undef EMU_FN1_
#undef EMU_FN2_
#undef EMU_FN3_
#undef EMU_BITS_

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
