// The LSTM cell of one hidden unit at one step, forward and backward, shared by the CPU
// reference (lstm_ref.cpp, plain g++), the fused gate kernels (lstm_gates.cu) and the
// persistent cluster kernels (lstm_persistent_kernels.cu). Gates in Keras order i, f, g, o:
// i, f, o = sigmoid (the only recurrent_activation supported), g = tanh (activation),
// c = f*c_prev + i*g, h = o*tanh(c). The backward uses the saved activations
// (sigmoid' = s(1-s), tanh' = 1-g^2) and recomputes tanh(c). Callers sum the pre-activations
// (x·W + h·R + bias) themselves, each in its own order, and pass them in; everything from there
// on is computed here, in one order, so the three paths agree to the rounding of their
// activation functions (the Act parameter; see LstmMathAct).
#pragma once

#include <math.h>  // ::expf, ::tanhf, ::exp, ::tanh for a host compiler; CUDA's on the device

#include "engine/cuda/index.h"

namespace ember {

// The four values of one hidden unit, one per gate (pre-activations, activations, or their
// gradients).
template <class T>
struct LstmGates {
  T i, f, g, o;
};

// The kernels' activations: expf/tanhf in float, exp/tanh in double (CUDA's device versions
// under nvcc, libm's on the emulator). The CPU reference passes its own (vectorizable float
// versions, lstm_ref.cpp), which is why CPU and GPU are compared at float tolerance.
struct LstmMathAct {
  static EMBER_HD float sigmoid(float a) { return 1.0f / (1.0f + ::expf(-a)); }
  static EMBER_HD double sigmoid(double a) { return 1.0 / (1.0 + ::exp(-a)); }
  static EMBER_HD float tanh(float a) { return ::tanhf(a); }
  static EMBER_HD double tanh(double a) { return ::tanh(a); }
};

// Forward of a real (unmasked) step: z holds the pre-activations; c holds c_prev on entry and
// c on exit, h gets o*tanh(c). Returns the activations, which the backward reads.
template <class T, class Act = LstmMathAct>
EMBER_HD LstmGates<T> lstm_cell_forward(const LstmGates<T>& z, T& c, T& h) {
  LstmGates<T> a;
  a.i = Act::sigmoid(z.i);
  a.f = Act::sigmoid(z.f);
  a.g = Act::tanh(z.g);
  a.o = Act::sigmoid(z.o);
  c = a.f * c + a.i * a.g;
  h = a.o * Act::tanh(c);
  return a;
}

// Backward of a real step: a the saved activations, c_new / c_prev the cell state after and
// before the step (c_prev = 0 at the first), go the gradient of the step's output (0 if none).
// dh and dc hold the gradient of the state carried out of the step on entry (dh with the
// recurrent product already added); on exit dc is c_prev's gradient and dh is 0 (h_prev's
// comes from the recurrent product of the returned pre-activation gradients).
template <class T, class Act = LstmMathAct>
EMBER_HD LstmGates<T> lstm_cell_backward(const LstmGates<T>& a, T c_new, T c_prev, T go, T& dh,
                                         T& dc) {
  const T d_h = dh + go;
  const T tc = Act::tanh(c_new);
  const T d_o = d_h * tc;
  const T d_c = dc + d_h * a.o * (T(1) - tc * tc);
  LstmGates<T> d;
  d.i = d_c * a.g * a.i * (T(1) - a.i);     // through i
  d.f = d_c * c_prev * a.f * (T(1) - a.f);  // through f
  d.g = d_c * a.i * (T(1) - a.g * a.g);     // through g
  d.o = d_o * a.o * (T(1) - a.o);           // through o
  dc = d_c * a.f;
  dh = T(0);
  return d;
}

// The carry-over rule of a masked (padded) step: h and c stay as they were, the output
// repeats the carried h, or is 0 with zero_output_for_mask (Keras's rule).
template <class T>
EMBER_HD T lstm_masked_output(T h, bool zero_output_for_mask) {
  return zero_output_for_mask ? T(0) : h;
}

// Its backward: the state's gradients pass through unchanged (the pre-activation gradients are
// 0), and the output's gradient go flows into h's when that output was the carried h. With no
// output gradient at this step, the reference and the fused kernel skip the call and the
// persistent kernel passes go = 0, each as before (they differ only in the sign of a zero).
template <class T>
EMBER_HD void lstm_masked_backward(T go, bool zero_output_for_mask, T& dh) {
  if (!zero_output_for_mask) dh += go;
}

}  // namespace ember
