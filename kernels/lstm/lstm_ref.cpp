// CPU reference for kernels/lstm/lstm.h. Forward: one gemm projects every (b,t) row of the
// (dropped-out) input into the gates buffer; then per step one gemm adds h_{s-1}·R into that
// step's slice, and one pointwise pass turns the slice into activations in place and advances
// h and c. Backward walks the steps in reverse: one pointwise pass (gate derivatives from the
// saved activations: sigmoid' = s(1-s), tanh' = 1-g^2; tanh(c) is recomputed, not stored)
// and one gemm d_h_{s-1} = d_gates·R^T per step; the weight gradients are then single gemms
// over all B*T rows. Local names: nb = B, nt = T, nc = C, nh = H, ng = 4H; T is the scalar.
#include "kernels/lstm/lstm.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "engine/core/blas.h"
#include "engine/core/rng.h"
#include "engine/cuda/index.h"
#include "kernels/lstm/lstm_cell.cuh"

namespace ember::ref {

namespace {

void check_config(const LstmConfig& cfg) {
  EMBER_CHECK_ARG(cfg.batch >= 1 && cfg.steps >= 1 && cfg.input >= 1 && cfg.hidden >= 1,
                  "lstm: need B, T, C, H >= 1, got B=" << cfg.batch << " T=" << cfg.steps << " C="
                                                       << cfg.input << " H=" << cfg.hidden);
  EMBER_CHECK_ARG(cfg.dropout >= 0.0 && cfg.dropout < 1.0,
                  "lstm: dropout " << cfg.dropout << " is not in [0, 1)");
  EMBER_CHECK_ARG(cfg.recurrent_dropout >= 0.0 && cfg.recurrent_dropout < 1.0,
                  "lstm: recurrent_dropout " << cfg.recurrent_dropout << " is not in [0, 1)");
}

// Activations. Double uses std::exp/std::tanh: it is the precision reference. Float uses the
// branch-free versions below so that the gate loops vectorize (glibc's tanhf, through expm1f,
// alone cost more than all the gemms). Measured against double: exp within 1.7 ulp, tanh
// within 2.7 ulp (absolute error < 1e-7). NaN propagates; +-inf saturate.

// Branch-free select. A float `c ? x : y` makes GCC (with its default -ftrapping-math) keep a
// branch, which stops vectorization; blending the bit patterns does not.
inline float pick(bool c, float x, float y) {
  int32_t xi, yi;
  std::memcpy(&xi, &x, sizeof xi);
  std::memcpy(&yi, &y, sizeof yi);
  const int32_t m = -static_cast<int32_t>(c);
  const int32_t r = (xi & m) | (yi & ~m);
  float out;
  std::memcpy(&out, &r, sizeof out);
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
  uint32_t bits;                        // unsigned: a NaN's bits must not overflow a signed shift
  std::memcpy(&bits, &t, sizeof bits);  // t's low mantissa bits hold n + 2^22
  const uint32_t scale_bits = (bits - 0x4B400000u + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  return p * scale;
}

// tanh: (1-e)/(1+e) with e = exp(-2|a|), which loses bits to cancellation near 0, so for
// |a| < 0.25 its Taylor series to a^11 (truncation < 1e-8 relative) is used instead.
inline float tanh_f32(float a) {
  const float ax = std::fabs(a);
  const float e = exp_f32(-2.0f * ax);
  const float big = (1.0f - e) / (1.0f + e);
  const float a2 = a * a;
  float p = -1382.0f / 155925.0f;
  p = p * a2 + 62.0f / 2835.0f;
  p = p * a2 - 17.0f / 315.0f;
  p = p * a2 + 2.0f / 15.0f;
  p = p * a2 - 1.0f / 3.0f;
  const float small = a + a * a2 * p;
  return pick(ax < 0.25f, small, std::copysign(big, a));
}

// The reference's activations for the shared cell (kernels/lstm/lstm_cell.cuh).
struct RefAct {
  static float sigmoid(float a) { return 1.0f / (1.0f + exp_f32(-a)); }
  static double sigmoid(double a) { return 1.0 / (1.0 + std::exp(-a)); }
  static float tanh(float a) { return tanh_f32(a); }
  static double tanh(double a) { return std::tanh(a); }
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

// factor[i] = keep ? 1/(1-rate) : 0 for draws base + i of stream (seed, offset), the same
// draw as kernels/dropout_ref.cpp (rate compared at float precision, scale rounded once).
template <class T>
Tensor draw_factors(const Shape& shape, double rate, uint64_t seed, uint64_t offset,
                    uint64_t base) {
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  T* f = t.data<T>();
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  const float r = static_cast<float>(rate);
  for (int64_t i = 0; i < t.numel(); ++i)
    f[i] = dropout_keep(seed, offset, base + static_cast<uint64_t>(i), r) ? scale : T(0);
  return t;
}

// xd[b,t,:] = x[b,t,:] * factor[b,:], a select so that a dropped inf/NaN gives 0.
template <class T>
void apply_input_factors(const T* x, const T* factor, T* xd, int64_t nb, int64_t nt, int64_t nc) {
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t t = 0; t < nt; ++t) {
      const int64_t base = (b * nt + t) * nc;
      for (int64_t c = 0; c < nc; ++c) {
        const T f = factor[b * nc + c];
        xd[base + c] = f != T(0) ? x[base + c] * f : T(0);
      }
    }
}

// Output row of step s for sample b, or null when step s writes no output.
template <class T>
T* output_row(const LstmConfig& cfg, T* out, int64_t b, int64_t s) {
  if (cfg.return_sequences) return out + (b * cfg.steps + out_pos(cfg, s)) * cfg.hidden;
  return s == cfg.steps - 1 ? out + b * cfg.hidden : nullptr;
}

}  // namespace

template <class T>
void lstm_forward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const uint8_t* mask, T* out, LstmSaved* saved) {
  check_config(cfg);
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  const DType dt = dtype_of<T>();

  // Dropout factors, one draw per sequence (variational), shared by every step.
  Tensor x_scale, h_scale, x_dropped;
  const T* x_in = x;
  if (cfg.dropout > 0.0) {
    x_scale = draw_factors<T>(Shape{nb, nc}, cfg.dropout, cfg.seed, cfg.offset,
                              cfg.first_row * static_cast<uint64_t>(nc));
    x_dropped = Tensor::empty(Shape{nb, nt, nc}, dt);
    apply_input_factors(x, x_scale.data<T>(), x_dropped.data<T>(), nb, nt, nc);
    x_in = x_dropped.data<T>();
  }
  if (cfg.recurrent_dropout > 0.0)
    h_scale = draw_factors<T>(Shape{nb, nh}, cfg.recurrent_dropout, cfg.seed, cfg.offset + 1,
                              cfg.first_row * static_cast<uint64_t>(nh));
  const T* hs = h_scale.defined() ? h_scale.data<T>() : nullptr;

  // Input projection of every (b,t) row at once: gates = x_in · kernel. The bias is added
  // in the pointwise pass, which saves a sweep over the [B,T,G] buffer.
  Tensor gates_t = Tensor::empty(Shape{nb, nt, ng}, dt);
  T* gates = gates_t.data<T>();
  blas::gemm<T>(false, false, nb * nt, ng, nc, T(1), x_in, nc, kernel, ng, T(0), gates, ng);
  std::vector<T> zeros(static_cast<size_t>(ng), T(0));
  const T* bz = bias ? bias : zeros.data();

  Tensor c_save, hp_save;
  if (saved) {
    c_save = Tensor::empty(Shape{nb, nt, nh}, dt);
    hp_save = Tensor::empty(Shape{nb, nt, nh}, dt);
  }
  // Running state, contiguous [B,H]: h, c, and the dropped-out h when nothing is saved.
  Tensor state = Tensor::zeros(Shape{3, nb, nh}, dt);
  T* h = state.data<T>();
  T* c = h + nb * nh;
  T* h_drop = c + nb * nh;

  for (int64_t s = 0; s < nt; ++s) {
    const int64_t t = time_of(cfg, s);
    // The operand of the recurrent product: h_{s-1}, times the recurrent dropout factor.
    // When saving, it is written straight into h_prev[:, t, :] (row stride T*H).
    const T* h_src = h;
    int64_t ld_h = nh;
    if (hs || saved) {
      T* dst = saved ? hp_save.data<T>() + t * nh : h_drop;
      const int64_t ld = saved ? nt * nh : nh;
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t j = 0; j < nh; ++j)
          dst[b * ld + j] = hs ? h[b * nh + j] * hs[b * nh + j] : h[b * nh + j];
      if (hs) {
        h_src = dst;
        ld_h = ld;
      }
    }
    T* gates_t0 = gates + t * ng;  // row b of this step's slice is at b * T*G
    if (s > 0)                     // h_{-1} = 0 adds nothing
      blas::gemm<T>(false, false, nb, ng, nh, T(1), h_src, ld_h, recurrent_kernel, ng, T(1),
                    gates_t0, nt * ng);

    for (int64_t b = 0; b < nb; ++b) {
      T* a = gates_t0 + b * nt * ng;
      T* hb = h + b * nh;
      T* cb = c + b * nh;
      T* ob = output_row(cfg, out, b, s);
      if (mask && !mask[b * nt + t]) {
        // Masked step: h and c carry over; the output repeats the previous one (== h).
        if (ob)
          for (int64_t j = 0; j < nh; ++j)
            ob[j] = lstm_masked_output(hb[j], cfg.zero_output_for_mask);
      } else {
        gates_forward_row(a, bz, cb, hb, nh);
        if (ob)
          for (int64_t j = 0; j < nh; ++j) ob[j] = hb[j];
      }
      if (saved) {
        T* cs = c_save.data<T>() + (b * nt + t) * nh;
        for (int64_t j = 0; j < nh; ++j) cs[j] = cb[j];
      }
    }
  }

