// The fused LSTM on the GPU (cuda::lstm_forward / cuda::lstm_backward of kernels/lstm/lstm.h) and
// the variational dropout kernels of kernels/lstm/lstm_cuda.h it shares with the persistent path
// (the gemm and cuBLAS handles are in gemm.cu, the column sums in colsum.cu). The step loop
// mirrors lstm_ref.cpp: one gemm projects every (b,t) row of the dropped-out input into
// the [B,T,G] gates buffer (lstm_forward_start, lstm_common.cu); per step a gemm adds
// h_{s-1}·R into the step's slice (row stride T*G) and one fused kernel does the gates; the
// next step's gemm operand (h * recurrent mask) is written by that kernel straight into the
// saved h_prev buffer. The backward walks the steps in reverse (fused pointwise kernel + one
// gemm for d_h_{s-1}), then computes the weight gradients as gemms over all B*T rows
// (lstm_gradients_from_gates). No atomics anywhere: results repeat bit for bit.
#include <cuda_runtime.h>

#include <algorithm>
#include <tuple>
#include <utility>

#include "engine/core/rng.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "engine/cuda/index.h"
#include "engine/cuda/launch.cuh"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_cuda.h"

namespace ember::cuda {

// ---- variational dropout -----------------------------------------------------------------

namespace {

template <class T>
__global__ void dropout_factors_kernel(T* f, int64_t n, float rate, T scale, uint64_t seed,
                                       uint64_t offset, uint64_t base) {
  const int64_t i = global_thread_index();
  if (i >= n) return;
  f[i] = dropout_keep(seed, offset, base + static_cast<uint64_t>(i), rate) ? scale : T(0);
}

// The input dropout of a [B,T,C] tensor with [B,C] factors, one per (b, c) at every t:
// y = x * f (a dropped element is 0, even an inf or NaN), or with kAdd, y += x * f.
template <class T, bool kAdd>
__global__ void row_factors_kernel(const T* x, const T* f, T* y, int64_t nb, int64_t nt,
                                   int64_t nc) {
  const int64_t i = global_thread_index();
  if (i >= nb * nt * nc) return;
  const int64_t c = i % nc, b = i / (nt * nc);
  const T fv = f[b * nc + c];
  if (!kAdd)
    y[i] = fv != T(0) ? x[i] * fv : T(0);
  else if (fv != T(0))
    y[i] += x[i] * fv;
}

template <class T, bool kAdd>
void launch_row_factors(const T* x, const T* f, T* y, int64_t nb, int64_t nt, int64_t nc,
                        cudaStream_t stream) {
  const int64_t n = nb * nt * nc;
  if (n <= 0) return;
  EMBER_LAUNCH((row_factors_kernel<T, kAdd>), blocks_for(n), kBlockThreads, 0, stream, x, f, y, nb,
               nt, nc);
  EMBER_CUDA_CHECK_LAUNCH(kAdd ? "row_factors_kernel (add)" : "row_factors_kernel (apply)");
}

}  // namespace

template <class T>
void dropout_factors(T* factor, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     uint64_t base, cudaStream_t stream) {
  EMBER_CHECK_ARG(rate >= 0.0 && rate < 1.0, "dropout_factors: rate " << rate << " not in [0,1)");
  if (n <= 0) return;
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  EMBER_LAUNCH(dropout_factors_kernel<T>, blocks_for(n), kBlockThreads, 0, stream, factor, n,
               static_cast<float>(rate), scale, seed, offset, base);
  EMBER_CUDA_CHECK_LAUNCH("dropout_factors_kernel");
}

template <class T>
void apply_row_factors(const T* x, const T* f, T* y, int64_t nb, int64_t nt, int64_t nc,
                       cudaStream_t stream) {
  launch_row_factors<T, false>(x, f, y, nb, nt, nc, stream);
}

template <class T>
void add_row_factors(const T* w, const T* f, T* dx, int64_t nb, int64_t nt, int64_t nc,
                     cudaStream_t stream) {
  launch_row_factors<T, true>(w, f, dx, nb, nt, nc, stream);
}

#define EMBER_INSTANTIATE_HELPERS(T)                                                    \
  template void dropout_factors<T>(T*, int64_t, double, uint64_t, uint64_t, uint64_t,   \
                                   cudaStream_t);                                       \
  template void apply_row_factors<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, \
                                     cudaStream_t);                                     \
  template void add_row_factors<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, cudaStream_t);
