// Trainer::fit (see trainer.h) as named steps. FitRun holds the state of one fit() call: the
// run position (what a checkpoint stores), the step results not yet read back from the
// device, the losses.csv text and the run directory. Its steps run in this order: resume or
// begin the callbacks, open the run directory, then per epoch: skip to the resumed batch,
// train steps (each may be interrupted or hit --max-steps), read results, log the epoch, run
// the callbacks, write the run files and last.ckpt. Every message is the original loop's.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <ostream>
#include <sstream>

#include "engine/data/batches.h"
#include "engine/dist/data_parallel.h"
#include "engine/dist/fingerprint.h"
#include "engine/train/run_lock.h"
#include "engine/train/run_outputs.h"
#include "engine/train/trainer.h"
#include "layers/functional.h"
#include "optim/clip.h"

namespace ember {

namespace fs = std::filesystem;

namespace {

// Keras-like progress line, redrawn in place on a terminal.
void draw_progress(std::ostream& log, int64_t done, int64_t total, double seconds, double loss,
                   double acc) {
  constexpr int kWidth = 30;
  const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), '.');
  char line[256];
  std::snprintf(line, sizeof line,
                "\r%lld/%lld [%s] - %.0fs %.0fms/step - loss: %.4f - accuracy: %.4f",
                static_cast<long long>(done), static_cast<long long>(total), bar.c_str(), seconds,
                done ? 1000.0 * seconds / done : 0.0, loss, acc);
  log << line << std::flush;
}

// A file's bytes, or "" when it cannot be read.
std::string read_text_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

data::BatchOptions batch_options(const Config& cfg) {
  data::BatchOptions bo;
  bo.batch_size = cfg.train.batch_size;
  bo.shuffle = cfg.train.shuffle;
  bo.bucket_by_length = cfg.train.bucket_by_length;
  bo.seed = cfg.seed;
  bo.pad_value = static_cast<int32_t>(cfg.sequence.value);
  return bo;
}

}  // namespace

class FitRun {
 public:
  FitRun(Trainer& t, std::ostream& log);
  FitRun(const FitRun&) = delete;  // ctl_ holds references into this object
  FitRun& operator=(const FitRun&) = delete;
  TrainResult run();

 private:
  // Step results (loss, accuracy counts) stay on the device until read_steps(), in step
  // order: on a GPU a step then queues its work and never waits for the device; results are
  // read every read_every_ steps, before a progress draw, at the epoch's end and before any
  // checkpoint. On the CPU every step is read at once (nothing to wait for), which keeps the
  // NaN check before that step's update.
  struct PendingStep {
    Tensor loss, counts;
    int64_t rows, step, batch, epoch;
    Tensor reduced;    // data parallel: the global batch's sums (dist::DataParallel::read)
    double grad_norm;  // before clipping; train.log_grad_norm only
  };

