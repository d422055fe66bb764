// CPU reference for kernels/lstm/lstm.h. Forward: one gemm projects every (b,t) row of the
// (dropped-out) input into the gates buffer; then per step one gemm adds h_{s-1}·R into that
// step's slice, and one pointwise pass turns the slice into activations in place and advances
// h and c. Backward walks the steps in reverse: one pointwise pass (gate derivatives from the
// saved activations: sigmoid' = s(1-s), tanh' = 1-g^2; tanh(c) is recomputed, not stored)
// and one gemm d_h_{s-1} = d_gates·R^T per step; the weight gradients are then single gemms
// over all B*T rows. Threads (engine/core/parallel.h) take slices of the batch for the step
// loops (no per-step barrier: rows never exchange state) and columns of the weight-gradient
// gemms; the pointwise loops are per ISA (lstm_gates_cpu.h). Per-element arithmetic is the
// same for any slicing; only the gemms' blocking and d_bias's partial sums change with the
// thread count. Local names: nb = B, nt = T, nc = C, nh = H, ng = 4H; T is the scalar.
#include "kernels/lstm/lstm.h"

#include <cmath>
#include <cstring>
#include <vector>

#include <algorithm>

#include "engine/core/blas.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/cuda/index.h"
#include "kernels/lstm/lstm_cell.cuh"
#include "kernels/lstm/lstm_gates_cpu.h"
#include "kernels/select_bits.h"

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

// xd[b,t,:] = x[b,t,:] * factor[b,:], a select so that a dropped inf/NaN gives 0 (branch-free,
// so that the rows vectorize).
template <class T>
void apply_input_factors(const T* x, const T* factor, T* xd, int64_t nb, int64_t nt, int64_t nc) {
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t t = 0; t < nt; ++t) {
      const int64_t base = (b * nt + t) * nc;
      const T* f = factor + b * nc;
      for (int64_t c = 0; c < nc; ++c)
        xd[base + c] = select_bits(f[c] != T(0), x[base + c] * f[c], T(0));
    }
}

// Output row of step s for sample b, or null when step s writes no output.
template <class T>
T* output_row(const LstmConfig& cfg, T* out, int64_t b, int64_t s) {
  if (cfg.return_sequences) return out + (b * cfg.steps + out_pos(cfg, s)) * cfg.hidden;
  return s == cfg.steps - 1 ? out + b * cfg.hidden : nullptr;
}

// Batch slices: every row of B carries its own h and c through the whole sequence, so rows
// [b0, b1) can run all T steps with no exchange with other rows. With K pool threads the
// batch is cut into K slices and each runs the forward (or the backward's step loop) alone:
// no barrier per step. One slice (one thread, or B = 1) is the unsplit computation.
int64_t batch_slices(int64_t nb) {
  return par::in_parallel() ? 1 : std::min<int64_t>(par::num_threads(), nb);
}

// The forward of rows [b0, b1), all T steps. Pointers are those of the whole batch.
template <class T>
struct ForwardSlice {
  const LstmConfig& cfg;
  const T *x, *kernel, *recurrent_kernel, *bias, *x_scale, *h_scale;
  const uint8_t* mask;
  T *out, *gates, *x_dropped, *c_save, *hp_save, *state;
  LstmRowKernels<T> rows;

