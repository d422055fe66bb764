// The CPU LSTM's per-row gate loops (one sample, one step, H hidden units), picked by
// instruction set: lstm_gates_cpu_body.h is compiled once per ISA (lstm_gates_cpu_<isa>.cpp,
// with that ISA's compiler flags) and lstm_gates_cpu.cpp hands out the one engine/core/
// cpu_isa.h selects. Float only goes per ISA; double, the precision reference of the gradient
// checks and the GPU parity tests, always runs the generic loops.
//
// forward:  a [4H] holds x·W + h·R on entry (gates i, f, g, o) and the activations on exit;
//           bias [4H]; c [H], h [H] advance in place.
// backward: a [4H] activations, c_new/c_prev [H], d_out [H] (the output's gradient, zeros if
//           none); dh, dc [H] hold the carried state's gradient on entry, and on exit dc that
//           of c_prev and dh zero; dg [4H] is overwritten with the pre-activation gradients.
#pragma once

#include <cstdint>

#include "engine/core/cpu_isa.h"

namespace ember::ref {

template <class T>
struct LstmRowKernels {
  void (*forward)(T* a, const T* bias, T* c, T* h, int64_t nh);
  void (*backward)(const T* a, const T* c_new, const T* c_prev, const T* d_out, T* dh, T* dc, T* dg,
                   int64_t nh);
};

// The loops for `isa` (which this machine must support), and for the ISA in use.
template <class T>
LstmRowKernels<T> lstm_row_kernels(CpuIsa isa);
template <class T>
LstmRowKernels<T> lstm_row_kernels() {
  return lstm_row_kernels<T>(cpu_isa());
}

// One per ISA translation unit.
LstmRowKernels<float> lstm_rows_generic_f32();
LstmRowKernels<double> lstm_rows_generic_f64();
LstmRowKernels<float> lstm_rows_avx2_f32();
LstmRowKernels<float> lstm_rows_avx512_f32();

}  // namespace ember::ref
