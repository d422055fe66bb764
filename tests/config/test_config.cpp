// Config parsing: a full DESIGN.md-style file lands in the typed fields, the short forms
// (loss and optimizer as names, bare layer names) work, and every kind of mistake is a
// ConfigError whose message starts with the exact "file:line:column:" and key path.
// Positions in the expected messages are counted by hand from the YAML literals below.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "tests/support/test_util.h"

using namespace ember;

namespace {

const char* kFile = "configs/x.yaml";

// A valid prefix for model tests: the error lines below count from here (model on line 2).
const std::string kModelHead =
    "sequence: {maxlen: 10}\n"                           // line 1
    "model:\n"                                           // line 2
    "  - Embedding: {input_dim: 100, output_dim: 8}\n";  // line 3

}  // namespace

TEST_CASE("a full config parses into the typed fields", "[config]") {
  const std::string yaml = R"(name: imdb_model_b
seed: 1234
data:
  train: imdb/imdb_50k.csv.xz
  format: csv
  filter: {split: train}
  text_column: review
  label_column: sentiment
  labels: [negative, positive]
  test: {filter: {split: test}}
  clean: [strip_html, remove_punctuation, remove_digits, lowercase, remove_stopwords]
  encoding: latin-1
  on_bad_row: skip
tokenizer: {num_words: 6000, oov_token: null, lower: false, split: " ", char_level: false}
sequence: {maxlen: 370, padding: post, truncating: pre, value: 0}
model:
  - Embedding: {input_dim: 6000, output_dim: 128, mask_zero: true, input_length: 370}
  - SpatialDropout1D: {rate: 0.25}
  - LSTM: {units: 100, dropout: 0.5, recurrent_dropout: 0.1, return_sequences: true,
           implementation: reference, name: encoder}
  - GlobalMaxPool1D
  - Dropout: {rate: 0.5}
  - Dense: {units: 16, activation: None, use_bias: false, kernel_initializer: zeros}
  - Activation: {activation: relu}
  - Dense: {units: 1, activation: sigmoid}
train:
  loss: {name: sparse_categorical_crossentropy, from_logits: true}
  optimizer: {name: sgd, learning_rate: 0.05, momentum: 0.9, nesterov: true, clipnorm: 1.0}
  epochs: 10
  batch_size: 64
  validation_split: 0.2
  shuffle: false
  metrics: [accuracy]
  callbacks:
    - EarlyStopping: {monitor: val_loss, patience: 3, restore_best_weights: True}
    - ReduceLROnPlateau: {factor: 0.5, patience: 2, min_lr: 1e-5}
    - ModelCheckpoint: {filepath: best.ember, save_best_only: true}
    - StopAtThreshold: {monitor: val_accuracy, threshold: 0.9}
  class_weight: {0: 1.5, "1": 0.5}
)";
  Config c = parse_config(yaml, kFile);
  CHECK(c.path == kFile);
  CHECK(c.name == "imdb_model_b");
  CHECK(c.seed == 1234);

  CHECK_FALSE(c.data.synthetic.has_value());
  REQUIRE(c.data.train.size() == 1);
  const DataSource& tr = c.data.train[0];
  CHECK(tr.file == "imdb/imdb_50k.csv.xz");
  CHECK(tr.format == data::TableFormat::kCsv);
  CHECK(tr.header);
  CHECK(tr.filter == std::map<std::string, std::string>{{"split", "train"}});
  CHECK(tr.text_column == "review");
  CHECK(tr.label_column == "sentiment");
  CHECK(tr.encoding == data::TextEncoding::kLatin1);
  CHECK(tr.on_bad_row == data::BadRows::kSkip);
  CHECK(c.data.labels == std::vector<std::string>{"negative", "positive"});
  // test: {filter: ...} is the train file with the test filter in place of the train one.
  REQUIRE(c.data.test.size() == 1);
  CHECK(c.data.test[0].file == "imdb/imdb_50k.csv.xz");
  CHECK(c.data.test[0].filter == std::map<std::string, std::string>{{"split", "test"}});
  CHECK(c.data.test[0].text_column == "review");
  CHECK(c.data.test[0].encoding == data::TextEncoding::kLatin1);
  CHECK(c.data.test[0].path == "data.test");
  CHECK(c.data.clean.size() == 5);
  CHECK(c.data.clean[4] == "remove_stopwords");
  CHECK(c.data.loc.str() == "configs/x.yaml:4:3");

  CHECK(c.tokenizer.num_words == 6000);
  CHECK_FALSE(c.tokenizer.oov_token.has_value());
  CHECK_FALSE(c.tokenizer.lower);
  CHECK(c.tokenizer.split == " ");

  CHECK(c.sequence.maxlen == 370);
  CHECK(c.sequence.padding == PadSide::kPost);
  CHECK(c.sequence.truncating == PadSide::kPre);

  REQUIRE(c.model.size() == 8);
  const auto& emb = std::get<EmbeddingOptions>(c.model[0].options);
  CHECK(c.model[0].type == "Embedding");
  CHECK(emb.input_dim == 6000);
  CHECK(emb.output_dim == 128);
  CHECK(emb.mask_zero);
  CHECK(emb.input_length == 370);
  CHECK(c.model[0].loc.str() == "configs/x.yaml:17:5");
  CHECK(std::get<DropoutOptions>(c.model[1].options).rate == 0.25);
  const auto& lstm = std::get<LstmOptions>(c.model[2].options);
  CHECK(lstm.units == 100);
  CHECK(lstm.dropout == 0.5);
  CHECK(lstm.recurrent_dropout == 0.1);
  CHECK(lstm.return_sequences);
  CHECK(lstm.implementation == fn::LstmImpl::kReference);
  CHECK(c.model[2].name == "encoder");
  CHECK(c.model[3].type == "GlobalMaxPool1D");
  CHECK(std::holds_alternative<std::monostate>(c.model[3].options));
  const auto& d16 = std::get<DenseOptions>(c.model[5].options);
  CHECK(d16.units == 16);
  CHECK(d16.activation == fn::Activation::kLinear);  // None
  CHECK_FALSE(d16.use_bias);
  CHECK(d16.kernel_initializer == "zeros");
  CHECK(std::get<ActivationOptions>(c.model[6].options).activation == fn::Activation::kRelu);
  CHECK(std::get<DenseOptions>(c.model[7].options).activation == fn::Activation::kSigmoid);

  CHECK(c.train.loss.name == Loss::kSparseCategoricalCrossentropy);
  CHECK(std::string(loss_name(c.train.loss.name)) == "sparse_categorical_crossentropy");
  CHECK(c.train.loss.from_logits);
  CHECK(c.train.optimizer.name == OptimizerKind::kSgd);
  CHECK(c.train.optimizer.lr() == 0.05);
  CHECK(c.train.optimizer.momentum == 0.9);
  CHECK(c.train.optimizer.nesterov);
  CHECK(c.train.optimizer.clipnorm == 1.0);
  CHECK_FALSE(c.train.optimizer.global_clipnorm.has_value());
  CHECK(c.train.epochs == 10);
  CHECK(c.train.batch_size == 64);
  CHECK(c.train.validation_split == 0.2);
  CHECK_FALSE(c.train.shuffle);
  CHECK(c.train.metrics == std::vector<std::string>{"accuracy"});
  REQUIRE(c.train.callbacks.size() == 4);
  CHECK(c.train.callbacks[0].type == CallbackKind::kEarlyStopping);
  CHECK(c.train.callbacks[0].args ==
        std::map<std::string, std::string>{
            {"monitor", "val_loss"}, {"patience", "3"}, {"restore_best_weights", "true"}});
  CHECK(c.train.callbacks[1].args.at("min_lr") == "1e-5");
  CHECK(c.train.callbacks[2].args.at("filepath") == "best.ember");
  CHECK(c.train.callbacks[3].args.at("threshold") == "0.9");
  CHECK(c.train.callbacks[3].loc.str() == "configs/x.yaml:38:7");
  CHECK(c.train.class_weight.empty());
  CHECK(c.train.class_weights == std::map<int64_t, double>{{0, 1.5}, {1, 0.5}});
}

