// Minibatch training on the CPU reference path (GPU later): per-epoch shuffles from the seed,
// Keras-style epoch lines, a run directory with the config copy, history.csv and losses.csv.
// The dropout stream of step s is dropout_offset(s, layer, slot) under the config's seed, so
// the same config and seed give the same losses bit for bit.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/dataset.h"
#include "layers/model.h"
#include "optim/optimizer.h"

namespace ember {

struct TrainOptions {
  std::string device = "auto";  // auto | cpu | cuda
  std::string out_dir;          // run directory; "" = runs/<config name>
  std::optional<int64_t> epochs;
  int64_t limit = 0;            // > 0: train on the first `limit` rows only
  int64_t max_steps = -1;       // > 0: stop after this many steps (tests, smoke runs)
  bool write_run_dir = true;
};

struct EpochStats {
  int64_t epoch = 0;  // 1-based
  double loss = 0, accuracy = 0;
  bool has_val = false;
  double val_loss = 0, val_accuracy = 0;
  double learning_rate = 0;
  double seconds = 0;
};

struct EvalResult {
  double loss = 0, accuracy = 0;
};

struct TrainResult {
  std::vector<EpochStats> history;
  std::vector<double> step_losses;  // every training step, in order
  std::string run_dir;
};

class Trainer {
 public:
  // Checks the model's output against the loss and the data's classes before anything runs.
  Trainer(const Config& cfg, Model& model, const DataSplits& data, const TrainOptions& opts);
  ~Trainer();
  TrainResult fit(std::ostream& log);
  EvalResult evaluate(const Dataset& d) const;

 private:
  ag::Var batch_loss(const LayerIO& out, const Dataset& batch) const;
  Tensor sample_weights(const Dataset& batch) const;

  const Config& cfg_;
  Model& model_;
  Dataset train_, val_;
  int64_t num_classes_;
  TrainOptions opts_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<double> class_weight_;  // empty: none
  bool from_logits_;
  bool binary_;
};

// Everything `ember train` does for a config: data, model, fit. Throws ember::Error with a
// message for the user on bad input.
TrainResult train_from_config(const Config& cfg, const TrainOptions& opts, std::ostream& log);

// The data a config asks for (synthetic now; the text pipeline adds real files).
DataSplits load_data(const Config& cfg);

}  // namespace ember
