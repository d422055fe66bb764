// Keras LSTM over a whole sequence, forward and backward: the CPU reference (ref::, in
// lstm_ref.cpp) and the CUDA fused path (cuda::, in lstm_gates.cu, lstm.cu and lstm_common.cu).
// Dims: B batch, T time, C input, H hidden, G = 4H; every buffer row-major, rightmost fastest.
// Gate order i, f, g(c), o; i,f,o sigmoid, g tanh; c = f*c + i*g; h = o*tanh(c); h0 = c0 = 0.
// Layout choice: every per-step buffer is batch-major by ORIGINAL time ([B,T,*], like x), so
// the input projection, d_x, d_kernel and d_recurrent_kernel are each one gemm over all B*T
// rows, and the per-step recurrent gemms write their [B,G] slice with row stride T*G.
// Deterministic: fixed loop orders, no atomics, and OpenBLAS with a fixed thread count; on the
// GPU cuBLAS gemms (reproducible for a fixed handle and stream) and a two-pass column sum.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/cuda/cuda_fwd.h"

namespace ember {

// Everything about one call except its tensors. Step s (0..T-1) reads time t = s, or
// t = T-1-s with go_backwards; the mask is read at that same t.
struct LstmConfig {
  int64_t batch = 0, steps = 0, input = 0, hidden = 0;  // B, T, C, H
  bool return_sequences = false;
  bool go_backwards = false;
  // Output step s goes to position T-1-s instead of s (a literal reversal of the processing
  // order; with go_backwards that is time t, which is what Bidirectional wants).
  bool reverse_outputs = false;
  // At a masked step the output is 0 instead of the previous output (the state still carries).
  bool zero_output_for_mask = false;
  // Effective rates: the caller passes 0 when not training. Each must be in [0, 1).
  double dropout = 0.0;            // x mask [B,C]: Philox stream (seed, offset), index b*C+c
  double recurrent_dropout = 0.0;  // h mask [B,H]: Philox stream (seed, offset+1), index b*H+j
  uint64_t seed = 0, offset = 0;
  // Row b of this batch is row first_row + b of the batch the masks are drawn for: a
  // data-parallel shard then draws (first_row + b)*C + c, exactly its rows of the global mask.
  uint64_t first_row = 0;
};

// What the forward leaves for the backward (allocated by the forward, same dtype and device).
struct LstmSaved {
  Tensor gates;    // [B,T,G] activations i,f,g,o of the step that read time t (masked rows: junk)
  Tensor c;        // [B,T,H] cell state carried out of the step that read time t
  Tensor h_prev;   // [B,T,H] h_{s-1} as it multiplied recurrent_kernel (recurrent dropout applied)
  Tensor x_scale;  // [B,C] input dropout factor (0 or 1/(1-rate)); undefined when off
  Tensor h_scale;  // [B,H] recurrent dropout factor; undefined when off
};

namespace ref {

// x [B,T,C], kernel [C,G], recurrent_kernel [H,G], bias [G] or null, mask [B,T] uint8 or null
// (nonzero = real step). out OVERWRITTEN: [B,T,H] with return_sequences, else [B,H] (the
// output of the last processed step). saved: filled for lstm_backward, or null for inference
// (then only [B,T,G] of workspace is used).
template <class T>
void lstm_forward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const uint8_t* mask, T* out, LstmSaved* saved);

// d_out has out's shape. Gradients are ACCUMULATED (+=); each may be null to skip its work:
// d_x [B,T,C], d_kernel [C,G], d_recurrent_kernel [H,G], d_bias [G]. x, kernel,
// recurrent_kernel, mask and saved are those of the forward. h0 and c0 are constants.
template <class T>
void lstm_backward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                   const uint8_t* mask, const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                   T* d_recurrent_kernel, T* d_bias);

}  // namespace ref

