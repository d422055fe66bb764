// Training checkpoints: a bundle (weights, config, tokenizer, cleaning, classes) plus what a
// run needs to continue exactly where it stopped: the optimizer's state (slots, iterations,
// learning rate) as tensors "optimizer/<name>", each callback's state and saved weights, and
// the run position (next epoch, batches done in it, global step, the epoch's running sums,
// the history so far) in metadata "ember.checkpoint". Dropout masks and shuffles are pure
// functions of (seed, step) and (seed, epoch), so restoring the position restores the RNG.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/io/bundle.h"
#include "engine/train/callbacks.h"
#include "optim/optimizer.h"

namespace ember {

struct EpochRow {     // one line of history.csv
  int64_t epoch = 0;  // 1-based
  double loss = 0, accuracy = 0;
  bool has_val = false;
  double val_loss = 0, val_accuracy = 0;
  double learning_rate = 0;
  double seconds = 0;
};

struct RunPosition {
  int64_t epoch = 0;  // the epoch in progress (0-based)
  int64_t batch = 0;  // batches of it already done
  uint64_t step = 0;  // global training step (the dropout stream's counter)
  double loss_sum = 0, acc_sum = 0;
  int64_t seen = 0;          // rows of the epoch in progress
  double epoch_seconds = 0;  // time spent on the epoch in progress before the stop
  std::vector<EpochRow> history;
};

void save_checkpoint(const std::string& path, Model& model, const BundleContents& contents,
                     const Optimizer& optimizer,
                     const std::vector<std::unique_ptr<Callback>>& callbacks,
                     const RunPosition& position);

// Restores weights (into `model`, on its device), optimizer and callback state from a
// checkpoint written by save_checkpoint for the same config; returns the run position.
// Throws naming the file when it is not a checkpoint or does not match the model.
RunPosition load_checkpoint(const std::string& path, Model& model, Optimizer& optimizer,
                            const std::vector<std::unique_ptr<Callback>>& callbacks);
// The same from a file already parsed; `source` names it in messages.
RunPosition restore_checkpoint(const SafetensorsFile& file, const std::string& source, Model& model,
                               Optimizer& optimizer,
                               const std::vector<std::unique_ptr<Callback>>& callbacks);

}  // namespace ember
