// Embedding layer: shape checks, the "embeddings" parameter and the mask_zero mask. The lookup
// and its deterministic backward are fn::embedding (layers/fn_embedding.cpp). The parameter is
// drawn from rng.fork(0), one sub-stream per parameter as in the other layers.
#include "layers/embedding.h"

#include "kernels/embedding_dispatch.h"
#include "layers/functional.h"

namespace ember {

Embedding::Embedding(const EmbeddingOptions& opts) : opts_(opts) {
  EMBER_CHECK_ARG(opts_.input_dim > 0 && opts_.output_dim > 0,
                  "Embedding: input_dim and output_dim must be positive, got input_dim "
                      << opts_.input_dim << ", output_dim " << opts_.output_dim);
  EMBER_CHECK_ARG(
      is_known_initializer(opts_.embeddings_initializer),
      "Embedding: unknown embeddings_initializer '" << opts_.embeddings_initializer << "'");
}

FeatureShape Embedding::output_shape(const FeatureShape& in) const {
  EMBER_CHECK_ARG(in.size() == 1, "Embedding expects token ids of shape (None, T), got input "
                                      << feature_shape_str(in));
  EMBER_CHECK_ARG(opts_.input_length <= 0 || in[0] < 0 || in[0] == opts_.input_length,
                  "Embedding: input_length " << opts_.input_length << " does not match the input "
                                             << feature_shape_str(in));
  return {in[0], opts_.output_dim};
}

void Embedding::build(const FeatureShape& in, DType dt, InitRng& rng) {
  output_shape(in);  // validates
  EMBER_CHECK_ARG(params_.empty(), "Embedding '" << name << "' is already built");
  Tensor w = Tensor::empty(Shape{opts_.input_dim, opts_.output_dim}, dt);
  InitRng r = rng.fork(0);  // one sub-stream per parameter
  initialize(w, opts_.embeddings_initializer, r);
  add_param("embeddings", std::move(w));
}

LayerIO Embedding::forward(const LayerIO& in, const RunContext&) {
  EMBER_CHECK_ARG(!params_.empty(), "Embedding '" << name << "': forward before build");
  EMBER_CHECK_ARG(in.x.defined(), "Embedding: input is undefined");
  const Tensor& ids = in.x.value();
  EMBER_CHECK_ARG(ids.dtype() == DType::kInt32 && ids.ndim() == 2,
                  "Embedding expects int32 token ids [B,T], got " << ids.str());
  LayerIO out;
  out.x = fn::embedding(params_[0].var, ids);
  if (opts_.mask_zero) {
    // Built where the ids are: on a GPU by a kernel, so mask_zero adds no host round trip.
    Tensor mask = Tensor::empty(ids.shape(), DType::kUInt8, ids.device());
    kern::nonzero_mask(kern::Exec::of(ids, "Embedding", "ids"), ids.data<int32_t>(),
                       mask.data<uint8_t>(), ids.numel());
    out.mask = mask;
  }
  return out;
}

}  // namespace ember
