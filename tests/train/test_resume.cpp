// Resume: a run interrupted mid-epoch (Ctrl-C's path) and one continued from the end-of-epoch
// checkpoint give bit-identical losses and history to an uninterrupted run, with dropout,
// shuffling, Adam state and a ReduceLROnPlateau callback all in play.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {
const char* kConfig = R"(
name: resume
seed: 99
data:
  synthetic: {n_train: 96, n_val: 32, n_test: 0, maxlen: 8, seed: 5}
sequence: {maxlen: 8}
model:
  - Embedding: {input_dim: 48, output_dim: 6, mask_zero: true}
  - SpatialDropout1D: {rate: 0.2}
  - LSTM: {units: 5, dropout: 0.1, recurrent_dropout: 0.2}
  - Dense: {units: 1, activation: sigmoid}
train:
  loss: binary_crossentropy
  optimizer: {name: adam, learning_rate: 0.02}
  epochs: 3
  batch_size: 20
  callbacks:
    - ReduceLROnPlateau: {monitor: loss, factor: 0.5, patience: 0, min_delta: 10}
)";

TrainResult run(const std::string& dir, const std::string& resume, int64_t epochs) {
  Config cfg = parse_config(kConfig, "resume.yaml");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  TrainOptions opts;
  opts.out_dir = dir;
  opts.resume = resume;
  opts.epochs = epochs;
  opts.progress = 0;
  std::ostringstream log;
  Trainer t(cfg, model, data, opts);
  return t.fit(log);
}
}  // namespace

TEST_CASE("interrupted and resumed runs reproduce the uninterrupted one", "[resume][cpu]") {
  const fs::path root = fs::temp_directory_path() / "ember_resume_test";
  fs::remove_all(root);
  TrainResult full = run((root / "full").string(), "", 3);
  REQUIRE(full.step_losses.size() == 15);  // 5 batches x 3 epochs
  // ReduceLROnPlateau (min_delta 10: only the first epoch counts as an improvement, on inf)
  // halves the rate after every later epoch, so its state must survive the resume too: the
  // third epoch trains at 0.01 (the row records the rate the epoch trained with).
  REQUIRE(full.history.size() == 3);
  CHECK(full.history[1].learning_rate == Approx(0.02));
  CHECK(full.history[2].learning_rate == Approx(0.01));

  // Ctrl-C during the first step of the first epoch: interrupted.ckpt after step 1.
  interrupt_requested().store(true);
  TrainResult part = run((root / "part").string(), "", 3);
  interrupt_requested().store(false);
  REQUIRE(part.interrupted);
  REQUIRE(part.step_losses.size() == 1);
  REQUIRE(fs::exists(root / "part" / "interrupted.ckpt"));
  TrainResult rest =
      run((root / "part").string(), (root / "part" / "interrupted.ckpt").string(), 3);
  std::vector<double> joined = part.step_losses;
  joined.insert(joined.end(), rest.step_losses.begin(), rest.step_losses.end());
  CHECK(joined == full.step_losses);
  REQUIRE(rest.history.size() == 3);
  for (size_t e = 0; e < 3; ++e) {
    INFO("epoch " << e + 1);
    CHECK(rest.history[e].loss == full.history[e].loss);
    CHECK(rest.history[e].val_loss == full.history[e].val_loss);
    CHECK(rest.history[e].learning_rate == full.history[e].learning_rate);
  }

  // Two epochs, then continue from last.ckpt to three.
  TrainResult two = run((root / "two").string(), "", 2);
  TrainResult third = run((root / "two").string(), (root / "two" / "last.ckpt").string(), 3);
  std::vector<double> both = two.step_losses;
  both.insert(both.end(), third.step_losses.begin(), third.step_losses.end());
  CHECK(both == full.step_losses);
  CHECK(third.history.back().val_accuracy == full.history.back().val_accuracy);
  fs::remove_all(root);
}

TEST_CASE("a NaN loss stops with the step and the last good checkpoint", "[resume][cpu]") {
  std::string text = kConfig;
  text.replace(text.find("learning_rate: 0.02"), 19, "learning_rate: 1e30");
  Config cfg = parse_config(text, "nan.yaml");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  const fs::path dir = fs::temp_directory_path() / "ember_nan_test";
  fs::remove_all(dir);
  TrainOptions opts;
  opts.out_dir = dir.string();
  opts.progress = 0;
  std::ostringstream log;
  Trainer t(cfg, model, data, opts);
  try {
    t.fit(log);
    FAIL("training with lr 1e30 should have produced a non-finite loss");
  } catch (const Error& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Matchers::Contains("at step"));
    CHECK_THAT(msg, Catch::Matchers::Contains("global_clipnorm"));
  }
  fs::remove_all(dir);
}
