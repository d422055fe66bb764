// Autograd ops: each runs its kernel (kernels/<op>.h: ref:: on the CPU, cuda:: later) and
// records a graph node whose backward calls the kernel's backward. Float32 and float64 alike;
// dims: B batch, T time, C input features, H hidden, E embedding, V vocab, U units, K classes.
// Random ops take (seed, offset) and draw their mask from Philox (engine/core/rng.h), so the
// reference, the GPU and a replay draw the same bits.
#pragma once

#include <cstdint>

#include "engine/config/layer_options.h"
#include "engine/core/graph.h"

namespace ember::fn {

using ag::Var;

// weight [V,E], ids [B,T] int32 in [0,V) -> [B,T,E]. Out-of-range ids throw, naming the id.
Var embedding(const Var& weight, const Tensor& ids);

// x [B,T,C]: one keep/drop draw per (b, c), shared by every t; kept values scaled 1/(1-rate).
// Element (b,c) draws Philox index index_base + b*C + c of stream (seed, offset).
Var spatial_dropout1d(const Var& x, double rate, uint64_t seed, uint64_t offset,
                      uint64_t index_base = 0);
// x any shape: one draw per element (flat index i draws index_base + i), inverted scaling.
Var dropout(const Var& x, double rate, uint64_t seed, uint64_t offset, uint64_t index_base = 0);

// enum class Activation: kernels/op_kinds.h
Activation parse_activation(const std::string& name);  // throws listing the known names
const char* activation_name(Activation a);
Var activation(const Var& x, Activation a);  // softmax over the last axis

// x [...,C] (2-D or 3-D), kernel [C,U], bias [U] or undefined -> [...,U]
Var dense(const Var& x, const Var& kernel, const Var& bias);

// x [B,T,C] -> [B,C], max over t (ties: the first maximum gets the gradient)
Var global_max_pool1d(const Var& x);

// a, b same shape; concat joins the last axis ([...,Ha] ++ [...,Hb]).
Var merge(const Var& a, const Var& b, MergeMode mode);  // concat|sum|mul|ave

// Which LSTM kernels run on CUDA tensors (CPU tensors always run the reference). kAuto picks
// kFused; kReference copies to the host and back (slow; for debugging parity); kCudnn throws
// std::invalid_argument naming the option it cannot honour (recurrent_dropout while training).
// kPersistent runs the one-launch recurrence of kernels/lstm/lstm_persistent.h (sm_90 clusters,
// every option, float32 and float64); on a shape or device it cannot run it throws
// std::invalid_argument naming the layer's shape and the reason. kAuto stays kFused until the
// benchmark on an H100 shows persistent faster: its kernels have been compiled but not yet run
// on a GPU, and auto must only pick tested code.
// enum class LstmImpl { kAuto, kReference, kFused, kCudnn, kPersistent }: kernels/op_kinds.h
// auto|reference|fused|cudnn|persistent, else throws listing them
LstmImpl parse_lstm_impl(const std::string& name);
const char* lstm_impl_name(LstmImpl impl);

// Keras LSTM over x [B,T,C] with kernel [C,4H], recurrent_kernel [H,4H], bias [4H] (may be
// undefined); gate order i, f, c, o. mask [B,T] uint8 or undefined: at a masked step h and c
// carry over, and the output repeats the previous output (or is zero when
// zero_output_for_mask, as Keras's Bidirectional sets for return_sequences). go_backwards
// reads the sequence from t=T-1 down; with return_sequences the outputs stay in processing
// order unless reverse_outputs (Bidirectional's re-reversal). dropout masks: Philox stream
// (seed, offset) for x ([B,C], index b*C+c) and (seed, offset+1) for h ([B,H]), applied only
// when training; row b draws as row first_row + b (a data-parallel shard of a larger batch).
// Returns [B,T,H] with return_sequences, else the last processed output [B,H].
struct LstmCall {
  bool return_sequences = false;
  bool go_backwards = false;
  bool reverse_outputs = false;
  bool zero_output_for_mask = false;
  bool training = false;
  double dropout = 0.0;
  double recurrent_dropout = 0.0;
  uint64_t seed = 0;
  uint64_t offset = 0;
  uint64_t first_row = 0;
  LstmImpl implementation = LstmImpl::kAuto;
  // CUDA only: queue the forward on the device context's side stream (a Bidirectional's second
  // direction) instead of its main stream. It first waits for the main stream's queued work,
  // and appends its temporaries here; the caller must make the main stream wait for the side
  // stream (cuda::Context::join) before using the output, then release them. The backward
  // always runs on the main stream. Null: main stream.
  std::vector<Tensor>* side_stream_keep_alive = nullptr;
};
Var lstm(const Var& x, const Var& kernel, const Var& recurrent_kernel, const Var& bias,
         const Tensor& mask, const LstmCall& call);

// ---- losses: scalar mean over samples (and steps), as Keras reduces them ----
// pred: probabilities (or logits when from_logits) [B,1] or [B,T,1] (one prediction per step;
// the label y[b] applies to every step). y [B] float 0/1 (float32/float64 as pred).
// sample_weight [B] or undefined. mask [B,T] or undefined: masked steps count for nothing.
// Keras clips probabilities to [1e-7, 1-1e-7] (pre-clipping gradient is zero outside).
Var binary_crossentropy(const Var& pred, const Tensor& y, const Tensor& sample_weight,
                        const Tensor& mask, bool from_logits);
// pred [B,K] or [B,T,K] probabilities (softmax output) or logits; y [B] int32 class ids.
Var sparse_categorical_crossentropy(const Var& pred, const Tensor& y, const Tensor& sample_weight,
                                    const Tensor& mask, bool from_logits);
// Fraction of correct predictions (threshold 0.5 for one output, argmax for several; logits
// threshold 0). Weighted by mask over steps like the loss. Not differentiable.
double accuracy(const Tensor& pred, const Tensor& y, const Tensor& mask, bool from_logits);
// The same as float64 [2] = {correct, total} on pred's device, left there: no host wait, so a
// training step can queue it and read many steps' counts at once. accuracy() = correct/total
// (0 when total is 0).
Tensor accuracy_counts(const Tensor& pred, const Tensor& y, const Tensor& mask, bool from_logits);
// correct / total of accuracy_counts' result (any device; waits for it), 0 when total is 0.
double accuracy_from_counts(const Tensor& counts);

}  // namespace ember::fn
