// The layer table of layers/registry.h, and each type's argument parser. Argument names and
// defaults are Keras's; a parser checks values only (units > 0, rates in [0, 1), known
// names): whether the layers fit together is Model::build's job, which knows the shapes.
// A required argument that is missing points at the argument map (LayerArgs::at).
#include "layers/registry.h"

#include <algorithm>

#include "engine/config/config_reader.h"
#include "engine/core/initializers.h"
#include "layers/bidirectional.h"
#include "layers/dense.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/functional.h"
#include "layers/lstm.h"
#include "layers/pooling.h"

namespace ember {

namespace {

using config_detail::closest;
using config_detail::Entry;
using config_detail::kRate;
using config_detail::LayerArgs;
using config_detail::Reader;

const std::vector<std::string> kActivations = {"linear", "relu",    "sigmoid",
                                               "tanh",   "softmax", "None"};

// Keras accepts activation=None for linear; in YAML that is `null` or the string None.
fn::Activation activation(const Reader& r, const Entry& e) {
  if (e.value.IsNull()) return fn::Activation::kLinear;
  return fn::parse_activation(r.choice(e, kActivations));  // maps None to kLinear
}

std::string initializer(const Reader& r, const Entry& e) {
  std::string s = r.str(e);
  if (!is_known_initializer(s)) {
    // Keras's initializer names, narrowed to those engine/core/initializers.cpp implements, so the
    // message never offers one that would fail too.
    std::vector<std::string> known;
    for (const char* k :
         {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
          "lecun_normal", "orthogonal", "uniform", "random_uniform", "random_normal",
          "truncated_normal", "zeros", "ones", "identity"})
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

[[noreturn]] void missing(const LayerArgs& a, const char* key, const char* hint) {
  a.r.fail(a.at, a.path + "." + key, std::string("missing required value (") + hint + ")");
}

EmbeddingOptions parse_embedding(const LayerArgs& a) {
  const Reader& r = a.r;
  EmbeddingOptions o;
  bool has_in = false, has_out = false;
  for (const Entry& e : a.args) {
    if (e.key == "input_dim")
      o.input_dim = r.positive_int(e), has_in = true;
    else if (e.key == "output_dim")
      o.output_dim = r.positive_int(e), has_out = true;
    else if (e.key == "mask_zero")
      o.mask_zero = r.boolean(e);
    else if (e.key == "embeddings_initializer")
      o.embeddings_initializer = initializer(r, e);
    else if (e.key == "input_length")
      o.input_length = e.value.IsNull() ? -1 : r.positive_int(e);
  }
  if (!has_in) missing(a, "input_dim", "the vocabulary size, e.g. input_dim: 6000");
  if (!has_out) missing(a, "output_dim", "the embedding size, e.g. output_dim: 128");
  return o;
}

DropoutOptions parse_dropout(const LayerArgs& a) {
  const Reader& r = a.r;
  DropoutOptions o;
  bool has_rate = false;
  for (const Entry& e : a.args)
    if (e.key == "rate") o.rate = r.number(e, kRate), has_rate = true;
  if (!has_rate) missing(a, "rate", "the fraction to drop, e.g. rate: 0.2");
  return o;
}

DenseOptions parse_dense(const LayerArgs& a) {
  const Reader& r = a.r;
  DenseOptions o;
  bool has_units = false;
  for (const Entry& e : a.args) {
    if (e.key == "units")
      o.units = r.positive_int(e), has_units = true;
    else if (e.key == "activation")
      o.activation = activation(r, e);
    else if (e.key == "use_bias")
      o.use_bias = r.boolean(e);
    else if (e.key == "kernel_initializer")
      o.kernel_initializer = initializer(r, e);
    else if (e.key == "bias_initializer")
      o.bias_initializer = initializer(r, e);
  }
  if (!has_units) missing(a, "units", "the number of outputs, e.g. units: 1");
  return o;
}

ActivationOptions parse_activation(const LayerArgs& a) {
  const Reader& r = a.r;
  ActivationOptions o;
  bool has = false;
  for (const Entry& e : a.args)
    if (e.key == "activation") o.activation = activation(r, e), has = true;
  if (!has) missing(a, "activation", "e.g. activation: relu");
  return o;
}

LstmOptions parse_lstm(const LayerArgs& a) {
  const Reader& r = a.r;
  LstmOptions o;
  bool has_units = false;
  for (const Entry& e : a.args) {
    if (e.key == "units")
      o.units = r.positive_int(e), has_units = true;
    else if (e.key == "activation") {
      o.activation = activation(r, e);
      if (o.activation != fn::Activation::kTanh)
        r.fail(e, "only tanh is supported for an LSTM's activation");
    } else if (e.key == "recurrent_activation") {
      o.recurrent_activation = activation(r, e);
      if (o.recurrent_activation != fn::Activation::kSigmoid)
        r.fail(e, "only sigmoid is supported for an LSTM's recurrent_activation");
    } else if (e.key == "use_bias")
      o.use_bias = r.boolean(e);
    else if (e.key == "return_sequences")
      o.return_sequences = r.boolean(e);
    else if (e.key == "go_backwards")
      o.go_backwards = r.boolean(e);
    else if (e.key == "unit_forget_bias")
      o.unit_forget_bias = r.boolean(e);
    else if (e.key == "dropout")
      o.dropout = r.number(e, kRate);
    else if (e.key == "recurrent_dropout")
      o.recurrent_dropout = r.number(e, kRate);
    else if (e.key == "kernel_initializer")
      o.kernel_initializer = initializer(r, e);
    else if (e.key == "recurrent_initializer")
      o.recurrent_initializer = initializer(r, e);
    else if (e.key == "bias_initializer")
      o.bias_initializer = initializer(r, e);
    else if (e.key == "implementation")
      o.implementation =
          fn::parse_lstm_impl(r.choice(e, {"auto", "reference", "fused", "cudnn", "persistent"}));
  }
  if (!has_units) missing(a, "units", "the number of hidden units, e.g. units: 64");
  return o;
}

const std::vector<std::string> kLstmKeys = {"units",
                                            "activation",
                                            "recurrent_activation",
                                            "use_bias",
                                            "return_sequences",
                                            "go_backwards",
                                            "unit_forget_bias",
                                            "dropout",
                                            "recurrent_dropout",
                                            "kernel_initializer",
                                            "recurrent_initializer",
                                            "bias_initializer",
                                            "implementation"};

BidirectionalOptions parse_bidirectional(const LayerArgs& a) {
  const Reader& r = a.r;
  BidirectionalOptions o;
  bool has_layer = false;
  for (const Entry& e : a.args) {
    if (e.key == "merge_mode") {
      o.merge_mode = parse_merge_mode(r.choice(e, {"concat", "sum", "mul", "ave"}));
    } else if (e.key == "layer") {
      Entry t = r.single_key(e, "the wrapped layer");
      if (t.key != "LSTM") {
        std::string msg = "only an LSTM can be wrapped, got '" + t.key + "'";
        if (closest(t.key, {"LSTM"}) == "LSTM") msg += "; did you mean 'LSTM'?";
        r.fail(t.key_node.Mark(), e.path, msg);
      }
      std::string inner = e.path + ".LSTM";
      YAML::Mark inner_at = t.value.IsMap() ? t.value.Mark() : t.key_node.Mark();
      const std::vector<Entry> inner_args = r.entries(t.value, inner_at, inner, kLstmKeys);
      o.layer = parse_lstm({r, inner_args, inner_at, inner});
      has_layer = true;
    }
  }
  if (!has_layer) missing(a, "layer", "the wrapped layer, e.g. layer: {LSTM: {units: 64}}");
  return o;
}

// The registry's adapters: a parser returning its own options type, and a constructor from
// options of the layer's kind (or none).
template <auto Parse>
LayerOptions parse_with(const LayerArgs& a) {
  return Parse(a);
}
LayerOptions no_args(const LayerArgs&) {
  return std::monostate{};
}

std::string where(const SourceLoc& loc) {
  return loc.file.empty() ? "" : loc.str() + ": ";
}

template <class L, class Options>
std::unique_ptr<Layer> make_with(const LayerConfig& lc) {
  const Options* o = std::get_if<Options>(&lc.options);
  if (!o) throw ConfigError(where(lc.loc) + lc.type + ": options of the wrong kind for this layer");
  return std::make_unique<L>(*o);
}
template <class L>
std::unique_ptr<Layer> make_plain(const LayerConfig&) {
  return std::make_unique<L>();
}

}  // namespace

// The one table. Order: as error messages list the types (and as closest() breaks ties).
const std::vector<LayerType>& layer_types() {
  static const std::vector<LayerType> kTypes = {
      {"Embedding",
       {"input_dim", "output_dim", "mask_zero", "embeddings_initializer", "input_length"},
       parse_with<parse_embedding>,
       make_with<Embedding, EmbeddingOptions>},
      {"SpatialDropout1D",
       {"rate"},
       parse_with<parse_dropout>,
       make_with<SpatialDropout1D, DropoutOptions>},
      {"Dropout", {"rate"}, parse_with<parse_dropout>, make_with<Dropout, DropoutOptions>},
      {"Dense",
       {"units", "activation", "use_bias", "kernel_initializer", "bias_initializer"},
       parse_with<parse_dense>,
       make_with<Dense, DenseOptions>},
      {"Activation",
       {"activation"},
       parse_with<parse_activation>,
       make_with<ActivationLayer, ActivationOptions>},
      {"LSTM", kLstmKeys, parse_with<parse_lstm>, make_with<LSTM, LstmOptions>},
      {"Bidirectional",
       {"layer", "merge_mode"},
       parse_with<parse_bidirectional>,
       make_with<Bidirectional, BidirectionalOptions>},
      {"GlobalMaxPooling1D", {}, no_args, make_plain<GlobalMaxPooling1D>},
      {"GlobalMaxPool1D", {}, no_args, make_plain<GlobalMaxPooling1D>},  // Keras's alias
  };
  return kTypes;
}

std::vector<std::string> layer_type_names() {
  std::vector<std::string> names;
  for (const LayerType& t : layer_types()) names.push_back(t.name);
  return names;
}

const LayerType* find_layer_type(const std::string& name) {
  for (const LayerType& t : layer_types())
    if (name == t.name) return &t;
  return nullptr;
}

}  // namespace ember
