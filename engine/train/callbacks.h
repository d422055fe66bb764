// Training callbacks with Keras semantics: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint and
// StopAtThreshold (seed 001's "stop once accuracy passes 0.95"). The trainer calls
// on_epoch_end with the epoch's logs (loss, accuracy, val_loss, val_accuracy, lr) and a
// TrainControl through which a callback stops training, changes the learning rate, saves or
// restores weights. Each callback's state (best value, wait counters, best weights) can be
// saved and restored, so a resumed run continues exactly where it stopped.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/core/tensor.h"

namespace ember {

using Logs = std::map<std::string, double>;

// What a callback may do to the run.
struct TrainControl {
  bool stop_training = false;
  std::function<double()> get_lr;
  std::function<void(double)> set_lr;
  std::function<std::vector<Tensor>()> get_weights;  // host copies
  std::function<void(const std::vector<Tensor>&)> set_weights;
  std::function<void(const std::string& path)> save;  // a checkpoint at `path`
  std::ostream* log = nullptr;                        // messages (verbose > 0)
};

class Callback {
 public:
  virtual ~Callback() = default;
  virtual const char* name() const = 0;
  virtual void on_train_begin(TrainControl&) {}
  // epoch is 0-based, as Keras passes it.
  virtual void on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) = 0;
  // State for checkpoints: numbers, and tensors (best weights) under names.
  virtual std::map<std::string, double> state() const { return {}; }
  virtual void load_state(const std::map<std::string, double>&) {}
  virtual std::vector<Tensor> saved_weights() const { return {}; }
  virtual void load_saved_weights(std::vector<Tensor>) {}
};

// Keras's rule for mode "auto": maximise monitors with "acc" in the name, minimise the rest.
bool monitor_maximises(const std::string& monitor, MonitorMode mode);

class EarlyStopping : public Callback {
 public:
  EarlyStopping(std::string monitor, double min_delta, int64_t patience, MonitorMode mode,
                bool restore_best_weights, double baseline /* NaN = none */, int verbose);
  const char* name() const override { return "EarlyStopping"; }
  void on_train_begin(TrainControl& ctl) override;
  void on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) override;
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& s) override;
  std::vector<Tensor> saved_weights() const override { return best_weights_; }
  void load_saved_weights(std::vector<Tensor> w) override { best_weights_ = std::move(w); }
  int64_t stopped_epoch() const { return stopped_epoch_; }
  double best() const { return best_; }

 private:
  bool improves(double value, double reference) const;
  std::string monitor_;
  double min_delta_;
  int64_t patience_;
  bool maximise_, restore_;
  double baseline_;
  int verbose_;
  int64_t wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  double best_ = 0;
  std::vector<Tensor> best_weights_;
};

class ReduceLROnPlateau : public Callback {
 public:
  ReduceLROnPlateau(std::string monitor, double factor, int64_t patience, MonitorMode mode,
                    double min_delta, int64_t cooldown, double min_lr, int verbose);
  const char* name() const override { return "ReduceLROnPlateau"; }
  void on_train_begin(TrainControl& ctl) override;
  void on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) override;
  std::map<std::string, double> state() const override;
  void load_state(const std::map<std::string, double>& s) override;

 private:
  std::string monitor_;
  double factor_;
  int64_t patience_;
  bool maximise_;
  double min_delta_;
  int64_t cooldown_;
  double min_lr_;
  int verbose_;
  int64_t wait_ = 0, cooldown_counter_ = 0;
  double best_ = 0;
};

class ModelCheckpoint : public Callback {
 public:
  // filepath may hold {epoch} or {epoch:04d} (1-based, as Keras formats it) and {monitor name}
  // such as {val_loss:.4f}.
  ModelCheckpoint(std::string filepath, std::string monitor, bool save_best_only, MonitorMode mode,
                  int verbose);
  const char* name() const override { return "ModelCheckpoint"; }
  void on_train_begin(TrainControl& ctl) override;
  void on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) override;
  std::map<std::string, double> state() const override { return {{"best", best_}}; }
  void load_state(const std::map<std::string, double>& s) override;
  // The filepath rules of engine/config/run_files.h: expand_checkpoint_path for this epoch
  // (0-based) and logs, and checkpoint_path_problem ("" when the pattern is allowed).
  static std::string format_path(const std::string& pattern, int64_t epoch, const Logs& logs);
  static std::string path_problem(const std::string& pattern);

 private:
  std::string filepath_, monitor_;
  bool save_best_only_, maximise_;
  int verbose_;
  double best_ = 0;
};

class StopAtThreshold : public Callback {
 public:
  // Stops once the monitor passes the threshold: above it for accuracies, below it for losses.
  StopAtThreshold(std::string monitor, double threshold);
  const char* name() const override { return "StopAtThreshold"; }
  void on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) override;

 private:
  std::string monitor_;
  double threshold_;
  bool above_;
};

// Builds the callbacks a config lists (arguments as strings, already type-checked by the
// config parser); Keras's defaults for anything left out.
std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& cfgs);

}  // namespace ember
