// Callbacks (see callbacks.h). The comparisons follow Keras's code: EarlyStopping improves when
// (value - min_delta) > best (maximising) or (value + min_delta) < best (minimising);
// ReduceLROnPlateau when value < best - min_delta (or > best + min_delta).
#include "engine/train/callbacks.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "engine/config/run_files.h"
#include "engine/train/run_outputs.h"

namespace ember {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

bool lookup(const Logs& logs, const std::string& key, double* v) {
  auto it = logs.find(key);
  if (it == logs.end()) return false;
  *v = it->second;
  return true;
}

void warn_missing(TrainControl& ctl, const char* who, const std::string& monitor,
                  const Logs& logs) {
  if (!ctl.log) return;
  *ctl.log << who << ": metric '" << monitor << "' is not available (have:";
  for (const auto& [k, v] : logs) *ctl.log << ' ' << k;
  *ctl.log << "); skipping\n";
}

double get_num(const std::map<std::string, std::string>& a, const std::string& k, double dflt) {
  auto it = a.find(k);
  return it == a.end() || it->second.empty() || it->second == "null" ? dflt : std::stod(it->second);
}
std::string get_str(const std::map<std::string, std::string>& a, const std::string& k,
                    const std::string& dflt) {
  auto it = a.find(k);
  return it == a.end() ? dflt : it->second;
}
bool get_bool(const std::map<std::string, std::string>& a, const std::string& k, bool dflt) {
  auto it = a.find(k);
  return it == a.end() ? dflt : it->second == "true";
}
}  // namespace

bool monitor_maximises(const std::string& monitor, MonitorMode mode) {
  if (mode == MonitorMode::kMax) return true;
  if (mode == MonitorMode::kMin) return false;
  return monitor.find("acc") != std::string::npos;  // "auto", as Keras decides it
}

namespace {

// A saved state's entries (checkpoint.cpp reads them from a file that may be damaged): a
// missing key, a NaN, or a count that is not a whole number in [0, 2^53] is an ember::Error
// naming the key, never std::out_of_range or an out-of-range cast.
double state_value(const std::map<std::string, double>& s, const char* key) {
  const auto it = s.find(key);
  if (it == s.end()) throw Error(std::string("its state has no '") + key + "'");
  if (std::isnan(it->second)) throw Error(std::string("its state's '") + key + "' is NaN");
  return it->second;
}

int64_t state_count(const std::map<std::string, double>& s, const char* key) {
  const double v = state_value(s, key);
  if (!(v >= 0 && v <= 9007199254740992.0) || v != std::floor(v))
    throw Error(std::string("its state's '") + key + "' is not a count: " + std::to_string(v));
  return static_cast<int64_t>(v);
}

}  // namespace

// ---- EarlyStopping -----------------------------------------------------------------------

EarlyStopping::EarlyStopping(std::string monitor, double min_delta, int64_t patience,
                             MonitorMode mode, bool restore_best_weights, double baseline,
                             int verbose)
    : monitor_(std::move(monitor)),
      min_delta_(std::fabs(min_delta)),
      patience_(patience),
      maximise_(monitor_maximises(monitor_, mode)),
      restore_(restore_best_weights),
      baseline_(baseline),
      verbose_(verbose) {}

bool EarlyStopping::improves(double value, double reference) const {
  return maximise_ ? value - min_delta_ > reference : value + min_delta_ < reference;
}

void EarlyStopping::on_train_begin(TrainControl&) {
  wait_ = 0;
  stopped_epoch_ = 0;
  best_ = maximise_ ? -kInf : kInf;
  best_weights_.clear();
  best_epoch_ = 0;
}

