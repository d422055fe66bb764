// The `model:` section: a list of single-key maps `- LSTM: {units: 100, dropout: 0.5}` (or a
// bare `- GlobalMaxPooling1D`) read into LayerConfig with the typed options of
// engine/config/layer_options.h. The layer registry (layers/registry.h) says which types exist, the
// keys each accepts (so a typo is caught here with a suggestion instead of being ignored) and
// parses their values; this file handles what every layer shares: the type, `name`, the list.
#include <regex>

#include "engine/config/config_reader.h"
#include "engine/parse/sections.h"
#include "layers/registry.h"

namespace ember::config_detail {
namespace {

std::string layer_name(const Reader& r, const Entry& e) {
  static const std::regex kName("[A-Za-z0-9_.-]+");
  std::string s = r.str(e);
  if (!std::regex_match(s, kName))
    r.fail(e, "a layer name may use letters, digits, '_', '.' and '-' only, got \"" + s + "\"");
  return s;
}

LayerConfig parse_layer(const Reader& r, const Entry& item) {
  LayerConfig lc;
  lc.loc = r.loc(item.where());
  Entry t = r.single_key(item, "a layer");
  const LayerType* type = find_layer_type(t.key);
  if (!type) {
    const std::vector<std::string> known = layer_type_names();
    std::string msg = "unknown layer type '" + t.key + "'";
    std::string near = closest(t.key, known);
    if (!near.empty())
      msg += "; did you mean '" + near + "'?";
    else {
      msg += " (known: ";
      for (size_t i = 0; i < known.size(); ++i) msg += (i ? ", " : "") + known[i];
      msg += ")";
    }
    r.fail(t.key_node.Mark(), item.path, msg);
  }
  lc.type = t.key;
  const std::string path = item.path + "." + t.key;
  // Missing required arguments point at the argument map, or at the type when there is none.
  const YAML::Mark at = t.value.IsMap() ? t.value.Mark() : t.key_node.Mark();
  std::vector<std::string> keys = type->keys;
  keys.push_back("name");
  std::vector<Entry> args = r.entries(t.value, at, path, keys);
  for (const Entry& e : args)
    if (e.key == "name") lc.name = layer_name(r, e);
  lc.options = type->parse({r, args, at, path});
  return lc;
}

}  // namespace

std::vector<LayerConfig> parse_model(const Reader& r, const Entry& model) {
  std::vector<LayerConfig> layers;
  if (!model.value.IsSequence())
    r.type_error(model, "a list of layers (- Embedding: {input_dim: 6000, output_dim: 128})");
  for (const Entry& item : r.items(model)) layers.push_back(parse_layer(r, item));
  if (layers.empty()) r.fail(model, "expected at least one layer");
  return layers;
}

}  // namespace ember::config_detail
