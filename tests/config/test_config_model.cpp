// Config -> Model: every seed model of DESIGN.md's table written as YAML builds with the
// parameter count worked out by hand (LSTM: 4H(C+H+1), Dense: U(C+1), Embedding: V*E);
// seed 001 Model A reproduces the notebook's summary table; default names follow Keras's
// counters; incompatible layers are a ConfigError naming both layers and the location.
#include <catch2/catch.hpp>

#include <string>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "layers/builder.h"

using namespace ember;

namespace {

const char* kFile = "configs/x.yaml";

Model build(const std::string& yaml) {
  return build_model(parse_config(yaml, kFile));
}

std::string build_error(const std::string& yaml) {
  try {
    build(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> names(const Model& m) {
  std::vector<std::string> out;
  for (const auto& l : m.layers()) out.push_back(l->name);
  return out;
}

std::vector<int64_t> counts(const Model& m) {
  std::vector<int64_t> out;
  for (const auto& l : m.layers()) out.push_back(l->param_count());
  return out;
}

const char* kModelA = R"(name: imdb_model_a
sequence: {maxlen: 370}
model:
  - Embedding: {input_dim: 6000, output_dim: 128}
  - LSTM: {units: 60, return_sequences: true, name: lstm_layer}
  - GlobalMaxPool1D
  - Dropout: {rate: 0.1}
  - Dense: {units: 50, activation: relu}
  - Dropout: {rate: 0.1}
  - Dense: {units: 1, activation: sigmoid}
train: {optimizer: sgd}
)";

}  // namespace

TEST_CASE("seed 001 Model A matches the notebook's summary", "[config]") {
  Model m = build(kModelA);
  CHECK(m.name() == "imdb_model_a");
  CHECK(names(m) == std::vector<std::string>{"embedding", "lstm_layer", "global_max_pooling1d",
                                             "dropout", "dense", "dropout_1", "dense_1"});
  CHECK(counts(m) == std::vector<int64_t>{768000, 45360, 0, 0, 3050, 0, 51});
  CHECK(m.param_count() == 816461);
  CHECK(m.output_shape() == FeatureShape{1});

  const std::string s = m.summary();
  INFO(s);
  // Keras's columns (29, 55), moved right for the whole table because
  // "global_max_pooling1d (GlobalMaxPooling1D)" is longer than the first column.
  const std::string thin(80, '_'), thick(80, '=');
  const std::string lines[] = {
      "Model: \"imdb_model_a\"\n" + thin + "\n" +
          " Layer (type)                               Output Shape              Param #\n" +
          thick +
          "\n"
          " embedding (Embedding)                      (None, 370, 128)          768000\n"
          " lstm_layer (LSTM)                          (None, 370, 60)           45360\n"
          " global_max_pooling1d (GlobalMaxPooling1D)  (None, 60)                0\n"
          " dropout (Dropout)                          (None, 60)                0\n"
          " dense (Dense)                              (None, 50)                3050\n"
          " dropout_1 (Dropout)                        (None, 50)                0\n"
          " dense_1 (Dense)                            (None, 1)                 51\n" +
          thick +
          "\n"
          "Total params: 816,461\n"
          "Trainable params: 816,461\n"
          "Non-trainable params: 0\n" +
          thin + "\n",
  };
  for (const std::string& l : lines) CHECK(s.find(l) != std::string::npos);
}

TEST_CASE("every seed model of DESIGN.md builds from YAML", "[config]") {
  struct Seed {
    const char* id;
    std::string yaml;
    int64_t total;
    FeatureShape out;
  };
  const std::vector<Seed> seeds = {
      {"000",
       R"(sequence: {maxlen: 100}
model:
  - Embedding: {input_dim: 10000, output_dim: 128, input_length: 100}
  - SpatialDropout1D: {rate: 0.2}
  - LSTM: {units: 64, dropout: 0.2, recurrent_dropout: 0.2}
  - Dense: {units: 32, activation: relu}
  - Dropout: {rate: 0.5}
  - Dense: {units: 1, activation: sigmoid}
)",
       1280000 + 49408 + 2080 + 33,
       {1}},
      {"001A", kModelA, 816461, {1}},
      {"001B",
       R"(sequence: {maxlen: 370}
model:
  - Embedding: {input_dim: 6000, output_dim: 128}
  - SpatialDropout1D: {rate: 0.25}
  - LSTM: {units: 100, dropout: 0.5}
  - Dropout: {rate: 0.5}
  - Dense: {units: 1, activation: sigmoid}
)",
       768000 + 91600 + 101,
       {1}},
      {"001C",
       R"(sequence: {maxlen: 370}
model:
  - Embedding: {input_dim: 6000, output_dim: 128}
  - Bidirectional: {layer: {LSTM: {units: 75, return_sequences: true}}}
  - Dense: {units: 16, activation: relu}
  - Dense: {units: 8, activation: relu}
  - Dense: {units: 1, activation: sigmoid}
)",
       768000 + 122400 + 2416 + 136 + 9,
       {370, 1}},
      {"001D",
       R"(sequence: {maxlen: 370}
model:
  - Embedding: {input_dim: 6000, output_dim: 64}
  - LSTM: {units: 50, return_sequences: true}
  - Dense: {units: 16, activation: relu}
  - Dense: {units: 1, activation: sigmoid}
)",
       384000 + 23000 + 816 + 17,
       {370, 1}},
      {"002",
       R"(sequence: {maxlen: 50, padding: post, truncating: post}
model:
  - Embedding: {input_dim: 20000, output_dim: 100}
  - SpatialDropout1D: {rate: 0.1}
  - Bidirectional: {layer: {LSTM: {units: 128}}}
  - Dense: {units: 64, activation: relu}
  - Dropout: {rate: 0.3}
  - Dense: {units: 3, activation: softmax}
)",
       2000000 + 234496 + 16448 + 195,
       {3}},
      {"003",
       R"(sequence: {maxlen: 40}
model:
  - Embedding: {input_dim: 5000, output_dim: 20, mask_zero: true}
  - Dropout: {rate: 0.25}
  - Bidirectional:
      layer:
        LSTM: {units: 64, dropout: 0.2, recurrent_dropout: 0.2, return_sequences: true}
  - Bidirectional: {layer: {LSTM: {units: 32}}}
  - Dense: {units: 16, activation: relu}
  - Dropout: {rate: 0.2}
  - Dense: {units: 3}
)",
       100000 + 43520 + 41216 + 1040 + 51,
       {3}},
      {"004",
       R"(sequence: {maxlen: 100}
model:
  - Embedding: {input_dim: 5000, output_dim: 128, input_length: 100}
  - LSTM: {units: 128, return_sequences: false}
  - Dense: {units: 1, activation: sigmoid}
)",
       640000 + 131584 + 129,
       {1}},
  };
  for (const Seed& s : seeds) {
    INFO("seed " << s.id);
    Model m = build(s.yaml);
    CHECK(m.param_count() == s.total);
    CHECK(m.output_shape() == s.out);
  }
}