TEST_CASE("short forms and defaults", "[config]") {
  Config c = parse_config(R"(data: {synthetic: {n_train: 64, maxlen: 12}}
sequence: {maxlen: 12}
model:
  - Embedding: {input_dim: 50, output_dim: 4}
  - Bidirectional: {layer: {LSTM: {units: 3, return_sequences: true}}, merge_mode: sum}
  - GlobalMaxPooling1D: {}
  - Dense: {units: 1, activation: null}
train:
  loss: binary_crossentropy
  optimizer: Adam
  class_weight: balanced
  callbacks: [EarlyStopping]
)",
                          kFile);
  CHECK(c.name == "run");
  CHECK(c.seed == 1337);
  REQUIRE(c.data.synthetic.has_value());
  CHECK(c.data.synthetic->n_train == 64);
  CHECK(c.data.synthetic->n_val == 1000);
  CHECK(c.data.synthetic->maxlen == 12);
  const auto& bi = std::get<BidirectionalOptions>(c.model[1].options);
  CHECK(bi.layer.units == 3);
  CHECK(bi.layer.return_sequences);
  CHECK(bi.merge_mode == MergeMode::kSum);
  CHECK(std::holds_alternative<std::monostate>(c.model[2].options));
  CHECK(std::get<DenseOptions>(c.model[3].options).activation == fn::Activation::kLinear);
  CHECK(c.train.optimizer.name == OptimizerKind::kAdam);
  CHECK(c.train.optimizer.lr() == 1e-3);
  CHECK(c.train.class_weight == "balanced");
  REQUIRE(c.train.callbacks.size() == 1);
  CHECK(c.train.callbacks[0].args.empty());
  // The tokenizer keeps Keras's defaults when absent.
  CHECK(c.tokenizer.lower);
  CHECK(c.tokenizer.filters == "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n");
}

