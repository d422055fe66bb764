// Minibatch training on the model's device (CPU reference or CUDA): per-epoch shuffles from
// the seed (engine/data/batches.h, optionally bucketed by length), Keras callbacks, a progress
// bar on a terminal or one line per epoch otherwise, and a run directory (config copy,
// history.csv, losses.csv, curves, last.ckpt after every epoch, model.ember and the test
// metrics at the end). The dropout stream of step s is dropout_offset(s, layer, slot) under
// the config's seed, so the same config and seed give the same losses bit for bit, and a run
// resumed from a checkpoint continues exactly as if it had not stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/eval/evaluate.h"
#include "engine/pipeline/loader.h"
#include "engine/train/callbacks.h"
#include "engine/train/checkpoint.h"
#include "layers/model.h"
#include "optim/optimizer.h"

namespace ember {

class RunLock;
class FitRun;  // one Trainer::fit call, engine/train/trainer_fit.cpp
namespace dist {
class Communicator;
class DataParallel;
}  // namespace dist

struct TrainOptions {
  std::string device = "auto";  // auto | cpu | cuda
  std::string out_dir;          // run directory; "" = runs/<config name>
  std::string data_dir;         // data directory; "" = $EMBER_DATA, else ./data
  std::optional<int64_t> epochs;
  int64_t limit = 0;  // > 0: train on the first `limit` rows only; 0: all
  // Stop once this many steps of the whole run (resumed runs included) are done; -1: no
  // limit; 0: train nothing (`ember train --max-steps 0` writes the initialised bundle).
  int64_t max_steps = -1;
  bool write_run_dir = true;
  std::string resume;  // a checkpoint to continue from
  int progress = -1;   // 1: progress bar, 0: one line per epoch, -1: bar on a terminal
  // Data parallelism (engine/dist): this process is one rank of a job. The trainer then takes
  // its rows of every global batch, sums gradients over the ranks, and only rank 0 writes.
  // train_from_config sets it when mpirun started the process; null: a job of one.
  dist::Communicator* comm = nullptr;
};

using EpochStats = EpochRow;

struct EvalResult {
  double loss = 0, accuracy = 0;
};

struct TrainResult {
  std::vector<EpochRow> history;
  std::vector<double> step_losses;  // every training step of this process, in order
  std::string run_dir;
  bool interrupted = false;  // Ctrl-C: a checkpoint was written, see checkpoint
  std::string checkpoint;    // the last checkpoint written ("" if none)
};

// Set by the CLI's SIGINT/SIGTERM/SIGHUP handler; the trainer checks it after every step,
// writes interrupted.ckpt and returns.
std::atomic<bool>& interrupt_requested();

// The callbacks' handle on a run (callbacks.h) as Trainer::fit wires it: the learning rate is
// the optimizer's, weights are host copies of `params` and set_weights copies back into them
// (refusing a count that differs). log and save are left to the caller. Both references
// must outlive the control.
TrainControl train_control(Optimizer& optimizer, const std::vector<ag::Var*>& params);

class Trainer {
 public:
  // Checks the model's output against the loss and the data's classes before anything runs.
  Trainer(const Config& cfg, Model& model, const DataSplits& data, const TrainOptions& opts);
  ~Trainer();
  // What checkpoints and the final bundle carry besides weights (config text, tokenizer...).
  void set_contents(BundleContents contents) { contents_ = std::move(contents); }
  TrainResult fit(std::ostream& log);
  // Loss and accuracy over d in inference mode; when `scores` is given, the per-row class
  // probabilities of the same pass are appended to it (for the metrics of evaluate.h).
  EvalResult evaluate(const Dataset& d, Scores* scores = nullptr) const;
  const Optimizer& optimizer() const { return *optimizer_; }

 private:
  friend class FitRun;
  static Tensor step_mask(const LayerIO& out);
  ag::Var batch_loss(const LayerIO& out, const Dataset& batch) const;
  Tensor sample_weights(const Dataset& batch) const;

  const Config& cfg_;
  Model& model_;
  Dataset train_, val_;
  int64_t num_classes_;
  TrainOptions opts_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<std::unique_ptr<Callback>> callbacks_;
  BundleContents contents_;
  std::unique_ptr<RunLock> lock_;           // held from fit() until the trainer is destroyed
  std::unique_ptr<dist::DataParallel> dp_;  // set when opts.comm has several ranks
  std::vector<double> class_weight_;        // empty: none
  bool from_logits_;
  bool keras_exact_;
  bool binary_;
};

// Everything `ember train` does for a config: data, model, fit. Throws ember::Error with a
// message for the user on bad input.
TrainResult train_from_config(const Config& cfg, const TrainOptions& opts, std::ostream& log);

// The data a config asks for: the synthetic set, or the files of data.train/test/validation
// through the text pipeline (engine/pipeline/loader.h), read from `data_dir` (resolved as
// data::resolve_data_dir). Also checks that the model's Embedding holds every token id.
// `report`, when given, receives what loading read, dropped and fitted.
DataSplits load_data(const Config& cfg, const std::string& data_dir = "",
                     data::LoadReport* report = nullptr);

}  // namespace ember
