// Training loop, evaluation and the run directory (see trainer.h).
#include "engine/train/trainer.h"

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
#include "engine/dist/backend.h"
#include "engine/dist/data_parallel.h"
#include "engine/train/dist_job.h"
#include "engine/dist/world.h"
#include "engine/eval/evaluate.h"
#include "engine/train/run_lock.h"
#include "engine/train/run_outputs.h"
#include "engine/core/device.h"
#include "engine/pipeline/synthetic.h"
#include "engine/core/tensor_ops.h"
#include "layers/builder.h"
#include "layers/functional.h"

namespace ember {

namespace fs = std::filesystem;

namespace {

// A per-step output [B,T,K] carries its time mask into the loss and accuracy, as Keras does;
// a per-sample output has no time axis to mask.
Tensor step_mask(const LayerIO& out) {
  return out.x.value().ndim() == 3 ? out.mask : Tensor();
}

std::string last_layer_desc(const Model& m) {
  const Layer& l = *m.layers().back();
  return "'" + l.name + "' (" + l.type() + ") outputs " + feature_shape_str(m.output_shape());
}

// "train 25000 rows (12500 negative / 12500 positive), test 25000 rows, 6000 token ids".
std::string data_summary(const DataSplits& d, const data::LoadReport& rep) {
  std::ostringstream s;
  auto split = [&](const char* name, const data::SplitReport& r, bool classes) {
    s << name << ' ' << r.rows << " rows";
    if (classes && !r.class_counts.empty()) {
      s << " (";
      for (size_t c = 0; c < r.class_counts.size(); ++c)
        s << (c ? " / " : "") << r.class_counts[c] << ' ' << d.class_names[c];
      s << ')';
    }
  };
  split("train", rep.train, true);
  if (rep.validation.rows) split(", validation", rep.validation, false);
  if (rep.test.rows) split(", test", rep.test, false);
  for (const auto& [name, r] : rep.extra_tests) split((", " + name).c_str(), r, false);
  s << ", " << d.vocab.size() << " token ids, maxlen " << rep.maxlen;
  std::vector<const data::SplitReport*> all = {&rep.train, &rep.test, &rep.validation};
  for (const auto& kv : rep.extra_tests) all.push_back(&kv.second);
  int64_t dropped = 0;
  for (const data::SplitReport* r : all) {
    dropped += r->dropped_by_clean;
    for (const auto& kv : r->dropped_labels) dropped += kv.second;
  }
  int64_t bad = 0;
  for (const data::FileReport& f : rep.files) bad += f.skipped_rows;
  if (dropped || bad) s << "; dropped " << dropped << " rows (labels, cleaning), skipped " << bad
                        << " bad rows (ember data CONFIG shows details)";
  return s.str();
}

// A file's bytes, or "" when it cannot be read.
std::string read_text_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

DataSplits load_data(const Config& cfg, const std::string& data_dir, data::LoadReport* report) {
  if (cfg.data.synthetic) {
    DataSplits s = make_synthetic(*cfg.data.synthetic, cfg.sequence);
    data::check_embedding_fits(cfg, static_cast<int64_t>(s.vocab.size()),
                               "the synthetic vocabulary has " + std::to_string(s.vocab.size()) +
                                   " ids including padding");
    return s;
  }
  data::LoadReport local;
  data::LoadReport& rep = report ? *report : local;
  DataSplits s = data::load_dataset(cfg, data::resolve_data_dir(data_dir), &rep);
  const data::Tokenizer& tok = rep.tokenizer;
  const int64_t v = tok.vocab_size();
  data::check_embedding_fits(
      cfg, v,
      cfg.tokenizer.num_words
          ? "tokenizer.num_words is " + std::to_string(*cfg.tokenizer.num_words)
          : "the tokenizer's word_index has " + std::to_string(tok.index_word().size()) +
                " entries and no num_words is set");
  return s;
}

Trainer::Trainer(const Config& cfg, Model& model, const DataSplits& data,
                 const TrainOptions& opts)
    : cfg_(cfg), model_(model), opts_(opts) {
  num_classes_ = static_cast<int64_t>(data.class_names.size());
  EMBER_CHECK_ARG(num_classes_ >= 2, "the data has " << num_classes_ << " classes; need 2 or more");
  from_logits_ = cfg.train.loss.from_logits;
  binary_ = cfg.train.loss.name == "binary_crossentropy";
  if (!binary_ && cfg.train.loss.name != "sparse_categorical_crossentropy")
    throw Error(cfg.path + ": train.loss: unknown loss '" + cfg.train.loss.name +
                "' (binary_crossentropy, sparse_categorical_crossentropy)");

  // The last layer must fit the loss: one unit for binary, one per class for sparse.
  const int64_t units = model.output_shape().back();
  if (binary_ && (units != 1 || num_classes_ != 2))
    throw Error(cfg.path + ": binary_crossentropy needs one output unit and 2 classes, but " +
                last_layer_desc(model) + " and the data has " + std::to_string(num_classes_) +
                " classes");
  if (!binary_ && units != num_classes_)
    throw Error(cfg.path + ": sparse_categorical_crossentropy needs one output per class (" +
                std::to_string(num_classes_) + "), but " + last_layer_desc(model));

  // Options from code get the checks the CLI gives its flags.
  if (opts.epochs && *opts.epochs < 1)
    throw Error("--epochs: expected at least 1, got " + std::to_string(*opts.epochs));
  if (opts.limit < 0)
    throw Error("--limit: expected at least 1, got " + std::to_string(opts.limit));
  if (opts.max_steps < -1)
    throw Error("--max-steps: expected at least 0, got " + std::to_string(opts.max_steps));
  Dataset train_all = head(data.train, opts.limit);
  if (cfg.train.validation_split > 0) {
    split_validation(train_all, cfg.train.validation_split, &train_, &val_);
  } else {
    train_ = train_all;
    val_ = data.val;
  }
  if (train_.empty()) throw Error("no training rows left (limit or validation_split too large)");

  for (const CallbackConfig& cb : cfg.train.callbacks)
    if (cb.type == "ModelCheckpoint" && cb.args.count("filepath")) {
      const std::string problem = ModelCheckpoint::path_problem(cb.args.at("filepath"));
      if (!problem.empty()) throw Error(cfg.path + ": ModelCheckpoint filepath: " + problem);
    }
  callbacks_ = make_callbacks(cfg.train.callbacks);

  // Class weights scale each sample's loss: 'balanced' is n / (K * count_c), as scikit-learn.
  if (cfg.train.class_weight == "balanced") {
    std::vector<int64_t> counts = class_counts(train_.labels, num_classes_);
    for (int64_t c = 0; c < num_classes_; ++c)
      class_weight_.push_back(counts[c] ? double(train_.size()) / (num_classes_ * counts[c]) : 0);
  } else if (!cfg.train.class_weights.empty()) {
    class_weight_.assign(num_classes_, 1.0);
    for (auto [c, w] : cfg.train.class_weights) {
      if (c < 0 || c >= num_classes_)
        throw Error(cfg.path + ": train.class_weight names class " + std::to_string(c) +
                    ", but there are " + std::to_string(num_classes_) + " classes");
      class_weight_[c] = w;
    }
  }
  optimizer_ = make_optimizer(cfg.train.optimizer);

  // Data parallel: rank 0 alone writes; a global batch must give every rank a row.
  if (opts.comm && opts.comm->size() > 1) {
    dp_ = std::make_unique<dist::DataParallel>(*opts.comm);
    if (!dp_->writer()) opts_.write_run_dir = false;
    if (cfg.train.batch_size < dp_->size())
      throw Error(cfg.path + ": train.batch_size " + std::to_string(cfg.train.batch_size) +
                  " is the global batch, split across " + std::to_string(dp_->size()) +
                  " ranks: it must give every rank at least one row (use fewer ranks or a "
                  "larger batch)");
  }
}

Trainer::~Trainer() = default;

Tensor Trainer::sample_weights(const Dataset& batch) const {
  if (class_weight_.empty()) return Tensor();
  Tensor w = Tensor::empty({batch.size()}, DType::kFloat32);
  for (int64_t i = 0; i < batch.size(); ++i)
    w.data<float>()[i] = static_cast<float>(class_weight_[batch.labels.data<int32_t>()[i]]);
  return w;
}

ag::Var Trainer::batch_loss(const LayerIO& out, const Dataset& batch) const {
  const Tensor mask = step_mask(out);
  Tensor sw = sample_weights(batch);
  // A probability loss on sigmoid/softmax output is computed from the logits, as tf.keras's
  // fit() does: same value away from saturation, and no clipping or dead gradient near it.
  const bool use_logits = !from_logits_ && out.logits.defined();
  const ag::Var& pred = use_logits ? out.logits : out.x;
  const bool logits = from_logits_ || use_logits;
  if (binary_) {
    Tensor y = batch.labels.to(pred.value().dtype());
    return fn::binary_crossentropy(pred, y, sw, mask, logits);
  }
  return fn::sparse_categorical_crossentropy(pred, batch.labels, sw, mask, logits);
}

EvalResult Trainer::evaluate(const Dataset& d, Scores* scores) const {
  ag::NoGradGuard no_grad;
  EvalResult r;
  const int64_t bs = cfg_.train.batch_size;
  RunContext ctx;  // inference: dropout off
  // Data parallel: each rank runs its share of the batches (the single process's batches, so
  // each batch's numbers are the same), and the sums are added in rank order below.
  const int64_t nbatches = (d.size() + bs - 1) / bs;
  const dist::RowRange mine = dp_ ? dp_->rows_of(nbatches) : dist::RowRange{0, nbatches};
  for (int64_t b = mine.begin * bs; b < std::min(d.size(), mine.end * bs); b += bs) {
    Dataset batch = slice_rows(d, b, std::min(d.size(), b + bs));
    LayerIO out = model_.forward(batch.tokens, ctx);
    const double n = static_cast<double>(batch.size());
    r.loss += batch_loss(out, batch).value().to(Device::cpu()).item() * n;
    r.accuracy += fn::accuracy(out.x.value(), batch.labels, step_mask(out), from_logits_) * n;
    if (scores) append_scores(out.x.value(), from_logits_, scores);
  }
  if (dp_) {
    std::vector<double> sums{r.loss, r.accuracy};
    dp_->sum(sums, "evaluation totals");
    r.loss = sums[0];
    r.accuracy = sums[1];
    if (scores)
      dp_->gather_scores(*scores, std::min(d.size(), mine.begin * bs), d.size(), num_classes_,
                         "evaluation scores");
  }
  if (d.size()) {
    r.loss /= d.size();
    r.accuracy /= d.size();
  }
  return r;
}

std::atomic<bool>& interrupt_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

TrainControl train_control(Optimizer& optimizer, const std::vector<ag::Var*>& params) {
  TrainControl ctl;
  ctl.get_lr = [&optimizer] { return optimizer.learning_rate(); };
  ctl.set_lr = [&optimizer](double v) { optimizer.set_learning_rate(v); };
  ctl.get_weights = [&params] {
    std::vector<Tensor> w;
    for (ag::Var* p : params) w.push_back(p->value().to(Device::cpu()).clone());
    return w;
  };
  ctl.set_weights = [&params](const std::vector<Tensor>& w) {
    EMBER_CHECK(w.size() == params.size(), "set_weights: " << w.size() << " tensors for "
                                                           << params.size() << " parameters");
    for (size_t i = 0; i < w.size(); ++i) params[i]->mutable_value().copy_from(w[i]);
  };
  return ctl;
}

namespace {
// Keras-like progress line, redrawn in place on a terminal.
void draw_progress(std::ostream& log, int64_t done, int64_t total, double seconds, double loss,
                   double acc) {
  constexpr int kWidth = 30;
  const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), '.');
  char line[256];
  std::snprintf(line, sizeof line, "\r%lld/%lld [%s] - %.0fs %.0fms/step - loss: %.4f - accuracy: %.4f",
                static_cast<long long>(done), static_cast<long long>(total), bar.c_str(), seconds,
                done ? 1000.0 * seconds / done : 0.0, loss, acc);
  log << line << std::flush;
}
}  // namespace