EMBER_INSTANTIATE_HELPERS(float)
EMBER_INSTANTIATE_HELPERS(double)
#undef EMBER_INSTANTIATE_HELPERS

// ---- the fused layer ----------------------------------------------------------------------

namespace {

void check_config(const LstmConfig& cfg, const char* op) {
  check_lstm_config(cfg, op);
  // cuBLAS takes int sizes and leading dimensions.
  EMBER_CHECK_ARG(cfg.batch * cfg.steps * std::max(cfg.input, 4 * cfg.hidden) < (int64_t{1} << 31),
                  op << ": B*T*max(C,4H) must stay below 2^31");
}

// Step s's slice of the layer's output (or of its gradient) and that slice's leading
// dimension: the step's position in [B,T,H] with return_sequences, else [B,H] at the last step
// and nothing before it.
template <class P>
std::pair<P*, int64_t> step_output(const LstmConfig& cfg, int64_t s, P* base) {
  if (cfg.return_sequences) return {base + out_pos(cfg, s) * cfg.hidden, cfg.steps * cfg.hidden};
  if (s == cfg.steps - 1) return {base, cfg.hidden};
  return {nullptr, 0};
}

}  // namespace

template <class T>
void lstm_forward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const uint8_t* mask, T* out, LstmSaved* saved,
                  const LstmRun& run) {
  check_config(cfg, "lstm_forward (CUDA)");
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && out,
                  "lstm_forward (CUDA): x, kernel, recurrent_kernel and out are required");
  const int64_t nb = cfg.batch, nt = cfg.steps, nh = cfg.hidden, ng = 4 * nh;
  const DType dt = dtype_of<T>();
  cudaStream_t st = run.stream;
  LstmWork work(run, "lstm (CUDA)");
  cublasHandle_t blas = work.blas();

  // Dropout factors and the input projection of every (b,t) row (the bias is added in the
  // gate kernel); with saving, also the c and h_prev buffers.
  LstmSaved fwd = lstm_forward_start<T>(cfg, x, kernel, saved != nullptr, work);
  T* gates = fwd.gates.data<T>();
  const T* hs = fwd.h_scale.defined() ? fwd.h_scale.data<T>() : nullptr;
  if (saved) {
    // h_{-1} = 0 is the first step's recurrent operand.
    const size_t row = static_cast<size_t>(nh) * sizeof(T);
    EMBER_CUDA_CHECK(cudaMemset2DAsync(fwd.h_prev.data<T>() + time_of(cfg, int64_t{0}) * nh,
                                       static_cast<size_t>(nt) * row, 0, row,
                                       static_cast<size_t>(nb), st));
  }
  // Running state [B,H]: h, c, and (recurrent dropout without saving) the dropped-out h.
  Tensor state = work.temp(Shape{3, nb, nh}, dt, true);
  T* h = state.data<T>();
  T* c = h + nb * nh;
  T* h_drop = c + nb * nh;
  // The recurrent operand of the step reading time t: saved h_prev[:, t, :], the dropped h,
  // or h itself.
  const bool write_next = saved || hs;
  auto operand = [&](int64_t t) -> std::pair<T*, int64_t> {
    if (saved) return {fwd.h_prev.data<T>() + t * nh, nt * nh};
    return {hs ? h_drop : h, nh};
  };

  for (int64_t s = 0; s < nt; ++s) {
    const int64_t t = time_of(cfg, s);
    T* gates_t0 = gates + t * ng;  // row b of this step's slice is at b * T*G
    if (s > 0) {                   // h_{-1} = 0 adds nothing
      const auto [op, ld_op] = operand(t);
      gemm_rm<T>(blas, false, false, nb, ng, nh, T(1), op, ld_op, recurrent_kernel, ng, T(1),
                 gates_t0, nt * ng);
    }
    LstmGatesForwardArgs<T> a;
    a.batch = nb;
    a.hidden = nh;
    a.gates = gates_t0;
    a.ld_gates = nt * ng;
    a.bias = bias;
    if (mask) {
      a.mask = mask + t;
      a.ld_mask = nt;
    }
    a.h = h;
    a.c = c;
    std::tie(a.out, a.ld_out) = step_output(cfg, s, out);
    a.zero_output_for_mask = cfg.zero_output_for_mask;
    if (saved) {
      a.c_save = fwd.c.data<T>() + t * nh;
      a.ld_c_save = nt * nh;
    }
    if (write_next && s + 1 < nt) {
      const auto [next, ld_next] = operand(time_of(cfg, s + 1));
      a.h_next = next;
      a.ld_h_next = ld_next;
      a.h_scale = hs;
    }
    lstm_gates_forward<T>(a, st);
  }

  lstm_forward_finish(std::move(fwd), saved, work);
}