TEST_CASE("Keras-style default names and parameter names", "[config]") {
  Model m = build(R"(sequence: {maxlen: 6}
model:
  - Embedding: {input_dim: 20, output_dim: 4, mask_zero: true}
  - Dropout: {rate: 0.25}
  - Bidirectional: {layer: {LSTM: {units: 3, return_sequences: true}}}
  - LSTM: {units: 2, return_sequences: true, name: dense}
  - Bidirectional: {layer: {LSTM: {units: 2}}, merge_mode: ave}
  - Dense: {units: 5, activation: relu}
  - Dropout: {rate: 0.2}
  - Activation: {activation: relu}
  - Dense: {units: 3}
)");
  // The user named an LSTM "dense", so the first default Dense skips to dense_1.
  CHECK(names(m) == std::vector<std::string>{"embedding", "dropout", "bidirectional", "dense",
                                             "bidirectional_1", "dense_1", "dropout_1",
                                             "activation", "dense_2"});
  for (size_t i = 0; i < m.layers().size(); ++i) CHECK(m.layers()[i]->index == int(i));
  auto params = m.named_parameters();
  REQUIRE(params.size() == 1 + 6 + 3 + 6 + 2 + 2);
  CHECK(params[0].first == "embedding/embeddings");
  CHECK(params[1].first == "bidirectional/forward_lstm/kernel");
  CHECK(params[4].first == "bidirectional/backward_lstm/kernel");
  CHECK(params[7].first == "dense/kernel");
  CHECK(params.back().first == "dense_2/bias");
  CHECK(m.parameters().size() == params.size());
  CHECK(m.parameters()[0] == params[0].second);
  CHECK(keras_snake_case("SpatialDropout1D") == "spatial_dropout1d");
  CHECK(keras_snake_case("GlobalMaxPooling1D") == "global_max_pooling1d");
}