TEST_CASE("real-data variants: label maps, test files, lines format", "[config]") {
  Config c = parse_config(R"(data:
  train: igbo/train.tsv
  format: tsv
  labels: {"-1": 0, "0": 1, "1": 2}
  test: igbo/test.tsv
  validation: igbo/dev.tsv
)",
                          kFile);
  CHECK(c.data.label_map == std::map<std::string, int64_t>{{"-1", 0}, {"0", 1}, {"1", 2}});
  REQUIRE(c.data.test.size() == 1);
  CHECK(c.data.test[0].file == "igbo/test.tsv");
  CHECK(c.data.test[0].format == data::TableFormat::kTsv);
  REQUIRE(c.data.validation.size() == 1);
  CHECK(c.data.validation[0].file == "igbo/dev.tsv");
  Config l =
      parse_config("data: {train: pos.txt, format: lines, label: 1, test_split: 0.2}\n", kFile);
  CHECK(l.data.train.at(0).format == data::TableFormat::kLines);
  CHECK_FALSE(l.data.train.at(0).header);
  CHECK(l.data.train.at(0).label == std::optional<std::string>("1"));
  CHECK(l.data.test_split == 0.2);
}

TEST_CASE("unknown top-level key names its position and suggests", "[config]") {
  test::check_config_errors({
      {"name: x\ntrian:\n  epochs: 3\n",
       "configs/x.yaml:2:1: trian: unknown key 'trian'; did you mean 'train'?"},
      // Far from every key: the message lists the known ones instead.
      {"name: x\nzzzzzz: 1\n",
       "configs/x.yaml:2:1: zzzzzz: unknown key 'zzzzzz' (known keys: name, seed, data, "
       "tokenizer, sequence, model, train)"},
  });
}