void EarlyStopping::on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) {
  double current;
  if (!lookup(logs, monitor_, &current)) return warn_missing(ctl, name(), monitor_, logs);
  if (restore_ && best_weights_.empty()) best_weights_ = ctl.get_weights();
  ++wait_;
  if (improves(current, best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (restore_) best_weights_ = ctl.get_weights();
    // Only restart the wait when the value beats the baseline too.
    if (std::isnan(baseline_) || improves(current, baseline_)) wait_ = 0;
    return;
  }
  if (wait_ >= patience_ && epoch > 0) {
    stopped_epoch_ = epoch;
    ctl.stop_training = true;
    if (restore_ && !best_weights_.empty()) {
      if (verbose_ > 0 && ctl.log)
        *ctl.log << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1
                 << ".\n";
      ctl.set_weights(best_weights_);
    }
    if (verbose_ > 0 && ctl.log) *ctl.log << "Epoch " << epoch + 1 << ": early stopping\n";
  }
}

std::map<std::string, double> EarlyStopping::state() const {
  return {{"wait", double(wait_)},
          {"best", best_},
          {"best_epoch", double(best_epoch_)},
          {"stopped_epoch", double(stopped_epoch_)}};
}

void EarlyStopping::load_state(const std::map<std::string, double>& s) {
  wait_ = state_count(s, "wait");
  best_ = state_value(s, "best");
  best_epoch_ = state_count(s, "best_epoch");
  stopped_epoch_ = state_count(s, "stopped_epoch");
}

// ---- ReduceLROnPlateau -------------------------------------------------------------------

ReduceLROnPlateau::ReduceLROnPlateau(std::string monitor, double factor, int64_t patience,
                                     MonitorMode mode, double min_delta, int64_t cooldown,
                                     double min_lr, int verbose)
    : monitor_(std::move(monitor)),
      factor_(factor),
      patience_(patience),
      maximise_(monitor_maximises(monitor_, mode)),
      min_delta_(min_delta),
      cooldown_(cooldown),
      min_lr_(min_lr),
      verbose_(verbose) {
  EMBER_CHECK_ARG(factor < 1.0, "ReduceLROnPlateau: factor must be < 1, got " << factor);
}

void ReduceLROnPlateau::on_train_begin(TrainControl&) {
  wait_ = 0;
  cooldown_counter_ = 0;
  best_ = maximise_ ? -kInf : kInf;
}

void ReduceLROnPlateau::on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) {
  double current;
  if (!lookup(logs, monitor_, &current)) return warn_missing(ctl, name(), monitor_, logs);
  const bool in_cooldown = cooldown_counter_ > 0;
  if (in_cooldown) {
    --cooldown_counter_;
    wait_ = 0;
  }
  const bool better = maximise_ ? current > best_ + min_delta_ : current < best_ - min_delta_;
  if (better) {
    best_ = current;
    wait_ = 0;
  } else if (!(cooldown_counter_ > 0)) {
    if (++wait_ >= patience_) {
      const double old_lr = ctl.get_lr();
      // Keras compares against min_lr in float32.
      if (static_cast<float>(old_lr) > static_cast<float>(min_lr_)) {
        const double new_lr = std::fmax(old_lr * factor_, min_lr_);
        ctl.set_lr(new_lr);
        if (verbose_ > 0 && ctl.log) {
          char buf[160];
          std::snprintf(buf, sizeof buf,
                        "Epoch %lld: ReduceLROnPlateau reducing learning rate to %g.\n",
                        static_cast<long long>(epoch + 1), new_lr);
          *ctl.log << buf;
        }
        cooldown_counter_ = cooldown_;
        wait_ = 0;
      }
    }
  }
}

std::map<std::string, double> ReduceLROnPlateau::state() const {
  return {
      {"wait", double(wait_)}, {"cooldown_counter", double(cooldown_counter_)}, {"best", best_}};
}

void ReduceLROnPlateau::load_state(const std::map<std::string, double>& s) {
  wait_ = state_count(s, "wait");
  cooldown_counter_ = state_count(s, "cooldown_counter");
  best_ = state_value(s, "best");
}

// ---- ModelCheckpoint ---------------------------------------------------------------------

ModelCheckpoint::ModelCheckpoint(std::string filepath, std::string monitor, bool save_best_only,
                                 MonitorMode mode, int verbose)
    : filepath_(std::move(filepath)),
      monitor_(std::move(monitor)),
      save_best_only_(save_best_only),
      maximise_(monitor_maximises(monitor_, mode)),
      verbose_(verbose) {}