  void run(int64_t b0, int64_t b1) const {
    const int64_t nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh, nb = cfg.batch;
    const int64_t n = b1 - b0;
    // Input projection of the slice's (b,t) rows: gates = x_in · kernel. The bias is added
    // in the pointwise pass, which saves a sweep over the [B,T,G] buffer.
    const T* x_in = x + b0 * nt * nc;
    if (x_scale) {
      apply_input_factors(x_in, x_scale + b0 * nc, x_dropped + b0 * nt * nc, n, nt, nc);
      x_in = x_dropped + b0 * nt * nc;
    }
    T* g0 = gates + b0 * nt * ng;
    blas::gemm<T>(false, false, n * nt, ng, nc, T(1), x_in, nc, kernel, ng, T(0), g0, ng);

    // Running state, contiguous [B,H] each: h, c, and the dropped-out h when nothing is saved.
    T* h = state + b0 * nh;
    T* c = state + (nb + b0) * nh;
    T* h_drop = state + (2 * nb + b0) * nh;
    const T* hs = h_scale ? h_scale + b0 * nh : nullptr;
    for (int64_t s = 0; s < nt; ++s) {
      const int64_t t = time_of(cfg, s);
      // The operand of the recurrent product: h_{s-1}, times the recurrent dropout factor.
      // When saving, it is written straight into h_prev[:, t, :] (row stride T*H).
      const T* h_src = h;
      int64_t ld_h = nh;
      if (hs || hp_save) {
        T* dst = hp_save ? hp_save + b0 * nt * nh + t * nh : h_drop;
        const int64_t ld = hp_save ? nt * nh : nh;
        for (int64_t b = 0; b < n; ++b)
          for (int64_t j = 0; j < nh; ++j)
            dst[b * ld + j] = hs ? h[b * nh + j] * hs[b * nh + j] : h[b * nh + j];
        if (hs) {
          h_src = dst;
          ld_h = ld;
        }
      }
      T* gates_t0 = g0 + t * ng;  // row b of this step's slice is at b * T*G
      if (s > 0)                  // h_{-1} = 0 adds nothing
        blas::gemm<T>(false, false, n, ng, nh, T(1), h_src, ld_h, recurrent_kernel, ng, T(1),
                      gates_t0, nt * ng);

      for (int64_t b = 0; b < n; ++b) {
        T* a = gates_t0 + b * nt * ng;
        T* hb = h + b * nh;
        T* cb = c + b * nh;
        T* ob = output_row(cfg, out, b0 + b, s);
        if (mask && !mask[(b0 + b) * nt + t]) {
          // Masked step: h and c carry over; the output repeats the previous one (== h).
          if (ob)
            for (int64_t j = 0; j < nh; ++j)
              ob[j] = lstm_masked_output(hb[j], cfg.zero_output_for_mask);
        } else {
          rows.forward(a, bias, cb, hb, nh);
          if (ob)
            for (int64_t j = 0; j < nh; ++j) ob[j] = hb[j];
        }
        if (c_save) {
          T* cs = c_save + ((b0 + b) * nt + t) * nh;
          for (int64_t j = 0; j < nh; ++j) cs[j] = cb[j];
        }
      }
    }
  }
};

}  // namespace