TEST_CASE("unknown layer key suggests the closest", "[config]") {
  test::check_config_errors({
      {kModelHead + "  - LSTM: {unit: 4}\n",
       "configs/x.yaml:4:12: model[1].LSTM.unit: unknown key 'unit'; did you mean 'units'?"},
      {kModelHead + "  - LSTM:\n      units: 4\n      dropuot: 0.1\n",
       "configs/x.yaml:6:7: model[1].LSTM.dropuot: unknown key 'dropuot'; "
       "did you mean 'dropout'?"},
      {kModelHead + "  - Bidirectional: {layer: {LSTM: {units: 4, retrun_sequences: "
                    "true}}}\n",
       "configs/x.yaml:4:46: model[1].Bidirectional.layer.LSTM.retrun_sequences: unknown key "
       "'retrun_sequences'; did you mean 'return_sequences'?"},
  });
}

TEST_CASE("unknown layer type", "[config]") {
  test::check_config_errors({
      {kModelHead + "  - LTSM: {units: 4}\n",
       "configs/x.yaml:4:5: model[1]: unknown layer type 'LTSM'; did you mean 'LSTM'?"},
      {kModelHead + "  - Bidirectional: {layer: {GRU: {units: 4}}}\n",
       "configs/x.yaml:4:29: model[1].Bidirectional.layer: only an LSTM can be wrapped, "
       "got 'GRU'"},
  });
}

TEST_CASE("wrong types are errors, numbers in quotes included", "[config]") {
  test::check_config_errors({
      {kModelHead + "  - LSTM: {units: abc}\n",
       "configs/x.yaml:4:19: model[1].LSTM.units: expected a positive integer, got \"abc\""},
      {kModelHead + "  - LSTM: {units: 1.5}\n",
       "configs/x.yaml:4:19: model[1].LSTM.units: expected a positive integer, got \"1.5\""},
      {kModelHead + "  - LSTM: {units: \"64\"}\n",
       "configs/x.yaml:4:19: model[1].LSTM.units: expected a positive integer, got \"64\" "
       "(a quoted value is a string; write numbers without quotes)"},
      {kModelHead + "  - LSTM: {units: 0}\n",
       "configs/x.yaml:4:19: model[1].LSTM.units: expected a positive integer, got \"0\""},
      {kModelHead + "  - LSTM: {units: 4, return_sequences: yes}\n",
       "configs/x.yaml:4:40: model[1].LSTM.return_sequences: expected true or false, "
       "got \"yes\""},
      {"train: {epochs: [1, 2]}\n",
       "configs/x.yaml:1:17: train.epochs: expected a positive integer, got a list"},
      {"train: {validation_split: \"0.2\"}\n",
       "configs/x.yaml:1:27: train.validation_split: expected a number in [0, 1), got \"0.2\" "
       "(a quoted value is a string; write numbers without quotes)"},
      {"train:\n  callbacks:\n    - EarlyStopping: {patience: three}\n",
       "configs/x.yaml:3:33: train.callbacks[0].EarlyStopping.patience: expected a "
       "non-negative integer, got \"three\""},
  });
}

TEST_CASE("out-of-range values", "[config]") {
  test::check_config_errors({
      {kModelHead + "  - Dropout: {rate: -0.2}\n",
       "configs/x.yaml:4:21: model[1].Dropout.rate: expected a number in [0, 1), got \"-0.2\""},
      {kModelHead + "  - SpatialDropout1D: {rate: 1}\n",
       "configs/x.yaml:4:30: model[1].SpatialDropout1D.rate: expected a number in [0, 1), "
       "got \"1\""},
      {kModelHead + "  - LSTM: {units: 4, recurrent_dropout: 1.5}\n",
       "configs/x.yaml:4:41: model[1].LSTM.recurrent_dropout: expected a number in [0, 1), "
       "got \"1.5\""},
      {"train: {optimizer: {name: adam, learning_rate: -1}}\n",
       "configs/x.yaml:1:48: train.optimizer.learning_rate: expected a number > 0, got \"-1\""},
      {"train: {optimizer: {name: sgd, beta_1: 0.9}}\n",
       "configs/x.yaml:1:32: train.optimizer.beta_1: 'beta_1' is not an argument of the sgd "
       "optimizer"},
  });
}