TrainResult Trainer::fit(std::ostream& log) {
  TrainResult result;
  const fs::path run_dir =
      !opts_.write_run_dir ? fs::path()
      : opts_.out_dir.empty() ? fs::path("runs") / cfg_.name
                              : fs::path(opts_.out_dir);

  const int64_t epochs = opts_.epochs.value_or(cfg_.train.epochs);
  data::BatchOptions bo;
  bo.batch_size = cfg_.train.batch_size;
  bo.shuffle = cfg_.train.shuffle;
  bo.bucket_by_length = cfg_.train.bucket_by_length;
  bo.seed = cfg_.seed;
  bo.pad_value = static_cast<int32_t>(cfg_.sequence.value);
  data::BatchIterator batches(train_, bo);
  const int64_t steps_per_epoch = (train_.size() + bo.batch_size - 1) / bo.batch_size;
  std::vector<ag::Var*> params = model_.parameters();
  std::ostringstream losses_csv;
  losses_csv << "step,loss\n" << std::setprecision(9);
  const bool bar = opts_.progress == 1 || (opts_.progress < 0 && &log == &std::cout &&
                                           isatty(STDOUT_FILENO));

  TrainControl ctl = train_control(*optimizer_, params);
  ctl.log = &log;
  RunPosition pos;
  // Checkpoints go inside the run directory (the config parser refuses any other path); with
  // no run directory nothing is written.
  auto checkpoint = [&](const std::string& name) {
    if (!opts_.write_run_dir) return;
    const fs::path p = run_dir / name;
    if (!p.parent_path().empty()) fs::create_directories(p.parent_path());
    save_checkpoint(p.string(), model_, contents_, *optimizer_, callbacks_, pos);
    result.checkpoint = p.string();
  };
  // A callback's path is checked again here: a config built in code skips the parser.
  ctl.save = [&](const std::string& name) {
    const std::string problem = ModelCheckpoint::path_problem(name);
    if (!problem.empty()) throw Error("ModelCheckpoint filepath: " + problem);
    checkpoint(name);
  };

  // Everything that can be refused is checked before the run directory is touched: config,
  // data and model before fit(), the checkpoint to resume from here. An existing directory
  // then keeps its earlier run's files until this run writes its own (write_run_files).
  if (!opts_.resume.empty()) {
    pos = load_checkpoint(opts_.resume, model_, *optimizer_, callbacks_);
    if (dp_) {  // every rank read its own copy of the file: they must agree
      std::vector<Tensor> w;
      for (ag::Var* p : params) w.push_back(p->value());
      dist::check_same_on_all_ranks(dp_->comm(),
                                    {{"checkpoint weights", dist::hash_tensors(w), opts_.resume},
                                     {"checkpoint step", std::to_string(pos.step), ""}},
                                    "resuming from " + opts_.resume);
    }
    log << "ember: resumed from " << opts_.resume << " at epoch " << pos.epoch + 1 << ", batch "
        << pos.batch << " (step " << pos.step << ")" << std::endl;
  } else {
    for (auto& cb : callbacks_) cb->on_train_begin(ctl);
  }
  if (opts_.write_run_dir) {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw Error("cannot create run directory " + run_dir.string() + ": " + ec.message() +
                        " (pass --out DIR with a writable DIR)");
    // Also fails before training, not after an hour of it, if nothing can be written there.
    lock_ = std::make_unique<RunLock>(run_dir.string());
    result.run_dir = run_dir.string();
    if (!opts_.resume.empty()) {
      // The steps before the checkpoint, from the losses.csv beside it (the run directory's
      // own when resuming in place): the resumed run's file then equals an uninterrupted one.
      const fs::path earlier = fs::path(opts_.resume).parent_path() / "losses.csv";
      std::string warning;
      losses_csv << losses_before(read_text_file(earlier), pos.step, &warning);
      if (!warning.empty())
        log << "ember: warning: " << opts_.resume << ": " << warning << "; losses.csv starts at "
            << "step " << pos.step << std::endl;
    }
  }
  // The run's own files: the config copy (the text that was parsed, so the run's config is
  // what trained it even if the file has changed since), history, losses, then `ckpt` if one
  // is named. The first call also clears what an earlier run left that no longer fits.
  bool published = false;
  auto write_run_files = [&](const std::string& ckpt) {
    if (!opts_.write_run_dir) return;
    if (!published) write_file_atomically((run_dir / "config.yaml").string(), cfg_.text);
    write_history(run_dir.string(), result.history);
    write_file_atomically((run_dir / "losses.csv").string(), losses_csv.str());
    if (!ckpt.empty()) checkpoint(ckpt);
    if (!published)
      remove_stale_outputs(run_dir.string(), ckpt == "last.ckpt", !opts_.resume.empty(),
                           result.history.empty());
    published = true;
  };
  result.history = pos.history;
  // --max-steps counts steps of the whole run, so a resumed run past it trains no further;
  // --max-steps 0 therefore writes the initialised model and stops (train_from_config).
  auto steps_left = [&] {
    return opts_.max_steps < 0 || static_cast<int64_t>(pos.step) < opts_.max_steps;
  };
  if (!steps_left()) write_run_files("");
  bool stop = !steps_left();

  // Step results (loss, accuracy counts) stay on the device until read here, in step order:
  // on a GPU a step then queues its work and never waits for the device; results are read
  // every read_every steps, before a progress draw, at the epoch's end and before any
  // checkpoint. On the CPU every step is read at once (nothing to wait for), which keeps the
  // NaN check before that step's update. A non-finite loss stops training naming its step.
  struct PendingStep {
    Tensor loss, counts;
    int64_t rows, step, batch, epoch;
    Tensor reduced;  // data parallel: the global batch's sums (dist::DataParallel::read)
  };
  bool stop_agreed = false;  // data parallel: some rank was interrupted
  std::vector<PendingStep> pending;
  const size_t read_every = model_.device().is_cpu() ? 1 : 64;
  auto read_steps = [&] {
    for (const PendingStep& p : pending) {
      double lv = 0, acc = 0;
      if (p.reduced.defined()) {
        const dist::StepStats s = dp_->read(p.reduced);
        lv = s.loss;
        acc = s.total > 0 ? s.correct / s.total : 0.0;
        stop_agreed = stop_agreed || s.stop;
      } else {
        lv = p.loss.to(Device::cpu()).item();
        acc = fn::accuracy_from_counts(p.counts);
      }
      if (!std::isfinite(lv)) {
        std::string msg = "loss is " + std::to_string(lv) + " at step " + std::to_string(p.step) +
                          " (epoch " + std::to_string(p.epoch + 1) + ", batch " +
                          std::to_string(p.batch + 1) + "); lower the learning rate or set " +
                          "optimizer.global_clipnorm.";
        if (!result.checkpoint.empty())
          msg += " The last good checkpoint is " + result.checkpoint + " (ember train --resume).";
        throw Error(msg);
      }
      pos.acc_sum += acc * p.rows;
      pos.loss_sum += lv * p.rows;
      pos.seen += p.rows;
      result.step_losses.push_back(lv);
      losses_csv << p.step << ',' << lv << '\n';
    }
    pending.clear();
  };

  for (int64_t epoch = pos.epoch; epoch < epochs && !stop; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return pos.epoch_seconds +
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    batches.start_epoch(static_cast<uint64_t>(epoch));
    data::Batch b;
    for (int64_t skip = 0; skip < pos.batch; ++skip) batches.next(&b);  // resumed mid-epoch
    pos.epoch = epoch;
    auto last_draw = std::chrono::steady_clock::now();
    while (batches.next(&b)) {
      Dataset batch{b.tokens, b.labels};
      const int64_t n = batch.size();
      RunContext ctx{/*training=*/true, cfg_.seed, pos.step};
      if (dp_) {  // this rank's rows of the global batch, masks drawn as the whole batch's
        const dist::RowRange mine = dp_->rows_of(n);
        batch = slice_rows(batch, mine.begin, mine.end);
        ctx.row_offset = static_cast<uint64_t>(mine.begin);
      }
      ag::Var loss;
      Tensor counts;
      if (batch.size() > 0) {  // a rank may hold no row of a small last batch
        LayerIO out = model_.forward(batch.tokens, ctx);
        loss = batch_loss(out, batch);
        counts = fn::accuracy_counts(out.x.value(), batch.labels, step_mask(out), from_logits_);
      }
      bool draw =
          bar && std::chrono::steady_clock::now() - last_draw > std::chrono::milliseconds(200);
      if (!dp_) {
        pending.push_back(
            {loss.value(), counts, n, static_cast<int64_t>(pos.step), pos.batch, epoch, Tensor()});
        if (pending.size() >= read_every || draw) read_steps();
      }
      for (ag::Var* p : params) p->zero_grad();
      if (loss.defined()) loss.backward();
      if (dp_) {
        // Every rank now gets the global batch's gradients. Steps are read at the same
        // steps on every rank (never for a progress draw), so that all see a stop together.
        pending.push_back({Tensor(), Tensor(), n, static_cast<int64_t>(pos.step), pos.batch, epoch,
                           dp_->reduce_step(params, loss.defined() ? loss.value() : Tensor(),
                                            counts, interrupt_requested().load(), pos.step)});
        if (pending.size() >= read_every) read_steps();
        draw = draw && pending.empty();
      }
      optimizer_->step(params);
      ++pos.batch;
      ++pos.step;
      if (draw) {
        draw_progress(log, pos.batch, steps_per_epoch, elapsed(), pos.loss_sum / pos.seen,
                      pos.acc_sum / pos.seen);
        last_draw = std::chrono::steady_clock::now();
      }
      if (dp_ ? stop_agreed : interrupt_requested().load()) {
        read_steps();
        pos.epoch_seconds = elapsed();
        write_run_files("interrupted.ckpt");
        if (bar) log << '\n';
        log << "ember: interrupted at epoch " << epoch + 1 << ", batch " << pos.batch
            << "; checkpoint " << result.checkpoint << " (continue with --resume)" << std::endl;
        result.interrupted = true;
        return result;
      }
      if (!steps_left()) {
        stop = true;
        break;
      }
    }
    read_steps();
    if (bar) {
      draw_progress(log, pos.batch, steps_per_epoch, elapsed(), pos.loss_sum / pos.seen,
                    pos.acc_sum / pos.seen);
      log << '\n';
    }
    EpochRow e;
    e.epoch = epoch + 1;
    e.loss = pos.loss_sum / pos.seen;
    e.accuracy = pos.acc_sum / pos.seen;
    e.learning_rate = optimizer_->learning_rate();
    if (!val_.empty()) {
      EvalResult v = evaluate(val_);
      e.has_val = true;
      e.val_loss = v.loss;
      e.val_accuracy = v.accuracy;
    }
    e.seconds = elapsed();
    result.history.push_back(e);

    char line[256];
    int len = std::snprintf(line, sizeof line, "Epoch %lld/%lld - %.1fs - loss: %.4f - accuracy: %.4f",
                            static_cast<long long>(e.epoch), static_cast<long long>(epochs),
                            e.seconds, e.loss, e.accuracy);
    if (e.has_val)
      std::snprintf(line + len, sizeof line - len, " - val_loss: %.4f - val_accuracy: %.4f",
                    e.val_loss, e.val_accuracy);
    log << line << std::endl;

    Logs logs{{"loss", e.loss}, {"accuracy", e.accuracy}, {"lr", e.learning_rate}};
    if (e.has_val) {
      logs["val_loss"] = e.val_loss;
      logs["val_accuracy"] = e.val_accuracy;
    }
    for (auto& cb : callbacks_) cb->on_epoch_end(epoch, logs, ctl);
    if (ctl.stop_training) stop = true;

    pos.epoch = epoch + 1;  // the next checkpoint starts the next epoch
    pos.batch = 0;
    pos.loss_sum = pos.acc_sum = 0;
    pos.seen = 0;
    pos.epoch_seconds = 0;
    pos.history = result.history;
    write_run_files("last.ckpt");
  }
  return result;
}