template <class T>
void lstm_forward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const uint8_t* mask, T* out, LstmSaved* saved) {
  check_config(cfg);
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  const DType dt = dtype_of<T>();

  // Dropout factors, one draw per sequence (variational), shared by every step.
  Tensor x_scale, h_scale, x_dropped;
  if (cfg.dropout > 0.0) {
    x_scale = draw_factors<T>(Shape{nb, nc}, cfg.dropout, cfg.seed, cfg.offset,
                              cfg.first_row * static_cast<uint64_t>(nc));
    x_dropped = Tensor::empty(Shape{nb, nt, nc}, dt);
  }
  if (cfg.recurrent_dropout > 0.0)
    h_scale = draw_factors<T>(Shape{nb, nh}, cfg.recurrent_dropout, cfg.seed, cfg.offset + 1,
                              cfg.first_row * static_cast<uint64_t>(nh));

  Tensor gates_t = Tensor::empty(Shape{nb, nt, ng}, dt);
  std::vector<T> zeros(static_cast<size_t>(ng), T(0));
  Tensor c_save, hp_save;
  if (saved) {
    c_save = Tensor::empty(Shape{nb, nt, nh}, dt);
    hp_save = Tensor::empty(Shape{nb, nt, nh}, dt);
  }
  Tensor state = Tensor::zeros(Shape{3, nb, nh}, dt);
  auto ptr = [](Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
  const ForwardSlice<T> slice{cfg,
                              x,
                              kernel,
                              recurrent_kernel,
                              bias ? bias : zeros.data(),
                              ptr(x_scale),
                              ptr(h_scale),
                              mask,
                              out,
                              gates_t.data<T>(),
                              ptr(x_dropped),
                              ptr(c_save),
                              ptr(hp_save),
                              state.data<T>(),
                              lstm_row_kernels<T>()};
  const int64_t parts = batch_slices(nb);
  par::parallel_for(parts, [&](int64_t p) {
    const par::Range r = par::split(nb, parts, p);
    slice.run(r.begin, r.end);
  });

  if (saved) {
    saved->gates = gates_t;
    saved->c = c_save;
    saved->h_prev = hp_save;
    saved->x_scale = x_scale;
    saved->h_scale = h_scale;
  }
}

namespace {

// The backward's step loop over rows [b0, b1), then what else only needs those rows: d_x, the
// slice's column sums of d_gates (d_bias, combined across slices in slice order) and, when
// x_dropped is set, the dropped-out input the kernel's gradient multiplies (in dx_work, after
// d_x is done with it).
template <class T>
struct BackwardSlice {
  const LstmConfig& cfg;
  const T *x, *kernel, *recurrent_kernel, *gates, *c_save, *h_scale, *x_scale, *d_out, *zeros;
  const uint8_t* mask;
  T *d_gates, *state, *d_x, *dx_work;
  bool x_dropped;
  double* bias_acc;  // [slices, G], or null
  LstmRowKernels<T> rows;

  void run(int64_t b0, int64_t b1, int64_t slice) const {
    const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
    const int64_t n = b1 - b0;
    // Running state gradients d_h, d_c [B,H] (what flows into the state carried out of the
    // step being processed), and the recurrent product before its dropout factor.
    T* dh = state + b0 * nh;
    T* dc = state + (nb + b0) * nh;
    T* dh_rec = state + (2 * nb + b0) * nh;
    const T* hs = h_scale ? h_scale + b0 * nh : nullptr;
    T* dg0 = d_gates + b0 * nt * ng;
    for (int64_t s = nt - 1; s >= 0; --s) {
      const int64_t t = time_of(cfg, s);
      const int64_t t_prev = s > 0 ? time_of(cfg, s - 1) : -1;
      for (int64_t b = 0; b < n; ++b) {
        const int64_t gb = b0 + b;
        const T* go = output_row(cfg, d_out, gb, s);
        T* dg = d_gates + (gb * nt + t) * ng;
        T* dhb = dh + b * nh;
        T* dcb = dc + b * nh;
        if (mask && !mask[gb * nt + t]) {
          // The output was the carried h (or a constant 0); the state passes through.
          if (go)
            for (int64_t j = 0; j < nh; ++j)
              lstm_masked_backward(go[j], cfg.zero_output_for_mask, dhb[j]);
          for (int64_t j = 0; j < ng; ++j) dg[j] = T(0);
          continue;
        }
        const T* a = gates + (gb * nt + t) * ng;
        const T* cn = c_save + (gb * nt + t) * nh;
        const T* cp = t_prev >= 0 ? c_save + (gb * nt + t_prev) * nh : zeros;
        rows.backward(a, cn, cp, go ? go : zeros, dhb, dcb, dg, nh);
      }
      if (s == 0) break;  // h_{-1} is a constant
      const T* dg_t0 = dg0 + t * ng;
      if (hs) {
        blas::gemm<T>(false, true, n, nh, ng, T(1), dg_t0, nt * ng, recurrent_kernel, ng, T(0),
                      dh_rec, nh);
        for (int64_t i = 0; i < n * nh; ++i) dh[i] += dh_rec[i] * hs[i];
      } else {
        blas::gemm<T>(false, true, n, nh, ng, T(1), dg_t0, nt * ng, recurrent_kernel, ng, T(1), dh,
                      nh);
      }
    }

    const int64_t rows_n = n * nt;
    if (d_x) {  // the slice's rows of d_x = d_gates · kernel^T (times the input dropout factor)
      T* dx = d_x + b0 * nt * nc;
      if (x_scale) {
        T* w = dx_work + b0 * nt * nc;
        blas::gemm<T>(false, true, rows_n, nc, ng, T(1), dg0, ng, kernel, ng, T(0), w, nc);
        for (int64_t b = 0; b < n; ++b)
          for (int64_t t = 0; t < nt; ++t) {
            const int64_t base = (b * nt + t) * nc;
            const T* f = x_scale + (b0 + b) * nc;
            for (int64_t c = 0; c < nc; ++c)
              dx[base + c] =
                  select_bits(f[c] != T(0), dx[base + c] + w[base + c] * f[c], dx[base + c]);
          }
      } else {
        blas::gemm<T>(false, true, rows_n, nc, ng, T(1), dg0, ng, kernel, ng, T(1), dx, nc);
      }
    }
    if (bias_acc) {  // column sums over the slice's rows, in double
      double* acc = bias_acc + slice * ng;
      for (int64_t r = 0; r < rows_n; ++r) {
        const T* dg = dg0 + r * ng;
        for (int64_t j = 0; j < ng; ++j) acc[j] += static_cast<double>(dg[j]);
      }
    }
    if (x_dropped)
      apply_input_factors(x + b0 * nt * nc, x_scale + b0 * nc, dx_work + b0 * nt * nc, n, nt, nc);
  }
};

}  // namespace

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
  const T* xs = saved.x_scale.defined() ? saved.x_scale.data<T>() : nullptr;

  // d_gates: pre-activation gradients [B,T,G] by original time, the operand of every gemm.
  Tensor d_gates_t = Tensor::empty(Shape{nb, nt, ng}, dt);
  T* d_gates = d_gates_t.data<T>();
  Tensor state = Tensor::zeros(Shape{3, nb, nh}, dt);
  const std::vector<T> zeros(static_cast<size_t>(nh), T(0));
  Tensor work;  // [B,T,C]: d_x before its dropout factor, then the dropped-out x
  if (xs && (d_kernel || d_x)) work = Tensor::empty(Shape{nb, nt, nc}, dt);
  const int64_t parts = batch_slices(nb);
  std::vector<double> bias_acc(d_bias ? static_cast<size_t>(parts * ng) : 0, 0.0);
  const BackwardSlice<T> slice{cfg,
                               x,
                               kernel,
                               recurrent_kernel,
                               saved.gates.data<T>(),
                               saved.c.data<T>(),
                               saved.h_scale.defined() ? saved.h_scale.data<T>() : nullptr,
                               xs,
                               d_out,
                               zeros.data(),
                               mask,
                               d_gates,
                               state.data<T>(),
                               d_x,
                               work.defined() ? work.data<T>() : nullptr,
                               xs != nullptr && d_kernel != nullptr,
                               d_bias ? bias_acc.data() : nullptr,
                               lstm_row_kernels<T>()};
  par::parallel_for(parts, [&](int64_t p) {
    const par::Range r = par::split(nb, parts, p);
    slice.run(r.begin, r.end, p);
  });

  // The weight gradients sum over every (b,t) row: single gemms, which blas::gemm splits
  // over the columns of the result.
  const int64_t rows = nb * nt;
  if (d_recurrent_kernel)  // sum over steps of h_prev^T · d_gates
    blas::gemm<T>(true, false, nh, ng, rows, T(1), saved.h_prev.data<T>(), nh, d_gates, ng, T(1),
                  d_recurrent_kernel, ng);
  if (d_kernel) {
    const T* x_in = xs ? work.data<T>() : x;  // the slices left the dropped-out x there
    blas::gemm<T>(true, false, nc, ng, rows, T(1), x_in, nc, d_gates, ng, T(1), d_kernel, ng);
  }
  if (d_bias) {
    for (int64_t p = 1; p < parts; ++p)
      for (int64_t j = 0; j < ng; ++j) bias_acc[j] += bias_acc[p * ng + j];
    for (int64_t j = 0; j < ng; ++j) d_bias[j] += static_cast<T>(bias_acc[j]);
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
