// The typed form of a config file (DESIGN.md's schema, Keras names). engine/parse
// (load_config.h) parses YAML into it and validates every key: an unknown key, a wrong type or a
// missing value is a ConfigError naming file:line:column and the key path (e.g.
// "model[2].LSTM.units").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/config/layer_options.h"
#include "engine/data/reader.h"    // data::TableFormat, TextEncoding, BadRows
#include "engine/data/sequence.h"  // PadSide
#include "engine/data/tokenizer_options.h"

namespace ember {

class ConfigError : public Error {
 public:
  using Error::Error;
};

// Where a value came from, for error messages after parsing (e.g. incompatible layers).
struct SourceLoc {
  std::string file;
  int line = 0;             // 1-based
  int column = 0;           // 1-based
  std::string str() const;  // "configs/a.yaml:12:5"
};

// The engine's deterministic word-order dataset (engine/pipeline/synthetic.h).
struct SyntheticConfig {
  int64_t n_train = 4000;
  int64_t n_val = 1000;
  int64_t n_test = 1000;
  int64_t maxlen = 20;  // texts are 4..maxlen tokens long
  uint64_t seed = 7;
};

// One file (or the rows of one file that a filter keeps). Top-level data keys are defaults:
// the parser copies them into every source that does not set its own, so a DataSource is
// complete and the loader never looks at the defaults again.
struct DataSource {
  std::string file;  // relative to the data directory (or absolute)
  data::TableFormat format = data::TableFormat::kCsv;
  bool header = true;                         // default: true for csv/tsv, false for lines
  std::string text_column = "text";           // a header name, or a column number ("5")
  std::string label_column = "label";         // the same; unused when `label` is set
  std::optional<std::string> label;           // the raw label of every row (needed by format lines)
  std::map<std::string, std::string> filter;  // keep rows whose column equals the value
  data::TextEncoding encoding = data::TextEncoding::kUtf8;
  data::BadRows on_bad_row = data::BadRows::kError;
  std::string path;  // key path for messages: "data.train[1]"
  SourceLoc loc;
};

// A further test set (data.extra_tests), evaluated after training beside data.test.
struct NamedSources {
  std::string name;  // [A-Za-z0-9_-]+; names its output files (<name>_metrics.json, ...)
  std::vector<DataSource> sources;
  SourceLoc loc;
};

struct DataConfig {
  std::optional<SyntheticConfig> synthetic;
  // Real datasets. A test or validation map without `file` holds copies of the train sources
  // with its own keys (usually just a filter) laid over them.
  std::vector<DataSource> train;
  std::vector<DataSource> test;
  std::vector<DataSource> validation;
  double test_split = 0.0;  // stratified fraction of train held out as test
  // Stratified fraction of the training rows (after test_split) held out for validation,
  // before the tokenizer is fitted: unlike train.validation_split (Keras's last rows), it
  // works on files in class order, and the vocabulary never sees the validation rows.
  double validation_split = 0.0;
  std::vector<NamedSources> extra_tests;
  std::vector<std::string> labels;           // class names in id order ...
  std::map<std::string, int64_t> label_map;  // ... or raw label -> class id
  std::vector<std::string> drop_labels;      // raw labels whose rows are dropped (and counted)
  std::vector<std::string> clean;            // data::Cleaner step names, validated
  // The most MiB a data file may hold once decompressed: a gzip/xz bomb is refused naming
  // the file instead of exhausting memory. The largest seed dataset is about 240 MiB.
  int64_t max_file_mb = 2048;
  SourceLoc loc;         // the `data:` section
  SourceLoc labels_loc;  // `labels` (or the section when absent)
  bool real() const { return !train.empty(); }
};

struct SequenceConfig {
  int64_t maxlen = 0;  // required for a model
  PadSide padding = PadSide::kPre;
  PadSide truncating = PadSide::kPre;
  int64_t value = 0;
};

// One entry of `model:`. `type` is the Keras class name as written (GlobalMaxPool1D and
// GlobalMaxPooling1D both map to GlobalMaxPooling1D).
struct LayerConfig {
  std::string type;
  std::string name;      // optional user name; empty = Keras-style default
  LayerOptions options;  // monostate: layers without arguments (GlobalMaxPooling1D)
  SourceLoc loc;
};

// train.loss, parsed once into the enum; loss_name gives the config's spelling back.
enum class Loss { kBinaryCrossentropy, kSparseCategoricalCrossentropy };
const char* loss_name(Loss l);  // "binary_crossentropy", "sparse_categorical_crossentropy"

struct LossConfig {
  Loss name = Loss::kBinaryCrossentropy;
  bool from_logits = false;
  // tf_keras 2.x's choice of logits or clipped probabilities, to the case (trainer.cpp,
  // Trainer::batch_loss). false: a sigmoid/softmax output's loss always uses its logits.
  bool keras_exact = false;
};

// train.optimizer's name, parsed once (any case, as Keras accepts "Adam");
// optimizer_name gives the lower-case spelling, "adam" or "sgd".
enum class OptimizerKind { kAdam, kSgd };
const char* optimizer_name(OptimizerKind k);

struct OptimizerConfig {
  OptimizerKind name = OptimizerKind::kAdam;
  double learning_rate = -1;                            // -1: Keras default (adam 1e-3, sgd 1e-2)
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam
  double momentum = 0.0;                                // sgd
  bool nesterov = false;                                // sgd
  std::optional<double> clipnorm;                       // per-parameter norm clip
  std::optional<double> global_clipnorm;                // clip all gradients by their global norm
  double lr() const {
    return learning_rate >= 0 ? learning_rate : (name == OptimizerKind::kSgd ? 0.01 : 1e-3);
  }
};

// A callback's Keras class; callback_name gives the name as written ("EarlyStopping", ...).
enum class CallbackKind { kEarlyStopping, kReduceLROnPlateau, kModelCheckpoint, kStopAtThreshold };
const char* callback_name(CallbackKind k);
// A callback's `mode`: auto (Keras decides from the monitor's name) | min | max.
enum class MonitorMode { kAuto, kMin, kMax };
const char* monitor_mode_name(MonitorMode m);

// A callback entry: its kind, its mode, and its other arguments (monitor, patience, ...) as
// checked strings for the trainer.
struct CallbackConfig {
  CallbackKind type = CallbackKind::kEarlyStopping;
  MonitorMode mode = MonitorMode::kAuto;  // `mode`, for the callbacks that take one
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
  bool bucket_by_length = false;  // batch rows of similar length together (engine/data/batches.h)
  bool log_grad_norm = false;     // losses.csv gains each step's global gradient norm
  std::vector<std::string> metrics{"accuracy"};
  std::vector<CallbackConfig> callbacks;
  std::string class_weight;                 // "" | balanced
  std::map<int64_t, double> class_weights;  // explicit
};

struct Config {
  std::string path;  // the file it came from
  std::string text;  // the YAML it was parsed from (a bundle embeds it)
  std::string name = "run";
  uint64_t seed = 1337;
  DataConfig data;
  TokenizerConfig tokenizer;
  SequenceConfig sequence;
  std::vector<LayerConfig> model;
  TrainConfig train;
};

}  // namespace ember