TrainResult train_from_config(const Config& cfg, const TrainOptions& opts, std::ostream& log) {
  // Started by mpirun: this process is one rank of a data-parallel job (engine/train/dist_job.h),
  // which comes back here with opts.comm set.
  if (!opts.comm && dist::detect_launch().by_launcher)
    return dist::train_as_rank(
        dist::world(), cfg, opts, log,
        [&](const TrainOptions& o, std::ostream& l) { return train_from_config(cfg, o, l); });
  const bool parallel = opts.comm && opts.comm->size() > 1;
  Device dev = resolve_device(opts.device);
  if (parallel) dev = dist::device_for_rank(*opts.comm, dev);  // one GPU per rank
  data::LoadReport rep;
  DataSplits data = load_data(cfg, opts.data_dir, &rep);
  if (cfg.data.real()) log << "ember: data: " << data_summary(data, rep) << std::endl;
  for (const std::string& w : rep.warnings) log << "ember: warning: " << w << std::endl;
  Model model = build_model(cfg, DType::kFloat32);
  TrainOptions topts = opts;
  std::unique_ptr<dist::Communicator> gradient_comm;
  if (parallel) {
    dist::check_same_on_all_ranks(*opts.comm, dist::data_fingerprint(data, model),
                                  "after loading the data and building the model");
    std::string how;
    gradient_comm = dist::make_gradient_communicator(*opts.comm, dev, &how);
    if (gradient_comm) topts.comm = gradient_comm.get();
    const int64_t bs = cfg.train.batch_size, w = opts.comm->size();
    const std::string sizes =
        std::to_string(bs / w) + (bs % w ? " or " + std::to_string(bs / w + 1) : "");
    log << "ember: data parallel: " << w << " ranks (" << how << "); each global batch of " << bs
        << " rows gives every rank " << sizes << std::endl;
  }
  model.to(dev);  // weights are drawn on the CPU, so a seed gives the same model everywhere
  Trainer trainer(cfg, model, data, topts);
  BundleContents contents;
  // The text the config was parsed from, not the file as it is now (it may have changed, or
  // the config may not come from a file at all).
  contents.config_text = cfg.text;
  contents.config_name = cfg.path;
  const data::Tokenizer synthetic_tok =
      cfg.data.synthetic ? synthetic_tokenizer() : data::Tokenizer();
  contents.tokenizer = cfg.data.real() ? &rep.tokenizer : &synthetic_tok;
  contents.clean_steps = cfg.data.clean;
  contents.class_names = data.class_names;
  contents.maxlen = data.train.tokens.size(1);
  trainer.set_contents(contents);

  const int64_t rows = opts.limit > 0 ? std::min(opts.limit, data.train.size()) : data.train.size();
  log << "ember: training '" << cfg.name << "' on "
      << (dev.is_cpu() ? std::string("cpu") : dev.str() + " (" + cuda_device_name(dev.index) + ")")
      << ": " << rows << " rows, " << model.param_count() << " parameters" << std::endl;
  TrainResult r = trainer.fit(log);
  if (r.interrupted) return r;
  if (!r.run_dir.empty()) {
    const std::string bundle = (fs::path(r.run_dir) / "model.ember").string();
    save_bundle(bundle, model, contents);
    log << "ember: model saved to " << bundle << std::endl;
  }
  if (opts.max_steps == 0) return r;  // the initialised model only: nothing to evaluate
  if (!parallel && interrupt_requested().load()) {
    // A stop signal after the last step: the model is saved, the metrics are skipped. (Not in
    // a data-parallel job, whose ranks agree on a stop only at a training step.)
    log << "ember: interrupted before the test evaluation; `ember evaluate` scores the saved "
        << "model" << std::endl;
    r.interrupted = true;
    return r;
  }
  // The test split, then every data.extra_tests set, each with its own metrics files.
  std::vector<std::pair<std::string, const Dataset*>> tests;
  if (!data.test.empty()) tests.emplace_back("test", &data.test);
  for (const auto& [name, ds] : data.extra_tests)
    if (!ds.empty()) tests.emplace_back(name, &ds);
  for (const auto& [name, ds] : tests) {
    Scores sc;
    EvalResult t = trainer.evaluate(*ds, &sc);
    check_scores_finite(sc, "the trained model on the " + name + " split");
    Evaluation ev = evaluate_scores(sc, ds->labels);
    char line[256];
    std::snprintf(line, sizeof line, "%s_loss: %.4f - %s_accuracy: %.4f - %s_auc: %.4f",
                  name.c_str(), t.loss, name.c_str(), t.accuracy, name.c_str(), ev.auc);
    log << line << std::endl << metrics::format_report(ev.report, data.class_names, 4);
    if (!r.run_dir.empty()) write_evaluation(r.run_dir, name, ev, data.class_names, t.loss);
  }
  if (!r.run_dir.empty()) log << "ember: run directory " << r.run_dir << std::endl;
  return r;
}

}  // namespace ember