TEST_CASE("missing required values", "[config]") {
  // Pointed at the argument map, or at the type when the layer has no arguments.
  test::check_config_errors({
      {kModelHead + "  - LSTM: {dropout: 0.5}\n",
       "configs/x.yaml:4:11: model[1].LSTM.units: missing required value (the number of "
       "hidden units, e.g. units: 64)"},
      {kModelHead + "  - Dense\n",
       "configs/x.yaml:4:5: model[1].Dense.units: missing required value (the number of "
       "outputs, e.g. units: 1)"},
      {"sequence: {maxlen: 10}\nmodel:\n  - Embedding: {output_dim: 8}\n",
       "configs/x.yaml:3:16: model[0].Embedding.input_dim: missing required value (the "
       "vocabulary size, e.g. input_dim: 6000)"},
      {kModelHead + "  - Dropout: {}\n",
       "configs/x.yaml:4:14: model[1].Dropout.rate: missing required value (the fraction to "
       "drop, e.g. rate: 0.2)"},
      {"model:\n  - Embedding: {input_dim: 100, output_dim: 8}\n",
       "configs/x.yaml:1:1: sequence.maxlen: missing required value: a model needs "
       "`sequence: {maxlen: N}`"},
      {"sequence: {padding: post}\nmodel:\n  - Embedding: {input_dim: 1, output_dim: "
       "8}\n",
       "configs/x.yaml:1:11: sequence.maxlen: missing required value (the padded sequence "
       "length the model reads)"},
      {"train:\n  callbacks:\n    - ModelCheckpoint: {monitor: val_loss}\n",
       "configs/x.yaml:3:24: train.callbacks[0].ModelCheckpoint.filepath: missing required "
       "value"},
      {"data: {format: csv}\n",
       "configs/x.yaml:1:7: data.train: missing required value (a data file path, or "
       "`synthetic: {}`)"},
  });
}

TEST_CASE("bad names of activations, initializers and options", "[config]") {
  test::check_config_errors({
      {kModelHead + "  - Dense: {units: 1, activation: sigmoidd}\n",
       "configs/x.yaml:4:35: model[1].Dense.activation: expected one of linear, relu, sigmoid, "
       "tanh, softmax, None, got \"sigmoidd\"; did you mean 'sigmoid'?"},
      {kModelHead + "  - Activation: {activation: gelu}\n",
       "configs/x.yaml:4:30: model[1].Activation.activation: expected one of linear, relu, "
       "sigmoid, tanh, softmax, None, got \"gelu\"; did you mean 'relu'?"},
      {kModelHead + "  - LSTM: {units: 4, activation: relu}\n",
       "configs/x.yaml:4:34: model[1].LSTM.activation: only tanh is supported for an LSTM's "
       "activation"},
      {kModelHead + "  - Dense: {units: 1, kernel_initializer: glorot_unifrom}\n",
       "configs/x.yaml:4:43: model[1].Dense.kernel_initializer: unknown initializer "
       "\"glorot_unifrom\"; did you mean 'glorot_uniform'?"},
      {kModelHead + "  - LSTM: {units: 4, implementation: cudnnn}\n",
       "configs/x.yaml:4:38: model[1].LSTM.implementation: expected one of auto, reference, "
       "fused, cudnn, persistent, got \"cudnnn\"; did you mean 'cudnn'?"},
      {"train: {loss: mse}\n",
       "configs/x.yaml:1:15: train.loss: expected one of binary_crossentropy, "
       "sparse_categorical_crossentropy, got \"mse\""},
      {"sequence: {padding: left}\n",
       "configs/x.yaml:1:21: sequence.padding: expected one of pre, post, got \"left\""},
      {"train:\n  callbacks:\n    - EarlyStoping: {}\n",
       "configs/x.yaml:3:7: train.callbacks[0]: unknown callback 'EarlyStoping'; did you "
       "mean 'EarlyStopping'?"},
  });
}

