// The body of the CPU LSTM's gate loops (lstm_gates_cpu.h), included by one translation unit
// per ISA, each compiled with its own flags (cmake/ember_cpu_isa.cmake). Everything here has
// internal linkage and calls only compiler builtins: an inline function with external linkage
// (a libstdc++ wrapper such as std::fabs) left out of line at -O0 would be one symbol for the
// whole program, and the linker could keep the AVX-512 copy for every caller.
// No include guard on purpose: each including file is its own ISA.
#include <cmath>  // ::exp, ::tanh for the double reference (libm functions, not inline)
#include <cstdint>

#include "kernels/lstm/lstm_cell.cuh"
#include "kernels/lstm/lstm_gates_cpu.h"

namespace ember::ref {
namespace {

// Activations. Double uses libm's exp/tanh: it is the precision reference. Float uses the
// branch-free versions below so that the gate loops vectorize (glibc's tanhf, through expm1f,
// alone cost more than all the gemms). Measured against double: exp within 1.7 ulp, tanh
// within 2.7 ulp (absolute error < 1e-7). NaN propagates; +-inf saturate.

// Branch-free select. A float `c ? x : y` makes GCC (with its default -ftrapping-math) keep a
// branch, which stops vectorization; blending the bit patterns does not.
inline float pick(bool c, float x, float y) {
  int32_t xi, yi;
  __builtin_memcpy(&xi, &x, sizeof xi);
  __builtin_memcpy(&yi, &y, sizeof yi);
  const int32_t m = -static_cast<int32_t>(c);
  const int32_t r = (xi & m) | (yi & ~m);
  float out;
  __builtin_memcpy(&out, &r, sizeof out);
  return out;
}

// exp: a = n*ln2 + r with |r| <= ln2/2 (ln2 split in two so n*ln2_hi is exact); exp(r) by its
// Taylor series to r^7 (truncation < 1e-8 relative); 2^n written into the exponent bits.
// Clamping a to [-87, 88] keeps every result a normal float.
inline float exp_f32(float a) {
  a = pick(a < -87.0f, -87.0f, a);
  a = pick(a > 88.0f, 88.0f, a);
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float t = a * 1.44269504088896341f + kRound;
  const float n = t - kRound;
  const float r = (a - n * 0.693359375f) - n * -2.12194440054690583e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  uint32_t bits;  // unsigned: a NaN's bits must not overflow a signed shift
  __builtin_memcpy(&bits, &t, sizeof bits);  // t's low mantissa bits hold n + 2^22
  const uint32_t scale_bits = (bits - 0x4B400000u + 127u) << 23;
  float scale;
  __builtin_memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}

// tanh: (1-e)/(1+e) with e = exp(-2|a|), which loses bits to cancellation near 0, so for
// |a| < 0.25 its Taylor series to a^11 (truncation < 1e-8 relative) is used instead.
inline float tanh_f32(float a) {
  const float ax = __builtin_fabsf(a);
  const float e = exp_f32(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  const float a2 = a * a;
  float p = -1382.0f / 155925.0f;
  p = p * a2 + 62.0f / 2835.0f;
  p = p * a2 - 17.0f / 315.0f;
  p = p * a2 + 2.0f / 15.0f;
  p = p * a2 - 1.0f / 3.0f;
  const float small = a + a * a2 * p;
  return pick(ax < 0.25f, small, __builtin_copysignf(big, a));
}

// The reference's activations for the shared cell (kernels/lstm/lstm_cell.cuh).
struct RefAct {
  static float sigmoid(float a) { return 1.0f / (1.0f + exp_f32(-a)); }
  static double sigmoid(double a) { return 1.0 / (1.0 + ::exp(-a)); }
  static float tanh(float a) { return tanh_f32(a); }
  static double tanh(double a) { return ::tanh(a); }
};

// One sample's gates at one step: a [G] holds x·W + h·R on entry and the activations
// i, f, g, o on exit; c [H] and h [H] advance in place. __restrict lets the loop vectorize.
template <class T>
void gates_forward_row(T* __restrict a, const T* __restrict bias, T* __restrict c, T* __restrict h,
                       int64_t nh) {
  for (int64_t j = 0; j < nh; ++j) {
    const LstmGates<T> z{a[j] + bias[j], a[nh + j] + bias[nh + j], a[2 * nh + j] + bias[2 * nh + j],
                         a[3 * nh + j] + bias[3 * nh + j]};
    const LstmGates<T> act = lstm_cell_forward<T, RefAct>(z, c[j], h[j]);
    a[j] = act.i;
    a[nh + j] = act.f;
    a[2 * nh + j] = act.g;
    a[3 * nh + j] = act.o;
  }
}

// Its backward: a [G] activations, c_new/c_prev [H], d_out [H] (the output's gradient, zeros
// if none); dh, dc [H] hold the gradient of the carried state on entry, and on exit dc that
// of c_prev and dh zero (h_prev's gradient comes from the recurrent gemm). dg [G]
// OVERWRITTEN with the pre-activation gradients.
template <class T>
void gates_backward_row(const T* __restrict a, const T* __restrict c_new,
                        const T* __restrict c_prev, const T* __restrict d_out, T* __restrict dh,
                        T* __restrict dc, T* __restrict dg, int64_t nh) {
  for (int64_t j = 0; j < nh; ++j) {
    const LstmGates<T> act{a[j], a[nh + j], a[2 * nh + j], a[3 * nh + j]};
    const LstmGates<T> d =
        lstm_cell_backward<T, RefAct>(act, c_new[j], c_prev[j], d_out[j], dh[j], dc[j]);
    dg[j] = d.i;
    dg[nh + j] = d.f;
    dg[2 * nh + j] = d.g;
    dg[3 * nh + j] = d.o;
  }
}

}  // namespace
}  // namespace ember::ref

// Defines lstm_rows_<isa>_f32() (and _f64()) from the loops above.
#define EMBER_LSTM_ROWS_F32(isa)                                    \
  namespace ember::ref {                                            \
  LstmRowKernels<float> lstm_rows_##isa##_f32() {                   \
    return {&gates_forward_row<float>, &gates_backward_row<float>}; \
  }                                                                 \
  }
#define EMBER_LSTM_ROWS_F64(isa)                                      \
  namespace ember::ref {                                              \
  LstmRowKernels<double> lstm_rows_##isa##_f64() {                    \
    return {&gates_forward_row<double>, &gates_backward_row<double>}; \
  }                                                                   \
  }