// ---- CUDA (EMBER_HAVE_CUDA builds only; declared everywhere so the header stays CPU-clean) ----
namespace cuda {

// Where one CUDA LSTM call runs. All its work is queued on `stream`, which must be the main
// stream or the side stream of device `device`'s cuda::Context; nothing synchronizes the host
// (except cuDNN's mask read, see kernels/lstm/cudnn_rnn.h). Inputs produced on another stream must
// be ordered before the call by the caller (Context::join). Temporaries are released on
// return, which the caching allocator permits only on the main stream (it orders reuse there):
// on the side stream pass keep_alive, which receives them, and release them only after joining
// the main stream to the side stream.
struct LstmRun {
  int device = 0;
  cudaStream_t stream = nullptr;
  std::vector<Tensor>* keep_alive = nullptr;
};

// One processing step of the fused forward, pointwise over (b, j) in [B] x [H]. Row b of every
// strided operand starts at ptr + b * ld_<name>. Reads the step's pre-activation gates
// x·kernel + h_{s-1}·recurrent_kernel (bias not yet added), writes them back as activations
// i, f, g, o (rows of masked samples are left as they were), advances c and h, and writes:
//  - out (may be null): the step's output row, h; at a masked step the carried h, or 0 with
//    zero_output_for_mask;
//  - c_save (may be null): the cell state carried out of the step;
//  - h_next (may be null): the operand of the next step's recurrent gemm, h * h_scale (h_scale
//    [B,H] may be null: no recurrent dropout).
// mask (may be null) points at column t of the [B,T] mask (ld_mask = T); nonzero = real step.
// Pointers may not alias except h_next == h when h_scale is null (then it is a no-op copy).
template <class T>
struct LstmGatesForwardArgs {
  int64_t batch = 0, hidden = 0;
  T* gates = nullptr;
  int64_t ld_gates = 0;     // [B,G] slice, OVERWRITTEN with activations at real rows
  const T* bias = nullptr;  // [G] or null
  const uint8_t* mask = nullptr;
  int64_t ld_mask = 0;
  T* h = nullptr;  // [B,H] in/out
  T* c = nullptr;  // [B,H] in/out
  T* out = nullptr;
  int64_t ld_out = 0;
  bool zero_output_for_mask = false;
  T* c_save = nullptr;
  int64_t ld_c_save = 0;
  T* h_next = nullptr;
  int64_t ld_h_next = 0;
  const T* h_scale = nullptr;  // [B,H] or null
};

// The backward of one step, pointwise over (b, j). dh, dc [B,H] hold the gradients flowing
// into the state carried out of the step; when dh_rec is not null, dh_rec * h_scale (the later
// step's recurrent product d_gates·R^T before its dropout factor) is first added to dh. On
// exit dc holds the gradient of c_{s-1} and dh zero (h_{s-1}'s comes from the next gemm); at a
// masked step both pass through (plus the output's gradient unless zero_output_for_mask).
// d_gates [B,G] slice OVERWRITTEN with pre-activation gradients (zeros at masked rows).
// gates: the forward's activations; c_new / c_prev: c after this step / after the previous
// one (c_prev null at the first step: c0 = 0), both with row stride ld_c. d_out may be null.
template <class T>
struct LstmGatesBackwardArgs {
  int64_t batch = 0, hidden = 0;
  const T* gates = nullptr;
  int64_t ld_gates = 0;
  const T* c_new = nullptr;
  const T* c_prev = nullptr;
  int64_t ld_c = 0;
  const uint8_t* mask = nullptr;
  int64_t ld_mask = 0;
  const T* d_out = nullptr;
  int64_t ld_d_out = 0;
  bool zero_output_for_mask = false;
  T* dh = nullptr;
  T* dc = nullptr;
  const T* dh_rec = nullptr;
  const T* h_scale = nullptr;
  T* d_gates = nullptr;
  int64_t ld_d_gates = 0;
};

// Launchers (lstm_gates.cu): check the arguments (std::invalid_argument), launch one kernel on
// `stream`, check the launch. float and double.
template <class T>
void lstm_gates_forward(const LstmGatesForwardArgs<T>& args, cudaStream_t stream);
template <class T>
void lstm_gates_backward(const LstmGatesBackwardArgs<T>& args, cudaStream_t stream);

// The fused LSTM (lstm.cu): ref::lstm_forward / ref::lstm_backward's contract, every pointer
// in device memory of run.device. Forward: the input dropout mask is applied to x by a kernel,
// one gemm projects all B*T rows, then per step one recurrent gemm and one lstm_gates_forward.
// `saved` gets device tensors with the reference's meaning (bit-identical dropout factors).
// Backward: per step one lstm_gates_backward and one gemm for d_h_{s-1}; then the weight
// gradients as gemms over all B*T rows and d_bias by a two-pass column sum (double partials,
// fixed order). Gradients ACCUMULATE (+=); null ones are skipped. Deterministic for a given
// device, stream and shapes.
template <class T>
void lstm_forward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const uint8_t* mask, T* out, LstmSaved* saved, const LstmRun& run);
template <class T>
void lstm_backward(const LstmConfig& cfg, const T* x, const T* kernel, const T* recurrent_kernel,
                   const uint8_t* mask, const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                   T* d_recurrent_kernel, T* d_bias, const LstmRun& run);

}  // namespace cuda
}  // namespace ember
