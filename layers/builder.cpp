// Config -> Model. The parser has already checked values, so the layer constructors'
// own checks only fire for configs built in code; either way the error names the layer's
// location in the config. Shape compatibility is Model::build's job.
#include "layers/builder.h"

#include <stdexcept>

#include "layers/registry.h"

namespace ember {

namespace {

std::string where(const SourceLoc& loc) {
  return loc.file.empty() ? "" : loc.str() + ": ";
}

// The registry's constructor for lc.type (layers/registry.h).
std::unique_ptr<Layer> construct(const LayerConfig& lc) {
  const LayerType* type = find_layer_type(lc.type);
  if (!type) throw ConfigError(where(lc.loc) + "unknown layer type '" + lc.type + "'");
  return type->make(lc);
}

}  // namespace

std::unique_ptr<Layer> make_layer(const LayerConfig& lc) {
  try {
    return construct(lc);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(where(lc.loc) + lc.type + ": " + e.what());
  }
}

Model build_model(const Config& cfg, DType dt) {
  if (cfg.model.empty()) throw ConfigError(cfg.path + ": the config has no `model:` section");
  const int64_t maxlen = cfg.sequence.maxlen;
  if (maxlen <= 0) throw ConfigError(cfg.path + ": sequence.maxlen: required to build a model");
  Model model(cfg.name);
  for (size_t i = 0; i < cfg.model.size(); ++i) {
    const LayerConfig& lc = cfg.model[i];
    if (const auto* emb = std::get_if<EmbeddingOptions>(&lc.options)) {
      if (emb->input_length >= 0 && emb->input_length != maxlen)
        throw ConfigError(where(lc.loc) + "model[" + std::to_string(i) +
                          "].Embedding.input_length: " + std::to_string(emb->input_length) +
                          " does not match sequence.maxlen " + std::to_string(maxlen));
    }
    std::unique_ptr<Layer> layer = make_layer(lc);
    layer->name = lc.name;
    model.add(std::move(layer), lc.loc);
  }
  model.build(maxlen, dt, cfg.seed);
  return model;
}

}  // namespace ember
