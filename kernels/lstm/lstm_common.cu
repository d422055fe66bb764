// The host steps of one CUDA LSTM call that the fused path (lstm.cu) and the persistent one
// (lstm_persistent.cu) share, declared in kernels/lstm/lstm_cuda.h: the argument checks, the call's
// temporaries (LstmRun's keep_alive rule), the forward's dropout factors and input projection
// before the recurrence, and the backward's gradients from d_gates after it. Dims as in
// kernels/lstm/lstm.h; buffers [B,T,*] by original time, so each gemm covers all B*T rows. No
// kernels of its own: it queues cuBLAS gemms and the helpers of lstm.cu on the call's stream.
#include <cuda_runtime.h>

#include <utility>

#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_cuda.h"

namespace ember::cuda {

namespace {

void check_saved(const Tensor& t, DType dt, const Shape& s, int device, const char* what) {
  check_tensor(t, dt, s, what);
  EMBER_CHECK_ARG(t.device() == Device::cuda(device),
                  what << ": expected a tensor on cuda:" << device << ", got " << t.str());
}

}  // namespace

void check_lstm_config(const LstmConfig& cfg, const char* op) {
  EMBER_CHECK_ARG(cfg.batch >= 1 && cfg.steps >= 1 && cfg.input >= 1 && cfg.hidden >= 1,
                  op << ": need B, T, C, H >= 1, got B=" << cfg.batch << " T=" << cfg.steps
                     << " C=" << cfg.input << " H=" << cfg.hidden);
  EMBER_CHECK_ARG(cfg.dropout >= 0.0 && cfg.dropout < 1.0,
                  op << ": dropout " << cfg.dropout << " is not in [0, 1)");
  EMBER_CHECK_ARG(cfg.recurrent_dropout >= 0.0 && cfg.recurrent_dropout < 1.0,
                  op << ": recurrent_dropout " << cfg.recurrent_dropout << " is not in [0, 1)");
}

void check_lstm_saved(const LstmConfig& cfg, const LstmSaved& saved, DType dt, int device) {
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  check_saved(saved.gates, dt, Shape{nb, nt, ng}, device, "lstm_backward: saved gates");
  check_saved(saved.c, dt, Shape{nb, nt, nh}, device, "lstm_backward: saved c");
  check_saved(saved.h_prev, dt, Shape{nb, nt, nh}, device, "lstm_backward: saved h_prev");
  if (saved.x_scale.defined())
    check_saved(saved.x_scale, dt, Shape{nb, nc}, device, "lstm_backward: saved x_scale");
  if (saved.h_scale.defined())
    check_saved(saved.h_scale, dt, Shape{nb, nh}, device, "lstm_backward: saved h_scale");
}

// ---- LstmWork -----------------------------------------------------------------------------

LstmWork::LstmWork(const LstmRun& run, const char* who) : run_(run) {
  const Context& ctx = Context::get(run.device);
  EMBER_CHECK_ARG(run.stream == ctx.stream() || run.stream == ctx.side_stream(),
                  who << ": the stream must be the device context's main or side stream");
  EMBER_CHECK_ARG(run.stream == ctx.stream() || run.keep_alive,
                  who << ": a call on the side stream needs LstmRun::keep_alive");
  // After the checks: cublas_for would bind a handle to any stream it is given.
  blas_ = cublas_for(run.device, run.stream);
}

LstmWork::~LstmWork() {
  if (run_.keep_alive)
    for (Tensor& t : held_) run_.keep_alive->push_back(std::move(t));
}

Tensor LstmWork::temp(const Shape& shape, DType dt, bool zero) {
  Tensor t = Tensor::empty(shape, dt, Device::cuda(run_.device));
  if (zero) EMBER_CUDA_CHECK(cudaMemsetAsync(t.raw(), 0, t.nbytes(), run_.stream));
  held_.push_back(t);
  return t;
}

void LstmWork::hold(const Tensor& t) {
  if (t.defined()) held_.push_back(t);
}

// ---- forward and backward steps -------------------------------------------------------------

template <class T>
LstmSaved lstm_forward_start(const LstmConfig& cfg, const T* x, const T* kernel, bool save,
                             LstmWork& work) {
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  const DType dt = dtype_of<T>();
  const Device dev = Device::cuda(work.run().device);
  cudaStream_t st = work.stream();
  LstmSaved r;

  // Dropout factors, one draw per sequence (variational), shared by every step.
  const T* x_in = x;
  if (cfg.dropout > 0.0) {
    r.x_scale = Tensor::empty(Shape{nb, nc}, dt, dev);
    dropout_factors<T>(r.x_scale.data<T>(), nb * nc, cfg.dropout, cfg.seed, cfg.offset,
                       cfg.first_row * static_cast<uint64_t>(nc), st);
    Tensor x_dropped = work.temp(Shape{nb, nt, nc}, dt);
    apply_row_factors<T>(x, r.x_scale.data<T>(), x_dropped.data<T>(), nb, nt, nc, st);
    x_in = x_dropped.data<T>();
  }
  if (cfg.recurrent_dropout > 0.0) {
    r.h_scale = Tensor::empty(Shape{nb, nh}, dt, dev);
    dropout_factors<T>(r.h_scale.data<T>(), nb * nh, cfg.recurrent_dropout, cfg.seed,
                       cfg.offset + 1, cfg.first_row * static_cast<uint64_t>(nh), st);
  }

  // Input projection of every (b,t) row; the recurrence adds the recurrent product and bias.
  r.gates = save ? Tensor::empty(Shape{nb, nt, ng}, dt, dev) : work.temp(Shape{nb, nt, ng}, dt);
  gemm_rm<T>(work.blas(), false, false, nb * nt, ng, nc, T(1), x_in, nc, kernel, ng, T(0),
             r.gates.data<T>(), ng);
  if (save) {
    r.c = Tensor::empty(Shape{nb, nt, nh}, dt, dev);
    r.h_prev = Tensor::empty(Shape{nb, nt, nh}, dt, dev);
  }
  return r;
}

void lstm_forward_finish(LstmSaved&& state, LstmSaved* saved, LstmWork& work) {
  if (saved) {
    *saved = std::move(state);
  } else {
    work.hold(state.x_scale);
    work.hold(state.h_scale);
  }
}

template <class T>
void lstm_gradients_from_gates(const LstmConfig& cfg, const T* x, const T* kernel,
                               const LstmSaved& saved, const T* d_gates, T* d_x, T* d_kernel,
                               T* d_recurrent_kernel, T* d_bias, LstmWork& work) {
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  const int64_t rows = nb * nt;
  const DType dt = dtype_of<T>();
  cudaStream_t st = work.stream();
  cublasHandle_t blas = work.blas();
  const T* xs = saved.x_scale.defined() ? saved.x_scale.data<T>() : nullptr;

  if (d_recurrent_kernel)  // sum over steps of h_prev^T · d_gates
    gemm_rm<T>(blas, true, false, nh, ng, rows, T(1), saved.h_prev.data<T>(), nh, d_gates, ng, T(1),
               d_recurrent_kernel, ng);
  Tensor scratch;  // [B,T,C]: the dropped-out x, then d_x before its dropout factor
  if (xs && (d_kernel || d_x)) scratch = work.temp(Shape{nb, nt, nc}, dt);
  if (d_kernel) {
    const T* x_in = x;
    if (xs) {
      apply_row_factors<T>(x, xs, scratch.data<T>(), nb, nt, nc, st);
      x_in = scratch.data<T>();
    }
    gemm_rm<T>(blas, true, false, nc, ng, rows, T(1), x_in, nc, d_gates, ng, T(1), d_kernel, ng);
  }
  if (d_x) {
    if (xs) {
      gemm_rm<T>(blas, false, true, rows, nc, ng, T(1), d_gates, ng, kernel, ng, T(0),
                 scratch.data<T>(), nc);
      add_row_factors<T>(scratch.data<T>(), xs, d_x, nb, nt, nc, st);
    } else {
      gemm_rm<T>(blas, false, true, rows, nc, ng, T(1), d_gates, ng, kernel, ng, T(1), d_x, nc);
    }
  }
  if (d_bias) {
    Tensor partial = work.temp(Shape{column_sums_workspace(rows, ng)}, DType::kFloat64);
    column_sums_add<T>(d_gates, rows, ng, partial.data<double>(), d_bias, st);
  }
}

#define EMBER_INSTANTIATE_LSTM_COMMON(T)                                                 \
  template LstmSaved lstm_forward_start<T>(const LstmConfig&, const T*, const T*, bool,  \
                                           LstmWork&);                                   \
  template void lstm_gradients_from_gates<T>(const LstmConfig&, const T*, const T*,      \
                                             const LstmSaved&, const T*, T*, T*, T*, T*, \
                                             LstmWork&);
EMBER_INSTANTIATE_LSTM_COMMON(float)
EMBER_INSTANTIATE_LSTM_COMMON(double)
#undef EMBER_INSTANTIATE_LSTM_COMMON

}  // namespace ember::cuda