  void checkpoint(const std::string& name);
  void resume_or_begin();
  void open_run_dir();
  void write_run_files(const std::string& ckpt);
  // --max-steps counts steps of the whole run, so a resumed run past it trains no further;
  // --max-steps 0 therefore writes the initialised model and stops (train_from_config).
  bool steps_left() const {
    return t_.opts_.max_steps < 0 || static_cast<int64_t>(pos_.step) < t_.opts_.max_steps;
  }
  void read_steps();
  [[noreturn]] void non_finite(double loss, const PendingStep& p) const;
  bool run_epoch(int64_t epoch);  // false: interrupted (the checkpoint is written)
  void train_step(const data::Batch& b, int64_t epoch);
  void interrupted(int64_t epoch);
  void end_epoch(int64_t epoch);
  void log_epoch(const EpochRow& e) const;
  double elapsed() const {
    return pos_.epoch_seconds +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  double mean_loss() const { return pos_.loss_sum / pos_.seen; }
  double mean_acc() const { return pos_.acc_sum / pos_.seen; }

  Trainer& t_;
  std::ostream& log_;
  TrainResult result_;
  const fs::path run_dir_;
  const int64_t epochs_;
  data::BatchIterator batches_;
  const int64_t steps_per_epoch_;
  std::vector<ag::Var*> params_;
  std::ostringstream losses_csv_;
  const bool bar_;
  std::string losses_header() const {
    return t_.cfg_.train.log_grad_norm ? "step,loss,grad_norm" : "step,loss";
  }
  TrainControl ctl_;
  RunPosition pos_;
  bool published_ = false;  // write_run_files has run once
  bool stop_ = false;
  bool stop_agreed_ = false;  // data parallel: some rank was interrupted
  std::vector<PendingStep> pending_;
  const size_t read_every_;
  std::chrono::steady_clock::time_point t0_, last_draw_;  // epoch start, last progress draw
};

FitRun::FitRun(Trainer& t, std::ostream& log)
    : t_(t),
      log_(log),
      run_dir_(!t.opts_.write_run_dir    ? fs::path()
               : t.opts_.out_dir.empty() ? fs::path("runs") / t.cfg_.name
                                         : fs::path(t.opts_.out_dir)),
      epochs_(t.opts_.epochs.value_or(t.cfg_.train.epochs)),
      batches_(t.train_, batch_options(t.cfg_)),
      steps_per_epoch_((t.train_.size() + t.cfg_.train.batch_size - 1) / t.cfg_.train.batch_size),
      params_(t.model_.parameters()),
      bar_(t.opts_.progress == 1 ||
           (t.opts_.progress < 0 && &log == &std::cout && isatty(STDOUT_FILENO))),
      ctl_(train_control(*t.optimizer_, params_)),
      read_every_(t.model_.device().is_cpu() ? 1 : 64) {
  losses_csv_ << losses_header() << '\n' << std::setprecision(9);
  ctl_.log = &log_;
  // A callback's path is checked again here: a config built in code skips the parser.
  ctl_.save = [this](const std::string& name) {
    const std::string problem = ModelCheckpoint::path_problem(name);
    if (!problem.empty()) throw Error("ModelCheckpoint filepath: " + problem);
    checkpoint(name);
  };
}

// Checkpoints go inside the run directory (the config parser refuses any other path); with
// no run directory nothing is written.
void FitRun::checkpoint(const std::string& name) {
  if (!t_.opts_.write_run_dir) return;
  const fs::path p = run_dir_ / name;
  if (!p.parent_path().empty()) fs::create_directories(p.parent_path());
  save_checkpoint(p.string(), t_.model_, t_.contents_, *t_.optimizer_, t_.callbacks_, pos_);
  result_.checkpoint = p.string();
}

void FitRun::resume_or_begin() {
  if (t_.opts_.resume.empty()) {
    for (auto& cb : t_.callbacks_) cb->on_train_begin(ctl_);
    return;
  }
  const std::string& resume = t_.opts_.resume;
  pos_ = load_checkpoint(resume, t_.model_, *t_.optimizer_, t_.callbacks_);
  if (t_.dp_) {  // every rank read its own copy of the file: they must agree
    std::vector<Tensor> w;
    for (ag::Var* p : params_) w.push_back(p->value());
    dist::check_same_on_all_ranks(t_.dp_->comm(),
                                  {{"checkpoint weights", dist::hash_tensors(w), resume},
                                   {"checkpoint step", std::to_string(pos_.step), ""}},
                                  "resuming from " + resume);
  }
  log_ << "ember: resumed from " << resume << " at epoch " << pos_.epoch + 1 << ", batch "
       << pos_.batch << " (step " << pos_.step << ")" << std::endl;
}

void FitRun::open_run_dir() {
  if (!t_.opts_.write_run_dir) return;
  std::error_code ec;
  fs::create_directories(run_dir_, ec);
  if (ec)
    throw Error("cannot create run directory " + run_dir_.string() + ": " + ec.message() +
                " (pass --out DIR with a writable DIR)");
  // Also fails before training, not after an hour of it, if nothing can be written there.
  t_.lock_ = std::make_unique<RunLock>(run_dir_.string());
  result_.run_dir = run_dir_.string();
  if (t_.opts_.resume.empty()) return;
  // The steps before the checkpoint, from the losses.csv beside it (the run directory's own
  // when resuming in place): the resumed run's file then equals an uninterrupted one.
  const std::string& resume = t_.opts_.resume;
  const fs::path earlier = fs::path(resume).parent_path() / "losses.csv";
  std::string warning;
  losses_csv_ << losses_before(read_text_file(earlier), losses_header(), pos_.step, &warning);
  if (!warning.empty())
    log_ << "ember: warning: " << resume << ": " << warning << "; losses.csv starts at "
         << "step " << pos_.step << std::endl;
}

// The run's own files: the config copy (the text that was parsed, so the run's config is what
// trained it even if the file has changed since), history, losses, then `ckpt` if one is
// named. The first call also clears what an earlier run left that no longer fits.
void FitRun::write_run_files(const std::string& ckpt) {
  if (!t_.opts_.write_run_dir) return;
  if (!published_) write_file_atomically((run_dir_ / "config.yaml").string(), t_.cfg_.text);
  write_history(run_dir_.string(), result_.history);
  write_file_atomically((run_dir_ / "losses.csv").string(), losses_csv_.str());
  if (!ckpt.empty()) checkpoint(ckpt);
  if (!published_)
    remove_stale_outputs(run_dir_.string(), ckpt == "last.ckpt", !t_.opts_.resume.empty(),
                         result_.history.empty());
  published_ = true;
}

// A non-finite loss stops training naming its step.
void FitRun::non_finite(double loss, const PendingStep& p) const {
  std::string msg = "loss is " + std::to_string(loss) + " at step " + std::to_string(p.step) +
                    " (epoch " + std::to_string(p.epoch + 1) + ", batch " +
                    std::to_string(p.batch + 1) + "); lower the learning rate or set " +
                    "optimizer.global_clipnorm.";
  if (!result_.checkpoint.empty())
    msg += " The last good checkpoint is " + result_.checkpoint + " (ember train --resume).";
  throw Error(msg);
}

void FitRun::read_steps() {
  for (const PendingStep& p : pending_) {
    double lv = 0, acc = 0;
    if (p.reduced.defined()) {
      const dist::StepStats s = t_.dp_->read(p.reduced);
      lv = s.loss;
      acc = s.total > 0 ? s.correct / s.total : 0.0;
      stop_agreed_ = stop_agreed_ || s.stop;
    } else {
      lv = p.loss.to(Device::cpu()).item();
      acc = fn::accuracy_from_counts(p.counts);
    }
    if (!std::isfinite(lv)) non_finite(lv, p);
    pos_.acc_sum += acc * p.rows;
    pos_.loss_sum += lv * p.rows;
    pos_.seen += p.rows;
    result_.step_losses.push_back(lv);
    losses_csv_ << p.step << ',' << lv;
    if (t_.cfg_.train.log_grad_norm) losses_csv_ << ',' << p.grad_norm;
    losses_csv_ << '\n';
  }
  pending_.clear();
}

// One minibatch: forward, loss, backward (data parallel: gradients summed over the ranks),
// optimizer step, and a progress draw at most every 200 ms.
void FitRun::train_step(const data::Batch& b, int64_t epoch) {
  Dataset batch{b.tokens, b.labels};
  const int64_t n = batch.size();
  RunContext ctx{/*training=*/true, t_.cfg_.seed, pos_.step};
  if (t_.dp_) {  // this rank's rows of the global batch, masks drawn as the whole batch's
    const dist::RowRange mine = t_.dp_->rows_of(n);
    batch = slice_rows(batch, mine.begin, mine.end);
    ctx.row_offset = static_cast<uint64_t>(mine.begin);
  }
  ag::Var loss;
  Tensor counts;
  if (batch.size() > 0) {  // a rank may hold no row of a small last batch
    LayerIO out = t_.model_.forward(batch.tokens, ctx);
    loss = t_.batch_loss(out, batch);
    counts =
        fn::accuracy_counts(out.x.value(), batch.labels, Trainer::step_mask(out), t_.from_logits_);
  }
  bool draw =
      bar_ && std::chrono::steady_clock::now() - last_draw_ > std::chrono::milliseconds(200);
  for (ag::Var* p : params_) p->zero_grad();
  if (loss.defined()) loss.backward();
  PendingStep step{Tensor(),   Tensor(), n,        static_cast<int64_t>(pos_.step),
                   pos_.batch, epoch,    Tensor(), std::nan("")};
  if (t_.dp_) {
    // Every rank now gets the global batch's gradients. Steps are read at the same steps on
    // every rank (never for a progress draw), so that all see a stop together.
    step.reduced = t_.dp_->reduce_step(params_, loss.defined() ? loss.value() : Tensor(), counts,
                                       interrupt_requested().load(), pos_.step);
  } else {
    step.loss = loss.value();
    step.counts = counts;
  }
  // The norm the optimizer's global_clipnorm sees; on a GPU this waits for the device, which
  // is why it is a diagnostic to ask for.
  if (t_.cfg_.train.log_grad_norm) step.grad_norm = global_norm(params_);
  pending_.push_back(step);
  if (pending_.size() >= read_every_ || (draw && !t_.dp_)) read_steps();
  if (t_.dp_) draw = draw && pending_.empty();
  t_.optimizer_->step(params_);
  ++pos_.batch;
  ++pos_.step;
  if (draw) {
    draw_progress(log_, pos_.batch, steps_per_epoch_, elapsed(), mean_loss(), mean_acc());
    last_draw_ = std::chrono::steady_clock::now();
  }
}

// Ctrl-C (or a rank's): interrupted.ckpt holds the position after the last step.
void FitRun::interrupted(int64_t epoch) {
  read_steps();
  pos_.epoch_seconds = elapsed();
  write_run_files("interrupted.ckpt");
  if (bar_) log_ << '\n';
  log_ << "ember: interrupted at epoch " << epoch + 1 << ", batch " << pos_.batch << "; checkpoint "
       << result_.checkpoint << " (continue with --resume)" << std::endl;
  result_.interrupted = true;
}

bool FitRun::run_epoch(int64_t epoch) {
  t0_ = std::chrono::steady_clock::now();
  batches_.start_epoch(static_cast<uint64_t>(epoch));
  data::Batch b;
  for (int64_t skip = 0; skip < pos_.batch; ++skip) batches_.next(&b);  // resumed mid-epoch
  pos_.epoch = epoch;
  last_draw_ = std::chrono::steady_clock::now();
  while (batches_.next(&b)) {
    train_step(b, epoch);
    if (t_.dp_ ? stop_agreed_ : interrupt_requested().load()) {
      interrupted(epoch);
      return false;
    }
    if (!steps_left()) {
      stop_ = true;
      break;
    }
  }
  end_epoch(epoch);
  return true;
}

void FitRun::log_epoch(const EpochRow& e) const {
  char line[256];
  int len =
      std::snprintf(line, sizeof line, "Epoch %lld/%lld - %.1fs - loss: %.4f - accuracy: %.4f",
                    static_cast<long long>(e.epoch), static_cast<long long>(epochs_), e.seconds,
                    e.loss, e.accuracy);
  if (e.has_val)
    std::snprintf(line + len, sizeof line - len, " - val_loss: %.4f - val_accuracy: %.4f",
                  e.val_loss, e.val_accuracy);
  log_ << line << std::endl;
}

// The epoch's row (validation included), its log line, the callbacks, then the position of
// the next epoch's start, which last.ckpt stores.
void FitRun::end_epoch(int64_t epoch) {
  read_steps();
  if (bar_) {
    draw_progress(log_, pos_.batch, steps_per_epoch_, elapsed(), mean_loss(), mean_acc());
    log_ << '\n';
  }
  EpochRow e;
  e.epoch = epoch + 1;
  e.loss = mean_loss();
  e.accuracy = mean_acc();
  e.learning_rate = t_.optimizer_->learning_rate();
  if (!t_.val_.empty()) {
    EvalResult v = t_.evaluate(t_.val_);
    e.has_val = true;
    e.val_loss = v.loss;
    e.val_accuracy = v.accuracy;
  }
  e.seconds = elapsed();
  result_.history.push_back(e);
  log_epoch(e);

  Logs logs{{"loss", e.loss}, {"accuracy", e.accuracy}, {"lr", e.learning_rate}};
  if (e.has_val) {
    logs["val_loss"] = e.val_loss;
    logs["val_accuracy"] = e.val_accuracy;
  }
  for (auto& cb : t_.callbacks_) cb->on_epoch_end(epoch, logs, ctl_);
  if (ctl_.stop_training) stop_ = true;

  pos_.epoch = epoch + 1;  // the next checkpoint starts the next epoch
  pos_.batch = 0;
  pos_.loss_sum = pos_.acc_sum = 0;
  pos_.seen = 0;
  pos_.epoch_seconds = 0;
  pos_.history = result_.history;
  write_run_files("last.ckpt");
}

// Everything that can be refused is checked before the run directory is touched: config,
// data and model before fit(), the checkpoint to resume from in resume_or_begin(). An
// existing directory then keeps its earlier run's files until this run writes its own.
TrainResult FitRun::run() {
  resume_or_begin();
  open_run_dir();
  result_.history = pos_.history;
  if (!steps_left()) write_run_files("");
  stop_ = !steps_left();
  for (int64_t epoch = pos_.epoch; epoch < epochs_ && !stop_; ++epoch)
    if (!run_epoch(epoch)) break;
  return std::move(result_);
}

TrainResult Trainer::fit(std::ostream& log) {
  return FitRun(*this, log).run();
}

}  // namespace ember