TEST_CASE("a callback's mode is kept as its enum, apart from the string arguments", "[config]") {
  Config c = parse_config(
      "train:\n  callbacks:\n    - EarlyStopping: {mode: max, patience: 2}\n"
      "    - ModelCheckpoint: {filepath: b.ember, mode: min}\n    - StopAtThreshold: "
      "{threshold: 0.5}\n",
      "configs/x.yaml");
  REQUIRE(c.train.callbacks.size() == 3);
  CHECK(c.train.callbacks[0].type == CallbackKind::kEarlyStopping);
  CHECK(c.train.callbacks[0].mode == MonitorMode::kMax);
  CHECK(c.train.callbacks[0].args == std::map<std::string, std::string>{{"patience", "2"}});
  CHECK(c.train.callbacks[1].type == CallbackKind::kModelCheckpoint);
  CHECK(c.train.callbacks[1].mode == MonitorMode::kMin);
  CHECK(c.train.callbacks[2].type == CallbackKind::kStopAtThreshold);
  CHECK(c.train.callbacks[2].mode == MonitorMode::kAuto);
  CHECK(test::config_error_of("train:\n  callbacks:\n    - EarlyStopping: {mode: maxi}\n") ==
        "configs/x.yaml:3:29: train.callbacks[0].EarlyStopping.mode: expected one of auto, min, "
        "max, got \"maxi\"; did you mean 'max'?");
}

TEST_CASE("structural mistakes", "[config]") {
  test::check_config_errors({
      {"name: a\nname: b\n", "configs/x.yaml:2:1: name: key given twice"},
      {"- a\n- b\n",
       "configs/x.yaml:1:1: expected a map of keys (name, seed, data, tokenizer, sequence, "
       "model, train), got a list"},
      {"", "configs/x.yaml:1:1: the config is empty"},
      {kModelHead + "  - {LSTM: {units: 4}, Dense: {units: 1}}\n",
       "configs/x.yaml:4:5: model[1]: expected a layer written as a single-key map "
       "({Type: {args}}), got a map with 2 keys"},
      {"data: {synthetic: {}, train: a.csv}\n",
       "configs/x.yaml:1:23: data.train: a synthetic dataset takes no other data keys "
       "(remove 'train' or 'synthetic')"},
      {"data: {train: a.csv, test: b.csv, test_split: 0.1}\n",
       "configs/x.yaml:1:35: data.test_split: give either data.test or data.test_split, not "
       "both"},
      {kModelHead + "  - Dense: {units: 1, name: \"my layer\"}\n",
       "configs/x.yaml:4:29: model[1].Dense.name: a layer name may use letters, digits, '_', "
       "'.' and '-' only, got \"my layer\""},
  });
}

TEST_CASE("YAML syntax errors carry file:line:column", "[config]") {
  std::string msg = test::config_error_of("name: x\nmodel: [a, b\nseed: 3\n");
  INFO(msg);
  CHECK(msg.rfind("configs/x.yaml:", 0) == 0);
  CHECK(msg.find("YAML syntax error") != std::string::npos);
  // yaml-cpp reports an unclosed flow sequence where it gives up, after the last item.
  CHECK(msg.rfind("configs/x.yaml:3:5: YAML syntax error: ", 0) == 0);
}

TEST_CASE("load_config reads a file and names a missing one", "[config]") {
  try {
    load_config("does/not/exist.yaml");
    FAIL("no error for a missing file");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()) == "does/not/exist.yaml: cannot open config file (no such file)");
  }
  const std::string path =
      (std::filesystem::temp_directory_path() / "ember_test_config_minimal.yaml").string();
  {
    std::ofstream out(path);
    out << "name: minimal\nseed: 9\n";
  }
  Config c = load_config(path);
  std::filesystem::remove(path);
  CHECK(c.name == "minimal");
  CHECK(c.seed == 9);
  CHECK(c.path == path);
}