void ModelCheckpoint::on_train_begin(TrainControl&) {
  best_ = maximise_ ? -kInf : kInf;
}

void ModelCheckpoint::load_state(const std::map<std::string, double>& s) {
  best_ = state_value(s, "best");
}

std::string ModelCheckpoint::format_path(const std::string& pattern, int64_t epoch,
                                         const Logs& logs) {
  return expand_checkpoint_path(pattern, epoch, logs);
}

std::string ModelCheckpoint::path_problem(const std::string& pattern) {
  return checkpoint_path_problem(pattern);
}

void ModelCheckpoint::on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) {
  const std::string path = format_path(filepath_, epoch, logs);
  if (save_best_only_) {
    double current;
    if (!lookup(logs, monitor_, &current)) return warn_missing(ctl, name(), monitor_, logs);
    const bool better = maximise_ ? current > best_ : current < best_;
    if (!better) return;
    if (verbose_ > 0 && ctl.log)
      *ctl.log << "Epoch " << epoch + 1 << ": " << monitor_ << " improved from " << best_ << " to "
               << current << ", saving model to " << path << "\n";
    best_ = current;
  } else if (verbose_ > 0 && ctl.log) {
    *ctl.log << "Epoch " << epoch + 1 << ": saving model to " << path << "\n";
  }
  ctl.save(path);
}

// ---- StopAtThreshold ---------------------------------------------------------------------

StopAtThreshold::StopAtThreshold(std::string monitor, double threshold)
    : monitor_(std::move(monitor)),
      threshold_(threshold),
      above_(monitor_.find("loss") == std::string::npos) {}

void StopAtThreshold::on_epoch_end(int64_t epoch, const Logs& logs, TrainControl& ctl) {
  double current;
  if (!lookup(logs, monitor_, &current)) return warn_missing(ctl, name(), monitor_, logs);
  if (above_ ? current > threshold_ : current < threshold_) {
    ctl.stop_training = true;
    if (ctl.log)
      *ctl.log << "Epoch " << epoch + 1 << ": " << monitor_ << " passed " << threshold_
               << ", stopping\n";
  }
}

// ---- factory -----------------------------------------------------------------------------

std::vector<std::unique_ptr<Callback>> make_callbacks(const std::vector<CallbackConfig>& cfgs) {
  std::vector<std::unique_ptr<Callback>> out;
  for (const CallbackConfig& c : cfgs) {
    const auto& a = c.args;
    const int verbose = static_cast<int>(get_num(a, "verbose", 0));
    switch (c.type) {
      case CallbackKind::kEarlyStopping:
        out.push_back(std::make_unique<EarlyStopping>(
            get_str(a, "monitor", "val_loss"), get_num(a, "min_delta", 0),
            static_cast<int64_t>(get_num(a, "patience", 0)), c.mode,
            get_bool(a, "restore_best_weights", false),
            get_num(a, "baseline", std::numeric_limits<double>::quiet_NaN()), verbose));
        break;
      case CallbackKind::kReduceLROnPlateau:
        out.push_back(std::make_unique<ReduceLROnPlateau>(
            get_str(a, "monitor", "val_loss"), get_num(a, "factor", 0.1),
            static_cast<int64_t>(get_num(a, "patience", 10)), c.mode, get_num(a, "min_delta", 1e-4),
            static_cast<int64_t>(get_num(a, "cooldown", 0)), get_num(a, "min_lr", 0), verbose));
        break;
      case CallbackKind::kModelCheckpoint:
        out.push_back(std::make_unique<ModelCheckpoint>(
            get_str(a, "filepath", ""), get_str(a, "monitor", "val_loss"),
            get_bool(a, "save_best_only", false), c.mode, verbose));
        break;
      case CallbackKind::kStopAtThreshold:
        out.push_back(std::make_unique<StopAtThreshold>(get_str(a, "monitor", "accuracy"),
                                                        get_num(a, "threshold", 0.95)));
        break;
    }
  }
  return out;
}

}  // namespace ember
