// End to end on the CPU: a small synthetic model trains for a few steps from a YAML config and
// its per-step losses must equal the checked-in trajectory bit for bit (tests/data/
// synthetic_trajectory.txt, hex floats). Same seed, same numbers, on any x86-64 machine (CTest
// pins the OpenBLAS kernel and thread count). Regenerate after an intended numerical change
// with EMBER_UPDATE_GOLDEN=1 and say why in the commit.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"

using namespace ember;

namespace {
const char* kConfig = R"(
name: e2e
seed: 4242
data:
  synthetic: {n_train: 192, n_val: 64, n_test: 0, maxlen: 10, seed: 3}
sequence: {maxlen: 12, padding: pre}
model:
  - Embedding: {input_dim: 48, output_dim: 8, mask_zero: true}
  - SpatialDropout1D: {rate: 0.2}
  - Bidirectional: {layer: {LSTM: {units: 6, dropout: 0.1, recurrent_dropout: 0.2, return_sequences: true}}}
  - LSTM: {units: 5}
  - Dropout: {rate: 0.3}
  - Dense: {units: 4, activation: relu}
  - Dense: {units: 1, activation: sigmoid}
train:
  loss: binary_crossentropy
  optimizer: {name: adam, learning_rate: 0.01, global_clipnorm: 5.0}
  epochs: 2
  batch_size: 32
)";

std::vector<double> run_steps() {
  Config cfg = parse_config(kConfig, "e2e.yaml");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  TrainOptions opts;
  opts.write_run_dir = false;
  opts.max_steps = 10;
  Trainer trainer(cfg, model, data, opts);
  std::ostringstream log;
  return trainer.fit(log).step_losses;
}

const std::string kGolden =
    std::string(EMBER_SOURCE_DIR) + "/tests/golden/synthetic_trajectory.txt";
}  // namespace

TEST_CASE("training reproduces the checked-in loss trajectory bit for bit", "[e2e][cpu]") {
  std::vector<double> losses = run_steps();
  REQUIRE(losses.size() == 10);
  // Two runs in one process agree exactly (no hidden state, no nondeterminism).
  CHECK(run_steps() == losses);

  if (std::getenv("EMBER_UPDATE_GOLDEN")) {
    std::ofstream f(kGolden);
    f << "# per-step training losses of tests/train/test_train_e2e.cpp, as hex floats\n";
    for (double l : losses) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%a\n", l);
      f << buf;
    }
  }
  std::ifstream f(kGolden);
  REQUIRE(f.good());
  std::vector<double> expected;
  std::string line;
  while (std::getline(f, line))
    if (!line.empty() && line[0] != '#') expected.push_back(std::strtod(line.c_str(), nullptr));
  REQUIRE(expected.size() == losses.size());
  for (size_t i = 0; i < losses.size(); ++i) {
    INFO("step " << i << ": got " << losses[i] << ", expected " << expected[i]);
    CHECK(losses[i] == expected[i]);
  }
  // It is learning something: no NaN, and the loss moves.
  CHECK(losses.front() != losses.back());
}

TEST_CASE("the trainer rejects a model that does not fit the loss", "[e2e][cpu]") {
  std::string bad = kConfig;
  bad.replace(bad.find("units: 1, activation: sigmoid"), 29, "units: 3, activation: softmax");
  Config cfg = parse_config(bad, "bad.yaml");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  TrainOptions opts;
  opts.write_run_dir = false;
  CHECK_THROWS_WITH(Trainer(cfg, model, data, opts),
                    Catch::Matchers::Contains("binary_crossentropy needs one output unit") &&
                        Catch::Matchers::Contains("dense_1"));
}

TEST_CASE("configs/synthetic.yaml reaches 95% validation accuracy; a bag of words cannot",
          "[e2e][cpu]") {
  Config cfg = load_config(std::string(EMBER_SOURCE_DIR) + "/configs/synthetic.yaml");
  DataSplits data = load_data(cfg);
  TrainOptions opts;
  opts.write_run_dir = false;
  std::ostringstream log;
  {
    Model model = build_model(cfg, DType::kFloat32);
    TrainResult r = Trainer(cfg, model, data, opts).fit(log);
    INFO(log.str());
    CHECK(r.history.back().val_accuracy >= 0.95);
  }
  // The same budget for an order-blind model (max over embeddings is a bag of words): the
  // negation is invisible to it, so it stays far from the LSTM.
  std::string text = R"(
name: bag_of_words
seed: 1337
data:
  synthetic: {n_train: 4000, n_val: 1000, n_test: 0, maxlen: 20, seed: 7}
sequence: {maxlen: 20}
model:
  - Embedding: {input_dim: 48, output_dim: 16}
  - GlobalMaxPooling1D
  - Dense: {units: 32, activation: relu}
  - Dense: {units: 1, activation: sigmoid}
train: {loss: binary_crossentropy, optimizer: {name: adam, learning_rate: 0.005}, epochs: 8, batch_size: 32}
)";
  Config bow = parse_config(text, "bag_of_words.yaml");
  Model model = build_model(bow, DType::kFloat32);
  TrainResult r = Trainer(bow, model, load_data(bow), opts).fit(log);
  INFO(log.str());
  CHECK(r.history.back().val_accuracy < 0.75);
}
