// Helpers shared by the GPU LSTM tests (test_gpu_lstm.cpp: fused and cuDNN;
// test_gpu_lstm_persistent.cpp): the mask kinds, one case's shape and options with the
// fn::LstmCall and LstmConfig they stand for, its random inputs, the parity and agreement
// checks through fn::lstm, the launchers called directly against ref::, and Bidirectional
// against the CPU. Shapes are layer-level [B,T,C], H = units; B batch, T time, C input, H hidden.
// Tolerances: float32 uses the table's float32 row x50 for small shapes, x200 for B*T > 1000
// (each output sums C + H products per step and the error compounds over the recurrence; each
// weight gradient sums B*T rows); float64 the table's float64 row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/tensor.h"
#include "kernels/lstm/lstm.h"
#include "layers/functional.h"
#include "tests/support/gpu_test_util.h"

namespace ember::test {

enum class MaskKind { kNone, kPost, kPre, kMixed };
const char* mask_name(MaskKind m);

// Host [B,T] uint8 (undefined for kNone). Post/pre: sample b has 1 + (5b + 2) % T real steps
// at the end/start, and with B > 2 the last sample is fully masked. Mixed cycles through full,
// pre-padded, post-padded, holes (every other step) and fully masked.
Tensor make_mask(MaskKind kind, int64_t nb, int64_t nt);

// One case: shape, options, weight ranges and the Philox stream of its dropout draws.
// Aggregate, so a case reads {b, t, c, h, mask, seq, back, rev, zero, bias, drop, rdrop}.
struct LstmCase {
  int64_t b, t, c, h;
  MaskKind mask = MaskKind::kNone;
  bool seq = false, back = false, rev = false, zero = false, bias = true;
  double drop = 0.0, rdrop = 0.0;
  double kernel_range = 0.6, recurrent_range = 0.5;
  uint64_t seed = 1337;
  uint64_t offset = dropout_offset(7, 2, 0);

  std::string str() const;
  // The options as fn::lstm takes them (training, so the dropouts apply), and as the
  // launchers take them.
  fn::LstmCall call(fn::LstmImpl impl) const;
  LstmConfig config() const;
};

bool is_big(const LstmCase& c);  // B*T > 1000
Tolerance tol32_for(const LstmCase& c);

// x, kernel, recurrent_kernel[, bias] as host float64 tensors (fill seeds seed .. seed + 3).
std::vector<Tensor> lstm_inputs(const LstmCase& c, uint64_t seed);
// The mask where device `dev` wants it (a device copy for CUDA; undefined stays undefined).
Tensor mask_on(const Tensor& mask, Device dev);
// fn::lstm of the leaves x, kernel, recurrent_kernel[, bias] with implementation impl.
DeviceFn lstm_fn(const LstmCase& c, const Tensor& mask, fn::LstmImpl impl);

// check_parity of implementation impl on lstm_inputs(c, seed) with every gradient asked for,
// then (unless is_big) with only d_x, and with only the weights' gradients.
void check_lstm_parity(const LstmCase& c, uint64_t seed, fn::LstmImpl impl);

// Implementations a and b on the same inputs rounded to float32, both in float32 on cuda:0,
// the backward seeded by random weights (fill seed `seed`): output and every gradient within
// tol32_for(c) of each other.
void expect_lstm_impls_agree(const LstmCase& c, const std::vector<Tensor>& in, const Tensor& mask,
                             fn::LstmImpl a, fn::LstmImpl b, uint64_t seed);

// The launcher signatures of kernels/lstm/lstm.h (cuda::lstm_forward / lstm_backward; the
// persistent ones of kernels/lstm/lstm_persistent.h have the same).
template <class T>
using LstmForwardFn = void (*)(const LstmConfig&, const T*, const T*, const T*, const T*,
                               const uint8_t*, T*, LstmSaved*, const cuda::LstmRun&);
template <class T>
using LstmBackwardFn = void (*)(const LstmConfig&, const T*, const T*, const T*, const uint8_t*,
                                const LstmSaved&, const T*, T*, T*, T*, T*, const cuda::LstmRun&);

// `forward` then `backward` called directly in dtype T (float or double) on cuda:0's main
// stream, against ref:: in the same dtype on lstm_inputs(c, seed): the output; the gradients,
// which start from random non-zero values (they accumulate), d_bias untouched without bias;
// the saved c and h_prev within tolerance and the saved dropout factors bit for bit (the same
// Philox draws); with check_gates, also the saved gate activations at real steps (those at
// masked steps are unspecified). `label` follows the dtype in the failure context.
template <class T>
void check_lstm_launchers(const LstmCase& c, uint64_t seed, LstmForwardFn<T> forward,
                          LstmBackwardFn<T> backward, bool check_gates, const char* label = "");

// One Bidirectional case: return_sequences, merge mode, the directions' implementation,
// recurrent_dropout (input dropout is 0.2), mask kind and units per direction.
struct BidiCase {
  bool seq;
  const char* merge;
  const char* impl;
  double rdrop;
  MaskKind mask;
  int64_t units;
};
// The layer (built in float64 from InitRng(seed, 3)) on x [5,7,6] in training, its two
// directions on two streams on the GPU, through check_parity against the CPU.
void check_bidirectional(const BidiCase& bc, uint64_t seed);

}  // namespace ember::test