  if (saved) {
    saved->gates = gates_t;
    saved->c = c_save;
    saved->h_prev = hp_save;
    saved->x_scale = x_scale;
    saved->h_scale = h_scale;
  }
}

template <class T>
void lstm_backward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                   const uint8_t* mask, const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                   T* d_recurrent_kernel, T* d_bias) {
  check_config(cfg);
  if (!d_x && !d_kernel && !d_recurrent_kernel && !d_bias) return;
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  const DType dt = dtype_of<T>();
  check_tensor(saved.gates, dt, Shape{nb, nt, ng}, "lstm_backward: saved gates");
  check_tensor(saved.c, dt, Shape{nb, nt, nh}, "lstm_backward: saved c");
  check_tensor(saved.h_prev, dt, Shape{nb, nt, nh}, "lstm_backward: saved h_prev");
  const T* gates = saved.gates.data<T>();
  const T* c_save = saved.c.data<T>();
  const T* hs = saved.h_scale.defined() ? saved.h_scale.data<T>() : nullptr;
  const T* xs = saved.x_scale.defined() ? saved.x_scale.data<T>() : nullptr;

  // d_gates: pre-activation gradients [B,T,G] by original time, the operand of every gemm.
  Tensor d_gates_t = Tensor::empty(Shape{nb, nt, ng}, dt);
  T* d_gates = d_gates_t.data<T>();
  // Running state gradients d_h, d_c [B,H] (what flows into the state carried out of the
  // step being processed), and the recurrent product before its dropout factor.
  Tensor state = Tensor::zeros(Shape{3, nb, nh}, dt);
  T* dh = state.data<T>();
  T* dc = dh + nb * nh;
  T* dh_rec = dc + nb * nh;
  const std::vector<T> zeros(static_cast<size_t>(nh), T(0));

  for (int64_t s = nt - 1; s >= 0; --s) {
    const int64_t t = time_of(cfg, s);
    const int64_t t_prev = s > 0 ? time_of(cfg, s - 1) : -1;
    for (int64_t b = 0; b < nb; ++b) {
      const T* go = output_row(cfg, d_out, b, s);
      T* dg = d_gates + (b * nt + t) * ng;
      T* dhb = dh + b * nh;
      T* dcb = dc + b * nh;
      if (mask && !mask[b * nt + t]) {
        // The output was the carried h (or a constant 0); the state passes through.
        if (go)
          for (int64_t j = 0; j < nh; ++j)
            lstm_masked_backward(go[j], cfg.zero_output_for_mask, dhb[j]);
        for (int64_t j = 0; j < ng; ++j) dg[j] = T(0);
        continue;
      }
      const T* a = gates + (b * nt + t) * ng;
      const T* cn = c_save + (b * nt + t) * nh;
      const T* cp = t_prev >= 0 ? c_save + (b * nt + t_prev) * nh : zeros.data();
      gates_backward_row(a, cn, cp, go ? go : zeros.data(), dhb, dcb, dg, nh);
    }
    if (s == 0) break;  // h_{-1} is a constant
    const T* dg_t0 = d_gates + t * ng;
    if (hs) {
      blas::gemm<T>(false, true, nb, nh, ng, T(1), dg_t0, nt * ng, recurrent_kernel, ng, T(0),
                    dh_rec, nh);
      for (int64_t i = 0; i < nb * nh; ++i) dh[i] += dh_rec[i] * hs[i];
    } else {
      blas::gemm<T>(false, true, nb, nh, ng, T(1), dg_t0, nt * ng, recurrent_kernel, ng, T(1), dh,
                    nh);
    }
  }

  const int64_t rows = nb * nt;
  if (d_recurrent_kernel)  // sum over steps of h_prev^T · d_gates
    blas::gemm<T>(true, false, nh, ng, rows, T(1), saved.h_prev.data<T>(), nh, d_gates, ng, T(1),
                  d_recurrent_kernel, ng);
  Tensor work;  // [B,T,C]: the dropped-out x, then d_x before its dropout factor
  if (xs && (d_kernel || d_x)) work = Tensor::empty(Shape{nb, nt, nc}, dt);
  if (d_kernel) {
    const T* x_in = x;
    if (xs) {
      apply_input_factors(x, xs, work.data<T>(), nb, nt, nc);
      x_in = work.data<T>();
    }
    blas::gemm<T>(true, false, nc, ng, rows, T(1), x_in, nc, d_gates, ng, T(1), d_kernel, ng);
  }
  if (d_x) {
    if (xs) {
      T* w = work.data<T>();
      blas::gemm<T>(false, true, rows, nc, ng, T(1), d_gates, ng, kernel, ng, T(0), w, nc);
      for (int64_t b = 0; b < nb; ++b)
        for (int64_t t = 0; t < nt; ++t) {
          const int64_t base = (b * nt + t) * nc;
          for (int64_t c = 0; c < nc; ++c) {
            const T f = xs[b * nc + c];
            if (f != T(0)) d_x[base + c] += w[base + c] * f;
          }
        }
    } else {
      blas::gemm<T>(false, true, rows, nc, ng, T(1), d_gates, ng, kernel, ng, T(1), d_x, nc);
    }
  }
  if (d_bias) {  // column sums over B*T rows, accumulated in double
    std::vector<double> acc(static_cast<size_t>(ng), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* dg = d_gates + r * ng;
      for (int64_t j = 0; j < ng; ++j) acc[j] += static_cast<double>(dg[j]);
    }
    for (int64_t j = 0; j < ng; ++j) d_bias[j] += static_cast<T>(acc[j]);
  }
}

#define EMBER_INSTANTIATE_LSTM(T)                                                                 \
  template void lstm_forward<T>(const LstmConfig&, const T*, const T*, const T*, const T*,        \
                                const uint8_t*, T*, LstmSaved*);                                  \
  template void lstm_backward<T>(const LstmConfig&, const T*, const T*, const T*, const uint8_t*, \
                                 const LstmSaved&, const T*, T*, T*, T*, T*);
EMBER_INSTANTIATE_LSTM(float)
EMBER_INSTANTIATE_LSTM(double)
#undef EMBER_INSTANTIATE_LSTM

}  // namespace ember::ref
