// The `model:` section: a list of single-key maps `- LSTM: {units: 100, dropout: 0.5}` (or a
// bare `- GlobalMaxPooling1D`) read into LayerConfig with the typed options of
// engine/config/layer_options.h. Argument names and defaults are Keras's; each layer type lists the
// keys it accepts, so a typo is caught here with a suggestion instead of being ignored.
// Only values are checked here (units > 0, rates in [0, 1), known names); whether the layers
// fit together is checked by the model builder, which knows the shapes.
#include <algorithm>
#include <regex>

#include "engine/config/config_reader.h"
#include "engine/core/initializers.h"

namespace ember::config_detail {
namespace {

const std::vector<std::string> kLayerTypes = {
    "Embedding", "SpatialDropout1D", "Dropout",       "Dense",          "Activation",
    "LSTM",      "Bidirectional",    "GlobalMaxPooling1D", "GlobalMaxPool1D"};
const std::vector<std::string> kActivations = {"linear", "relu", "sigmoid", "tanh", "softmax",
                                               "None"};

// Keras accepts activation=None for linear; in YAML that is `null` or the string None.
std::string activation(const Reader& r, const Entry& e) {
  if (e.value.IsNull()) return "linear";
  std::string a = r.choice(e, kActivations);
  return a == "None" ? "linear" : a;
}

std::string initializer(const Reader& r, const Entry& e) {
  std::string s = r.str(e);
  if (!is_known_initializer(s)) {
    // Keras's initializer names, narrowed to those engine/core/initializers.cpp implements, so the
    // message never offers one that would fail too.
    std::vector<std::string> known;
    for (const char* k : {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                          "lecun_uniform", "lecun_normal", "orthogonal", "uniform",
                          "random_uniform", "random_normal", "truncated_normal", "zeros", "ones",
                          "identity"})
      if (is_known_initializer(k)) known.push_back(k);
    std::string msg = "unknown initializer \"" + s + "\"";
    std::string near = closest(s, known);
    if (!near.empty()) {
      msg += "; did you mean '" + near + "'?";
    } else {
      msg += " (known:";
      for (size_t i = 0; i < known.size(); ++i) msg += (i ? ", " : " ") + known[i];
      msg += ")";
    }
    r.fail(e, msg);
  }
  return s;
}

[[noreturn]] void missing(const Reader& r, const YAML::Mark& at, const std::string& path,
                          const char* key, const char* hint) {
  r.fail(at, path + "." + key, std::string("missing required value (") + hint + ")");
}

std::string layer_name(const Reader& r, const Entry& e) {
  static const std::regex kName("[A-Za-z0-9_.-]+");
  std::string s = r.str(e);
  if (!std::regex_match(s, kName))
    r.fail(e, "a layer name may use letters, digits, '_', '.' and '-' only, got \"" + s + "\"");
  return s;
}

EmbeddingOptions parse_embedding(const Reader& r, const std::vector<Entry>& args,
                                 const YAML::Mark& at, const std::string& path) {
  EmbeddingOptions o;
  bool has_in = false, has_out = false;
  for (const Entry& e : args) {
    if (e.key == "input_dim") o.input_dim = r.positive_int(e), has_in = true;
    else if (e.key == "output_dim") o.output_dim = r.positive_int(e), has_out = true;
    else if (e.key == "mask_zero") o.mask_zero = r.boolean(e);
    else if (e.key == "embeddings_initializer") o.embeddings_initializer = initializer(r, e);
    else if (e.key == "input_length") o.input_length = e.value.IsNull() ? -1 : r.positive_int(e);
  }
  if (!has_in) missing(r, at, path, "input_dim", "the vocabulary size, e.g. input_dim: 6000");
  if (!has_out) missing(r, at, path, "output_dim", "the embedding size, e.g. output_dim: 128");
  return o;
}

DropoutOptions parse_dropout(const Reader& r, const std::vector<Entry>& args,
                             const YAML::Mark& at, const std::string& path) {
  DropoutOptions o;
  bool has_rate = false;
  for (const Entry& e : args)
    if (e.key == "rate") o.rate = r.number(e, kRate), has_rate = true;
  if (!has_rate) missing(r, at, path, "rate", "the fraction to drop, e.g. rate: 0.2");
  return o;
}

DenseOptions parse_dense(const Reader& r, const std::vector<Entry>& args, const YAML::Mark& at,
                         const std::string& path) {
  DenseOptions o;
  bool has_units = false;
  for (const Entry& e : args) {
    if (e.key == "units") o.units = r.positive_int(e), has_units = true;
    else if (e.key == "activation") o.activation = activation(r, e);
    else if (e.key == "use_bias") o.use_bias = r.boolean(e);
    else if (e.key == "kernel_initializer") o.kernel_initializer = initializer(r, e);
    else if (e.key == "bias_initializer") o.bias_initializer = initializer(r, e);
  }
  if (!has_units) missing(r, at, path, "units", "the number of outputs, e.g. units: 1");
  return o;
}

ActivationOptions parse_activation(const Reader& r, const std::vector<Entry>& args,
                                   const YAML::Mark& at, const std::string& path) {
  ActivationOptions o;
  bool has = false;
  for (const Entry& e : args)
    if (e.key == "activation") o.activation = activation(r, e), has = true;
  if (!has) missing(r, at, path, "activation", "e.g. activation: relu");
  return o;
}

LstmOptions parse_lstm(const Reader& r, const std::vector<Entry>& args, const YAML::Mark& at,
                       const std::string& path) {
  LstmOptions o;
  bool has_units = false;
  for (const Entry& e : args) {
    if (e.key == "units") o.units = r.positive_int(e), has_units = true;
    else if (e.key == "activation") {
      o.activation = activation(r, e);
      if (o.activation != "tanh") r.fail(e, "only tanh is supported for an LSTM's activation");
    } else if (e.key == "recurrent_activation") {
      o.recurrent_activation = activation(r, e);
      if (o.recurrent_activation != "sigmoid")
        r.fail(e, "only sigmoid is supported for an LSTM's recurrent_activation");
    } else if (e.key == "use_bias") o.use_bias = r.boolean(e);
    else if (e.key == "return_sequences") o.return_sequences = r.boolean(e);
    else if (e.key == "go_backwards") o.go_backwards = r.boolean(e);
    else if (e.key == "unit_forget_bias") o.unit_forget_bias = r.boolean(e);
    else if (e.key == "dropout") o.dropout = r.number(e, kRate);
    else if (e.key == "recurrent_dropout") o.recurrent_dropout = r.number(e, kRate);
    else if (e.key == "kernel_initializer") o.kernel_initializer = initializer(r, e);
    else if (e.key == "recurrent_initializer") o.recurrent_initializer = initializer(r, e);
    else if (e.key == "bias_initializer") o.bias_initializer = initializer(r, e);
    else if (e.key == "implementation")
      o.implementation = r.choice(e, {"auto", "reference", "fused", "cudnn", "persistent"});
  }
  if (!has_units) missing(r, at, path, "units", "the number of hidden units, e.g. units: 64");
  return o;
}

const std::vector<std::string> kLstmKeys = {
    "units",          "activation",        "recurrent_activation", "use_bias",
    "return_sequences", "go_backwards",    "unit_forget_bias",     "dropout",
    "recurrent_dropout", "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "implementation"};

// Keys each layer type accepts; "name" is added for every top-level layer.
std::vector<std::string> keys_of(const std::string& type) {
  if (type == "Embedding")
    return {"input_dim", "output_dim", "mask_zero", "embeddings_initializer", "input_length"};
  if (type == "SpatialDropout1D" || type == "Dropout") return {"rate"};
  if (type == "Dense")
    return {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"};
  if (type == "Activation") return {"activation"};
  if (type == "LSTM") return kLstmKeys;
  if (type == "Bidirectional") return {"layer", "merge_mode"};
  return {};  // GlobalMaxPooling1D / GlobalMaxPool1D
}

BidirectionalOptions parse_bidirectional(const Reader& r, const std::vector<Entry>& args,
                                         const YAML::Mark& at, const std::string& path) {
  BidirectionalOptions o;
  bool has_layer = false;
  for (const Entry& e : args) {
    if (e.key == "merge_mode") {
      o.merge_mode = r.choice(e, {"concat", "sum", "mul", "ave"});
    } else if (e.key == "layer") {
      Entry t = r.single_key(e, "the wrapped layer");
      if (t.key != "LSTM") {
        std::string msg = "only an LSTM can be wrapped, got '" + t.key + "'";
        if (closest(t.key, {"LSTM"}) == "LSTM") msg += "; did you mean 'LSTM'?";
        r.fail(t.key_node.Mark(), e.path, msg);
      }
      std::string inner = e.path + ".LSTM";
      YAML::Mark inner_at = t.value.IsMap() ? t.value.Mark() : t.key_node.Mark();
      o.layer = parse_lstm(r, r.entries(t.value, inner_at, inner, kLstmKeys), inner_at, inner);
      has_layer = true;
    }
  }
  if (!has_layer)
    missing(r, at, path, "layer", "the wrapped layer, e.g. layer: {LSTM: {units: 64}}");
  return o;
}

LayerConfig parse_layer(const Reader& r, const Entry& item) {
  LayerConfig lc;
  lc.loc = r.loc(item.where());
  Entry t = r.single_key(item, "a layer");
  if (std::find(kLayerTypes.begin(), kLayerTypes.end(), t.key) == kLayerTypes.end()) {
    std::string msg = "unknown layer type '" + t.key + "'";
    std::string near = closest(t.key, kLayerTypes);
    if (!near.empty()) msg += "; did you mean '" + near + "'?";
    else {
      msg += " (known: ";
      for (size_t i = 0; i < kLayerTypes.size(); ++i) msg += (i ? ", " : "") + kLayerTypes[i];
      msg += ")";
    }
    r.fail(t.key_node.Mark(), item.path, msg);
  }
  lc.type = t.key;
  const std::string path = item.path + "." + t.key;
  // Missing required arguments point at the argument map, or at the type when there is none.
  const YAML::Mark at = t.value.IsMap() ? t.value.Mark() : t.key_node.Mark();
  std::vector<std::string> keys = keys_of(t.key);
  keys.push_back("name");
  std::vector<Entry> args = r.entries(t.value, at, path, keys);
  for (const Entry& e : args)
    if (e.key == "name") lc.name = layer_name(r, e);

  if (t.key == "Embedding") lc.options = parse_embedding(r, args, at, path);
  else if (t.key == "SpatialDropout1D" || t.key == "Dropout")
    lc.options = parse_dropout(r, args, at, path);
  else if (t.key == "Dense") lc.options = parse_dense(r, args, at, path);
  else if (t.key == "Activation") lc.options = parse_activation(r, args, at, path);
  else if (t.key == "LSTM") lc.options = parse_lstm(r, args, at, path);
  else if (t.key == "Bidirectional") lc.options = parse_bidirectional(r, args, at, path);
  else lc.options = std::monostate{};
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
