// Keras LSTM layer: feature shape {T,C} -> {T,H} (return_sequences) or {H}. Parameters, in
// Keras order and layout: kernel [C,4H] (glorot_uniform, fan_in C, fan_out 4H),
// recurrent_kernel [H,4H] (orthogonal), bias [4H] (zeros, forget slice [H,2H) = 1 with
// unit_forget_bias); gate order i, f, c, o. Consumes the input mask; with return_sequences
// the output carries it on. Dropout draws from dropout_offset(step, index, slot) and slot+1.
//
// implementation (LstmOptions::implementation), the rule:
//  - CPU tensors always run the reference, whatever is asked;
//  - on CUDA, "auto" and "fused" run the handwritten fused kernels (they honour every option);
//    "cudnn" runs cuDNN (kernels/lstm/cudnn_rnn.h), which honours every option except
//    recurrent_dropout: asking for "cudnn" with recurrent_dropout > 0 is an error naming the
//    option, raised when the layer is built (not at the first batch). Any mask works with
//    cuDNN (sequences are compacted, see cudnn_rnn.h), so masks never rule it out;
//  - "persistent" runs kernels/lstm/lstm_persistent.h (sm_90: the recurrence in one cluster
//    launch, weights on chip; every option); a shape or device it cannot run is an error;
//  - "reference" on CUDA runs the CPU reference through host copies (slow; for checking).
// "auto" picks fused because it is the one path that supports everything; a faster choice per
// shape can slot in there once benchmarks say so.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/config/layer_options.h"
#include "layers/functional.h"
#include "layers/layer.h"

namespace ember {

class LSTM : public Layer {
 public:
  explicit LSTM(const LstmOptions& options);  // throws on unsupported options

  const char* type() const override { return "LSTM"; }
  FeatureShape output_shape(const FeatureShape& in) const override;
  void build(const FeatureShape& in, DType dt, InitRng& rng) override;
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;

  // The forward with Bidirectional's extra flags: go_backwards replaces the option's,
  // reverse_outputs re-reverses the sequence output, zero_output_for_mask writes 0 at masked
  // steps, and the dropout masks use slots first_slot and first_slot+1 of stream id `layer`.
  // side_stream_keep_alive: see fn::LstmCall (CUDA: run on the side stream; null: main).
  LayerIO forward_with(const LayerIO& in, const RunContext& ctx, bool go_backwards,
                       bool reverse_outputs, bool zero_output_for_mask, uint32_t layer,
                       uint32_t first_slot,
                       std::vector<Tensor>* side_stream_keep_alive = nullptr) const;

  const LstmOptions& options() const { return options_; }

 private:
  LstmOptions options_;
  fn::LstmImpl impl_ = fn::LstmImpl::kAuto;
};

}  // namespace ember
