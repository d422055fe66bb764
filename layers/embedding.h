// Embedding layer (Keras Embedding): token ids [B,T] int32 -> vectors [B,T,E]. Feature shapes
// {T} -> {T,E}, T may be unknown (-1). One parameter, "embeddings" [V,E] (Keras default
// initializer "uniform", U(-0.05, 0.05)). With mask_zero, id 0 is padding: the layer emits a
// [B,T] uint8 mask (1 = real token) that later layers consume; otherwise no mask.
#pragma once

#include "engine/config/layer_options.h"
#include "layers/layer.h"

namespace ember {

class Embedding : public Layer {
 public:
  explicit Embedding(const EmbeddingOptions& opts);
  const char* type() const override { return "Embedding"; }
  FeatureShape output_shape(const FeatureShape& in) const override;
  void build(const FeatureShape& in, DType dt, InitRng& rng) override;
  // in.x holds the ids (int32 [B,T]) in a Var that needs no gradient.
  LayerIO forward(const LayerIO& in, const RunContext& ctx) override;
  const EmbeddingOptions& options() const { return opts_; }

 private:
  EmbeddingOptions opts_;
};

}  // namespace ember