template <class T>
void lstm_backward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                   const uint8_t* mask, const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                   T* d_recurrent_kernel, T* d_bias, const LstmRun& run) {
  check_config(cfg, "lstm_backward (CUDA)");
  if (!d_x && !d_kernel && !d_recurrent_kernel && !d_bias) return;
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && d_out,
                  "lstm_backward (CUDA): x, kernel, recurrent_kernel and d_out are required");
  const int64_t nb = cfg.batch, nt = cfg.steps, nh = cfg.hidden, ng = 4 * nh;
  const DType dt = dtype_of<T>();
  check_lstm_saved(cfg, saved, dt, run.device);
  cudaStream_t st = run.stream;
  LstmWork work(run, "lstm (CUDA)");
  cublasHandle_t blas = work.blas();
  const T* gates = saved.gates.data<T>();
  const T* c_save = saved.c.data<T>();
  const T* hs = saved.h_scale.defined() ? saved.h_scale.data<T>() : nullptr;

  // d_gates: pre-activation gradients [B,T,G] by original time, the operand of every gemm.
  Tensor d_gates_t = work.temp(Shape{nb, nt, ng}, dt);
  T* d_gates = d_gates_t.data<T>();
  // d_h, d_c of the carried state, and the recurrent product before its dropout factor.
  Tensor state = work.temp(Shape{3, nb, nh}, dt, true);
  T* dh = state.data<T>();
  T* dc = dh + nb * nh;
  T* dh_rec = dc + nb * nh;

  for (int64_t s = nt - 1; s >= 0; --s) {
    const int64_t t = time_of(cfg, s);
    LstmGatesBackwardArgs<T> a;
    a.batch = nb;
    a.hidden = nh;
    a.gates = gates + t * ng;
    a.ld_gates = nt * ng;
    a.c_new = c_save + t * nh;
    a.c_prev = s > 0 ? c_save + time_of(cfg, s - 1) * nh : nullptr;
    a.ld_c = nt * nh;
    if (mask) {
      a.mask = mask + t;
      a.ld_mask = nt;
    }
    std::tie(a.d_out, a.ld_d_out) = step_output(cfg, s, d_out);
    a.zero_output_for_mask = cfg.zero_output_for_mask;
    a.dh = dh;
    a.dc = dc;
    if (hs && s < nt - 1) {  // the product of step s+1 is waiting in dh_rec
      a.dh_rec = dh_rec;
      a.h_scale = hs;
    }
    a.d_gates = d_gates + t * ng;
    a.ld_d_gates = nt * ng;
    lstm_gates_backward<T>(a, st);
    if (s == 0) break;  // h_{-1} is a constant
    const T* dg_t0 = d_gates + t * ng;
    if (hs)
      gemm_rm<T>(blas, false, true, nb, nh, ng, T(1), dg_t0, nt * ng, recurrent_kernel, ng, T(0),
                 dh_rec, nh);
    else
      gemm_rm<T>(blas, false, true, nb, nh, ng, T(1), dg_t0, nt * ng, recurrent_kernel, ng, T(1),
                 dh, nh);
  }

  // The weight gradients, d_x and d_bias: gemms and a column sum over all B*T rows.
  lstm_gradients_from_gates<T>(cfg, x, kernel, saved, d_gates, d_x, d_kernel, d_recurrent_kernel,
                               d_bias, work);
}

#define EMBER_INSTANTIATE_LSTM_CUDA(T)                                                            \
  template void lstm_forward<T>(const LstmConfig&, const T*, const T*, const T*, const T*,        \
                                const uint8_t*, T*, LstmSaved*, const LstmRun&);                  \
  template void lstm_backward<T>(const LstmConfig&, const T*, const T*, const T*, const uint8_t*, \
                                 const LstmSaved&, const T*, T*, T*, T*, T*, const LstmRun&);
EMBER_INSTANTIATE_LSTM_CUDA(float)
EMBER_INSTANTIATE_LSTM_CUDA(double)
#undef EMBER_INSTANTIATE_LSTM_CUDA

}  // namespace ember::cuda
