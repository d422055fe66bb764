// Keras LSTM over a whole sequence, forward and backward (CPU reference; CUDA later).
// Dims: B batch, T time, C input, H hidden, G = 4H; every buffer row-major, rightmost fastest.
// Gate order i, f, g(c), o; i,f,o sigmoid, g tanh; c = f*c + i*g; h = o*tanh(c); h0 = c0 = 0.
// Layout choice: every per-step buffer is batch-major by ORIGINAL time ([B,T,*], like x), so
// the input projection, d_x, d_kernel and d_recurrent_kernel are each one gemm over all B*T
// rows, and the per-step recurrent gemms write their [B,G] slice with row stride T*G.
// Deterministic: fixed loop orders, no atomics, and OpenBLAS with a fixed thread count.
#pragma once

#include <cstdint>

#include "engine/tensor.h"

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
};

// What the forward leaves for the backward (allocated by the forward, same dtype and device).
struct LstmSaved {
  Tensor gates;   // [B,T,G] activations i,f,g,o of the step that read time t (masked rows: junk)
  Tensor c;       // [B,T,H] cell state carried out of the step that read time t
  Tensor h_prev;  // [B,T,H] h_{s-1} as it multiplied recurrent_kernel (recurrent dropout applied)
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
                   const uint8_t* mask, const LstmSaved& saved, const T* d_out, T* d_x,
                   T* d_kernel, T* d_recurrent_kernel, T* d_bias);

}  // namespace ref
}  // namespace ember
