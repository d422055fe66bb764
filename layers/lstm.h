// Keras LSTM layer: feature shape {T,C} -> {T,H} (return_sequences) or {H}. Parameters, in
// Keras order and layout: kernel [C,4H] (glorot_uniform, fan_in C, fan_out 4H),
// recurrent_kernel [H,4H] (orthogonal), bias [4H] (zeros, forget slice [H,2H) = 1 with
// unit_forget_bias); gate order i, f, c, o. Consumes the input mask; with return_sequences
// the output carries it on. Dropout draws from dropout_offset(step, index, slot) and slot+1.
#pragma once

#include <cstdint>

#include "layers/layer.h"
#include "layers/layer_options.h"

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
  LayerIO forward_with(const LayerIO& in, const RunContext& ctx, bool go_backwards,
                       bool reverse_outputs, bool zero_output_for_mask, uint32_t layer,
                       uint32_t first_slot) const;

  const LstmOptions& options() const { return options_; }

 private:
  LstmOptions options_;
};

}  // namespace ember
