// CUDA-only helpers shared by the LSTM's GPU paths (kernels/lstm/lstm.cu, the fused one,
// kernels/lstm_persistent*.cu and kernels/lstm/cudnn_rnn.cpp): library handles bound to a given
// stream, a row-major gemm, the variational dropout kernels, a deterministic column sum, the
// layout kernels that move data between Keras's [B,T,*] / [C,4H] layouts and cuDNN's, and the
// host steps of one call that the fused and persistent paths share (argument checks, the
// temporaries, the input projection, the gradients from d_gates). Include only from CUDA
// builds. Every launcher queues on the stream it is given, checks its launch and never
// synchronizes.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "kernels/lstm/lstm.h"

namespace ember::cuda {

// The cuBLAS handle to use on `stream` of `device`: the context's own for its main stream; for
// any other stream a handle of its own, created once and bound to that stream, with a private
// workspace (one handle's default workspace must not serve two streams at once).
cublasHandle_t cublas_for(int device, cudaStream_t stream);

// Row-major C[M,N] = alpha * op(A)[M,K] · op(B)[K,N] + beta * C, with leading dimensions (row
// strides) lda, ldb, ldc. float and double; plain FP32/FP64 math.
template <class T>
void gemm_rm(cublasHandle_t h, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha,
             const T* a, int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// factor[i] = dropout_keep(seed, offset, base + i, (float)rate) ? scale : 0 for i < n, the
// draw of kernels/lstm/lstm_ref.cpp (scale = T(1 / (1 - rate)), rounded once on the host; base is
// LstmConfig::first_row times the mask's width).
template <class T>
void dropout_factors(T* factor, int64_t n, double rate, uint64_t seed, uint64_t offset,
                     uint64_t base, cudaStream_t stream);
// y[b,t,c] = f[b,c] != 0 ? x[b,t,c] * f[b,c] : 0 (a select: a dropped inf/NaN gives 0).
template <class T>
void apply_row_factors(const T* x, const T* f, T* y, int64_t nb, int64_t nt, int64_t nc,
                       cudaStream_t stream);
// dx[b,t,c] += w[b,t,c] * f[b,c] where f[b,c] != 0.
template <class T>
void add_row_factors(const T* w, const T* f, T* dx, int64_t nb, int64_t nt, int64_t nc,
                     cudaStream_t stream);

// out[j] += sum over r < rows of m[r, j] (m [rows, cols] row-major), accumulated in double in
// a fixed order: partial sums of 64-row chunks, then the chunks in order. `partial` is device
// workspace of column_sums_workspace(rows, cols) doubles.
int64_t column_sums_workspace(int64_t rows, int64_t cols);
template <class T>
void column_sums_add(const T* m, int64_t rows, int64_t cols, double* partial, T* out,
                     cudaStream_t stream);

// ---- cuDNN layout (cudnn_rnn_layout.cu) ----
// dst[b,k,:] = src_map[b*nk + k] >= 0 ? src[b, src_map[b*nk+k], :] : 0, for src [B,ns,n] and
// dst [B,nk,n]: gathers rows along the time axis (and zero-fills the rest).
template <class T>
void gather_time_rows(const T* src, int64_t ns, const int32_t* src_map, T* dst, int64_t nb,
                      int64_t nk, int64_t n, cudaStream_t stream);
// The transpose of gather_time_rows, accumulating: for every (b, k) with src_map >= 0,
// dst[b, src_map[b,k], :] (+)= src[b,k,:] * (factor ? factor[b,:] : 1), the factor applied as a
// select (0 stays 0). Each destination row must be named at most once per b.
template <class T>
void scatter_add_time_rows(const T* src, int64_t nk, const int32_t* src_map, const T* factor,
                           T* dst, int64_t ns, int64_t nb, int64_t n, cudaStream_t stream);
// The gradient of gather_time_rows when rows repeat: dst[b,k,:] = sum over p with
// map[b*np + p] == k of src[b,p,:] (dst [B,nk,n] OVERWRITTEN; p in increasing order).
template <class T>
void sum_time_rows(const T* src, int64_t np, const int32_t* map, T* dst, int64_t nk, int64_t nb,
                   int64_t n, cudaStream_t stream);

// Where cuDNN keeps the four gate matrices (or bias vectors) of one linear layer, as element
// offsets into its weight space, and the strides of a matrix [hidden unit, input unit].
struct CudnnGateBlocks {
  int64_t offset[4];
  int64_t stride_unit, stride_in;
};
// Keras matrix w [K,4H] (gate q = columns [qH, (q+1)H)) -> cuDNN's matrices:
// space[offset[q] + h*stride_unit + k*stride_in] = w[k, qH + h]; w null writes zeros.
template <class T>
void keras_to_cudnn(const T* w, T* space, const CudnnGateBlocks& blocks, int64_t k, int64_t h,
                    cudaStream_t stream);
// The reverse, ACCUMULATING: w[k, qH + h] += space[offset[q] + h*stride_unit + k*stride_in].
template <class T>
void cudnn_to_keras_add(const T* space, T* w, const CudnnGateBlocks& blocks, int64_t k, int64_t h,
                        cudaStream_t stream);

// ---- one fused or persistent LSTM call (lstm_common.cu) ----
// Dims as in kernels/lstm/lstm.h: B batch, T time, C input, H hidden, G = 4H.

// The checks of cfg both paths make first: B, T, C, H >= 1 and both dropout rates in [0, 1).
// Throws std::invalid_argument naming `op`.
void check_lstm_config(const LstmConfig& cfg, const char* op);

// The backward's checks of the forward's saved tensors: gates [B,T,G], c and h_prev [B,T,H],
// and x_scale [B,C] / h_scale [B,H] where defined, all of dtype dt on cuda:`device`. Throws
// std::invalid_argument naming the tensor.
void check_lstm_saved(const LstmConfig& cfg, const LstmSaved& saved, DType dt, int device);

// The stream, cuBLAS handle and temporaries of one call. The constructor checks run against
// LstmRun's rule (the stream is device run.device's main or side stream; a side-stream call
// has keep_alive), naming the path `who` in the std::invalid_argument, and only then takes
// cublas_for(run.device, run.stream). On destruction the temporaries are moved to
// run.keep_alive when it is given, else released (which the caching allocator orders after
// the work queued on the main stream).
class LstmWork {
 public:
  LstmWork(const LstmRun& run, const char* who);
  ~LstmWork();
  LstmWork(const LstmWork&) = delete;
  LstmWork& operator=(const LstmWork&) = delete;

  const LstmRun& run() const { return run_; }
  cudaStream_t stream() const { return run_.stream; }
  cublasHandle_t blas() const { return blas_; }
  // A new tensor on cuda:run.device, held until the call ends; with `zero`, cleared by a
  // memset queued on the stream, else uninitialized.
  Tensor temp(const Shape& shape, DType dt, bool zero = false);
  // Holds t (when defined) until the call ends: a tensor the queued work reads that the
  // caller would otherwise release.
  void hold(const Tensor& t);

 private:
  const LstmRun& run_;
  cublasHandle_t blas_ = nullptr;
  std::vector<Tensor> held_;
};

// The forward's steps before the recurrence, queued on work's stream:
//  - the dropout factors, one draw per sequence (variational), bit-identical to the
//    reference's (dropout_factors): x_scale [B,C] from Philox stream (seed, offset) when
//    cfg.dropout > 0, h_scale [B,H] from (seed, offset + 1) when cfg.recurrent_dropout > 0;
//    undefined otherwise;
//  - the input projection of every (b,t) row, gates [B,T,G] = (x * x_scale) · kernel, with
//    no bias (the recurrence adds it); the dropped-out x is a temporary of work;
//  - with `save`, c and h_prev [B,T,H] allocated and left uninitialized for the recurrence
//    to fill (undefined without `save`).
// x [B,T,C] and kernel [C,G] in device memory. Returned as an LstmSaved, whose gates is a
// temporary of work unless `save`; hand it to lstm_forward_finish when the recurrence is
// queued.
template <class T>
LstmSaved lstm_forward_start(const LstmConfig& cfg, const T* x, const T* kernel, bool save,
                             LstmWork& work);

// The forward's last step: moves `state` into *saved, or, with saved null, has work hold its
// dropout factors (the queued kernels read them; gates already is a temporary of work).
void lstm_forward_finish(LstmSaved&& state, LstmSaved* saved, LstmWork& work);

// The backward's steps after the recurrence: from d_gates [B,T,G] (the pre-activation
// gradients by original time, zeros at masked steps), over all B*T rows, each output
// ACCUMULATED (+=) and skipped when null:
//   d_recurrent_kernel [H,G] += saved.h_prev^T · d_gates,
//   d_kernel [C,G] += (x * saved.x_scale)^T · d_gates,
//   d_x [B,T,C] += (d_gates · kernel^T) * saved.x_scale,
//   d_bias [G] += the column sums of d_gates (column_sums_add: deterministic).
// Gemms on work's handle, kernels on its stream, temporaries from work.
template <class T>
void lstm_gradients_from_gates(const LstmConfig& cfg, const T* x, const T* kernel,
                               const LstmSaved& saved, const T* d_gates, T* d_x, T* d_kernel,
                               T* d_recurrent_kernel, T* d_bias, LstmWork& work);

}  // namespace ember::cuda
