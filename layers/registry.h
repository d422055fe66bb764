// The layer registry: every layer type a config may name, each in ONE entry of the table in
// layers/registry.cpp holding its Keras class name as written in YAML, the argument keys it
// accepts, its argument parser (YAML -> the typed options of engine/config/layer_options.h, values
// checked) and its constructor. The config parser (engine/parse/model_section.cpp) asks the
// registry which types and keys exist and lets the entry parse; the builder
// (layers/builder.cpp) lets it construct. Adding a layer is one entry there (see
// docs/ARCHITECTURE.md, "Adding a layer").
//
// Layering: this header needs neither yaml-cpp nor engine/config/config.h (LayerConfig and the
// parser's LayerArgs are only declared), so including it adds no edge from layers/ to the
// config parser; registry.cpp itself reads YAML through engine/config/config_reader.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/config/layer_options.h"

namespace ember {

class Layer;
struct LayerConfig;  // engine/config/config.h
namespace config_detail {
struct LayerArgs;  // engine/config/config_reader.h
}  // namespace config_detail

struct LayerType {
  const char* name;               // "LSTM"; an alias is its own entry (GlobalMaxPool1D)
  std::vector<std::string> keys;  // argument keys; "name" is accepted for every layer besides
  // The options from the layer's arguments; throws ConfigError (file:line:column, key path).
  LayerOptions (*parse)(const config_detail::LayerArgs& a);
  // The layer from its config entry (unnamed; Model::add names it). Throws ConfigError when
  // the options are of another layer's kind, std::invalid_argument from the constructor.
  std::unique_ptr<Layer> (*make)(const LayerConfig& lc);
};

// Every type, in the order messages list them ("known: Embedding, SpatialDropout1D, ...").
const std::vector<LayerType>& layer_types();
std::vector<std::string> layer_type_names();
// The entry named `name` (case-sensitive, as written), or null.
const LayerType* find_layer_type(const std::string& name);

}  // namespace ember
