// Layer: the autograd-facing module a model is a list of. A layer knows its Keras class name,
// checks and computes its output shape, creates its parameters (Keras initializers) and runs
// forward through the ops of layers/functional.h, which record the graph.
//
// Shapes: FeatureShape is the per-sample shape with the batch dim left out, -1 for unknown
// (Keras's None): Embedding maps {T} to {T,E}. Masks travel beside the value as in Keras:
// Embedding(mask_zero) creates a [B,T] uint8 mask (1 = real token), layers that keep the
// time axis pass it on, LSTM consumes it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/graph.h"
#include "engine/core/initializers.h"

namespace ember {

using FeatureShape = std::vector<int64_t>;
std::string feature_shape_str(const FeatureShape& s);  // "(None, 370, 128)"

// What a forward pass needs besides its input. Dropout masks are drawn from the Philox stream
// dropout_offset(step, layer index, slot) under `seed`, so a run is reproducible and the CPU
// and GPU draw the same masks. row_offset: the batch is rows [row_offset, row_offset + B) of
// a larger one (a data-parallel rank's shard of the global batch, engine/dist), and every mask
// row is drawn as that row of the larger batch's mask: N ranks draw what one process would.
struct RunContext {
  bool training = false;
  uint64_t seed = 0;
  uint64_t step = 0;
  uint64_t row_offset = 0;
};

struct LayerIO {
  LayerIO() = default;
  LayerIO(ag::Var x_, Tensor mask_ = {}, ag::Var logits_ = {})
      : x(std::move(x_)), mask(std::move(mask_)), logits(std::move(logits_)) {}
  ag::Var x;    // [B, ...features]
  Tensor mask;  // [B,T] uint8, or undefined
  // When x is sigmoid(z) or softmax(z), z itself. tf.keras's fit() computes a probability loss
  // from these logits (its _keras_logits), so the trainer does the same: no clipping, and no
  // vanishing gradient once the output saturates. Undefined otherwise.
  ag::Var logits;
};

struct Param {
  std::string name;  // "kernel", "recurrent_kernel", "bias", "embeddings", "forward/kernel"
  ag::Var var;
};

class Layer {
 public:
  virtual ~Layer() = default;
  virtual const char* type() const = 0;  // Keras class name: "LSTM", "Dense", ...
  // Throws std::invalid_argument describing what the layer expected if `in` does not fit;
  // the model builder adds the names of this layer and the one before it.
  virtual FeatureShape output_shape(const FeatureShape& in) const = 0;
  // Creates parameters for input shape `in` in dtype dt. Default: no parameters.
  virtual void build(const FeatureShape& in, DType dt, InitRng& rng);
  virtual LayerIO forward(const LayerIO& in, const RunContext& ctx) = 0;

  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  int64_t param_count() const;

  std::string name;  // unique in the model, Keras style: "lstm", "lstm_1", "dense_2"
  int index = 0;     // position in the model; also the dropout stream id

 protected:
  ag::Var& add_param(const std::string& pname, Tensor value);
  std::vector<Param> params_;
};

}  // namespace ember
