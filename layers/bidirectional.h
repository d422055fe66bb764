// Keras Bidirectional(LSTM): a forward LSTM and a backward copy (go_backwards flipped) over
// the same input, merged with merge_mode (concat | sum | mul | ave). Feature shape {T,C} ->
// {T,M} or {M}, M = 2H for concat, else H. Parameters are the two LSTMs' own, named
// "forward_lstm/kernel" ... "backward_lstm/bias". As in Keras, with return_sequences the
// backward outputs are re-reversed and both directions write 0 at masked steps; the output
// keeps the input mask then. Dropout slots: forward 0,1; backward 2,3 of the layer's stream.
#pragma once

#include "engine/config/layer_options.h"
#include "layers/layer.h"
#include "layers/lstm.h"

namespace ember {

class Bidirectional : public Layer {
 public:
  explicit Bidirectional(const BidirectionalOptions& options);  // throws on bad options

  const char* type() const override { return "Bidirectional"; }
  FeatureShape output_shape(const FeatureShape& in) const override;
  void build(const FeatureShape& in, DType dt, InitRng& rng) override;
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;

  const BidirectionalOptions& options() const { return options_; }

 private:
  BidirectionalOptions options_;
  LSTM forward_lstm_;
  LSTM backward_lstm_;  // options_.layer with go_backwards flipped
};

}  // namespace ember