TEST_CASE("incompatible layers name both layers and the config location", "[config]") {
  const std::string msg = build_error(R"(sequence: {maxlen: 10}
model:
  - Embedding: {input_dim: 100, output_dim: 8}
  - LSTM: {units: 60}
  - GlobalMaxPooling1D
)");
  INFO(msg);
  CHECK(msg.rfind("configs/x.yaml:5:5: layer 'global_max_pooling1d' (GlobalMaxPooling1D) "
                  "cannot follow 'lstm' (LSTM): ",
                  0) == 0);
  CHECK(msg.find("(None, 60)") != std::string::npos);  // what it got
  CHECK(msg.find(".cpp:") == std::string::npos);       // no source site in a user message

  CHECK(build_error(R"(sequence: {maxlen: 10}
model:
  - Embedding: {input_dim: 100, output_dim: 8}
  - LSTM: {units: 4}
  - LSTM: {units: 4}
)")
            .rfind("configs/x.yaml:5:5: layer 'lstm_1' (LSTM) cannot follow 'lstm' (LSTM): ", 0) ==
        0);
}

TEST_CASE("builder checks what only it can see", "[config]") {
  CHECK(build_error(R"(sequence: {maxlen: 10}
model:
  - Embedding: {input_dim: 100, output_dim: 8, input_length: 12}
)") == "configs/x.yaml:3:5: model[0].Embedding.input_length: 12 does not match "
       "sequence.maxlen 10");
  CHECK(build_error(R"(sequence: {maxlen: 10}
model:
  - Embedding: {input_dim: 100, output_dim: 8}
  - Dense: {units: 2, name: out}
  - Dense: {units: 1, name: out}
)") == "configs/x.yaml:5:5: layer name 'out' is already used by another layer; names must be "
       "unique");
  CHECK(build_error(R"(sequence: {maxlen: 10}
model:
  - Dense: {units: 2}
)") == "configs/x.yaml:3:5: layer 'dense' (Dense) cannot be the first layer: the model's "
       "input is token ids, so it must start with an Embedding");
}

TEST_CASE("a built model runs forward on token ids", "[config]") {
  const char* yaml = R"(seed: 3
sequence: {maxlen: 5}
model:
  - Embedding: {input_dim: 10, output_dim: 4}
  - LSTM: {units: 3, return_sequences: true}
  - GlobalMaxPool1D
  - Dense: {units: 2, activation: softmax}
)";
  Model m = build(yaml);
  Tensor tokens = Tensor::from<int32_t>(Shape{2, 5}, {0, 1, 2, 3, 4, 9, 8, 7, 6, 5});
  ag::NoGradGuard no_grad;
  LayerIO out = m.forward(tokens, RunContext{});
  REQUIRE(out.x.shape() == Shape{2, 2});
  for (int b = 0; b < 2; ++b)  // softmax rows sum to one
    CHECK(out.x.value().item(b * 2) + out.x.value().item(b * 2 + 1) == Approx(1.0));
  // Same seed, same weights: a second build gives the same output.
  Model m2 = build(yaml);
  LayerIO out2 = m2.forward(tokens, RunContext{});
  for (int i = 0; i < 4; ++i) CHECK(out2.x.value().item(i) == out.x.value().item(i));
}
