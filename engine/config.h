// The typed form of a config file (DESIGN.md's schema, Keras names). engine/config.cpp parses
// YAML into it and validates every key: an unknown key, a wrong type or a missing value is a
// ConfigError naming file:line:column and the key path (e.g. "model[2].LSTM.units").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/check.h"
#include "layers/layer_options.h"

namespace ember {

class ConfigError : public Error {
 public:
  using Error::Error;
};

// Where a value came from, for error messages after parsing (e.g. incompatible layers).
struct SourceLoc {
  std::string file;
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string str() const;  // "configs/a.yaml:12:5"
};

// The engine's deterministic word-order dataset (engine/synthetic.h).
struct SyntheticConfig {
  int64_t n_train = 4000;
  int64_t n_val = 1000;
  int64_t n_test = 1000;
  int64_t maxlen = 20;  // texts are 4..maxlen tokens long
  uint64_t seed = 7;
};

struct DataConfig {
  std::optional<SyntheticConfig> synthetic;
  // Real datasets (read by the text pipeline): paths relative to the data directory.
  std::string train;
  std::string format = "csv";  // csv | tsv | lines
  std::map<std::string, std::string> filter;
  std::string text_column = "text";
  std::string label_column = "label";
  std::vector<std::string> labels;              // class ids in this order ...
  std::map<std::string, int64_t> label_map;     // ... or an explicit map
  std::string test;                             // a file of its own
  std::map<std::string, std::string> test_filter;
  double test_split = 0.0;                      // stratified split of train
  std::string validation;                       // a file of its own (e.g. Igbo dev)
  std::vector<std::string> clean;
  std::string encoding = "utf-8";
  std::string on_bad_row = "error";             // error | skip
  std::optional<int64_t> label;                 // for format: lines
  SourceLoc loc;
};

struct TokenizerConfig {
  std::optional<int64_t> num_words;
  std::optional<std::string> oov_token;
  std::string filters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
  bool lower = true;
  std::string split = " ";
  bool char_level = false;
};

struct SequenceConfig {
  int64_t maxlen = 0;  // required for a model
  std::string padding = "pre";     // pre | post
  std::string truncating = "pre";  // pre | post
  int64_t value = 0;
};

// One entry of `model:`. `type` is the Keras class name as written (GlobalMaxPool1D and
// GlobalMaxPooling1D both map to GlobalMaxPooling1D).
struct LayerConfig {
  std::string type;
  std::string name;  // optional user name; empty = Keras-style default
  std::variant<EmbeddingOptions, DropoutOptions, DenseOptions, ActivationOptions, LstmOptions,
               BidirectionalOptions, std::monostate>
      options;     // monostate: layers without arguments (GlobalMaxPooling1D)
  SourceLoc loc;
};

struct LossConfig {
  std::string name = "binary_crossentropy";  // | sparse_categorical_crossentropy
  bool from_logits = false;
};

struct OptimizerConfig {
  std::string name = "adam";  // adam | sgd
  double learning_rate = -1;  // -1: Keras default (adam 1e-3, sgd 1e-2)
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam
  double momentum = 0.0;                                // sgd
  bool nesterov = false;                                // sgd
  std::optional<double> clipnorm;         // per-parameter norm clip
  std::optional<double> global_clipnorm;  // clip all gradients by their global norm
  double lr() const { return learning_rate >= 0 ? learning_rate : (name == "sgd" ? 0.01 : 1e-3); }
};

// A callback entry, kept as its Keras name and arguments (monitor, patience, ...).
struct CallbackConfig {
  std::string type;  // EarlyStopping | ReduceLROnPlateau | ModelCheckpoint | StopAtThreshold
  std::map<std::string, std::string> args;
  SourceLoc loc;
};

struct TrainConfig {
  LossConfig loss;
  OptimizerConfig optimizer;
  int64_t epochs = 1;
  int64_t batch_size = 32;
  double validation_split = 0.0;
  bool shuffle = true;
  std::vector<std::string> metrics{"accuracy"};
  std::vector<CallbackConfig> callbacks;
  std::string class_weight;  // "" | balanced
  std::map<int64_t, double> class_weights;  // explicit
};

struct Config {
  std::string path;  // the file it came from
  std::string name = "run";
  uint64_t seed = 1337;
  DataConfig data;
  TokenizerConfig tokenizer;
  SequenceConfig sequence;
  std::vector<LayerConfig> model;
  TrainConfig train;
};

// Parses and validates a config file. Throws ConfigError (file:line:column, key path).
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& file_name);

}  // namespace ember
