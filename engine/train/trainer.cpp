// The Trainer's checks, loss and evaluation, and train_from_config (see trainer.h); the
// training loop itself, Trainer::fit, is engine/train/trainer_fit.cpp.
#include "engine/train/trainer.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <sstream>

#include "engine/core/device.h"
#include "engine/core/parallel.h"
#include "engine/core/tensor_ops.h"
#include "engine/dist/backend.h"
#include "engine/dist/data_parallel.h"
#include "engine/dist/world.h"
#include "engine/eval/evaluate.h"
#include "engine/pipeline/synthetic.h"
#include "engine/train/dist_job.h"
#include "engine/train/run_lock.h"
#include "engine/train/run_outputs.h"
#include "layers/builder.h"
#include "layers/functional.h"

namespace ember {

namespace fs = std::filesystem;

namespace {

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
  if (dropped || bad)
    s << "; dropped " << dropped << " rows (labels, cleaning), skipped " << bad
      << " bad rows (ember data CONFIG shows details)";
  return s.str();
}

// Class weights scale each sample's loss: 'balanced' is n / (K * count_c), as scikit-learn.
// Empty: none.
std::vector<double> class_weights(const Config& cfg, const Dataset& train, int64_t k) {
  std::vector<double> weight;
  if (cfg.train.class_weight == "balanced") {
    std::vector<int64_t> counts = class_counts(train.labels, k);
    for (int64_t c = 0; c < k; ++c)
      weight.push_back(counts[c] ? double(train.size()) / (k * counts[c]) : 0);
  } else if (!cfg.train.class_weights.empty()) {
    weight.assign(k, 1.0);
    for (auto [c, w] : cfg.train.class_weights) {
      if (c < 0 || c >= k)
        throw Error(cfg.path + ": train.class_weight names class " + std::to_string(c) +
                    ", but there are " + std::to_string(k) + " classes");
      weight[c] = w;
    }
  }
  return weight;
}

// The test split, then every data.extra_tests set, each with its own metrics files.
void evaluate_tests(const Trainer& trainer, const DataSplits& data, const std::string& run_dir,
                    std::ostream& log) {
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
    if (!run_dir.empty()) write_evaluation(run_dir, name, ev, data.class_names, t.loss);
  }
}

// A data-parallel job, once every rank has its data and model: they must agree on both, then
// gradients go through the fastest communicator the device allows (into topts->comm).
std::unique_ptr<dist::Communicator> join_ranks(const Config& cfg, const DataSplits& data,
                                               const Model& model, const Device& dev,
                                               std::ostream& log, TrainOptions* topts) {
  dist::Communicator& comm = *topts->comm;
  dist::check_same_on_all_ranks(comm, dist::data_fingerprint(data, model),
                                "after loading the data and building the model");
  std::string how;
  std::unique_ptr<dist::Communicator> gradient_comm =
      dist::make_gradient_communicator(comm, dev, &how);
  if (gradient_comm) topts->comm = gradient_comm.get();
  const int64_t bs = cfg.train.batch_size, w = comm.size();
  const std::string sizes =
      std::to_string(bs / w) + (bs % w ? " or " + std::to_string(bs / w + 1) : "");
  log << "ember: data parallel: " << w << " ranks (" << how << "); each global batch of " << bs
      << " rows gives every rank " << sizes << std::endl;
  return gradient_comm;
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

Trainer::Trainer(const Config& cfg, Model& model, const DataSplits& data, const TrainOptions& opts)
    : cfg_(cfg), model_(model), opts_(opts) {
  num_classes_ = static_cast<int64_t>(data.class_names.size());
  EMBER_CHECK_ARG(num_classes_ >= 2, "the data has " << num_classes_ << " classes; need 2 or more");
  from_logits_ = cfg.train.loss.from_logits;
  keras_exact_ = cfg.train.loss.keras_exact;
  binary_ = cfg.train.loss.name == Loss::kBinaryCrossentropy;

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
  fit_splits(head(data.train, opts.limit), data.val, cfg.train.validation_split, &train_, &val_);
  if (train_.empty()) throw Error("no training rows left (limit or validation_split too large)");

  for (const CallbackConfig& cb : cfg.train.callbacks)
    if (cb.type == CallbackKind::kModelCheckpoint && cb.args.count("filepath")) {
      const std::string problem = ModelCheckpoint::path_problem(cb.args.at("filepath"));
      if (!problem.empty()) throw Error(cfg.path + ": ModelCheckpoint filepath: " + problem);
    }
  callbacks_ = make_callbacks(cfg.train.callbacks);

  class_weight_ = class_weights(cfg, train_, num_classes_);
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

// A per-step output [B,T,K] carries its time mask into the loss and accuracy, as Keras does;
// a per-sample output has no time axis to mask.
Tensor Trainer::step_mask(const LayerIO& out) {
  return out.x.value().ndim() == 3 ? out.mask : Tensor();
}

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
  // Except, in tf_keras 2.x, a per-step binary output: its labels are (B, 1), so the loss
  // wrapper squeezes the (B, T, 1) prediction to (B, T) first, and the squeezed tensor no
  // longer carries the sigmoid's logits; backend.binary_crossentropy then clips the
  // probabilities to [1e-7, 1 - 1e-7], and a saturated step gets no gradient at all.
  // keras_exact reproduces that case; by default the logits are used everywhere.
  const Tensor& y_pred = out.x.value();
  const bool keras_squeezed =
      keras_exact_ && binary_ && y_pred.ndim() == 3 && y_pred.shape()[-1] == 1;
  const bool use_logits = !from_logits_ && out.logits.defined() && !keras_squeezed;
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
    EMBER_CHECK(w.size() == params.size(),
                "set_weights: " << w.size() << " tensors for " << params.size() << " parameters");
    for (size_t i = 0; i < w.size(); ++i) params[i]->mutable_value().copy_from(w[i]);
  };
  return ctl;
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
  if (parallel) gradient_comm = join_ranks(cfg, data, model, dev, log, &topts);
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
  contents.train_limit = opts.limit;
  trainer.set_contents(contents);

  const int64_t rows = opts.limit > 0 ? std::min(opts.limit, data.train.size()) : data.train.size();
  log << "ember: training '" << cfg.name << "' on "
      << (dev.is_cpu() ? "cpu (" + std::to_string(par::num_threads()) + " threads)"
                       : dev.str() + " (" + cuda_device_name(dev.index) + ")")
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
  evaluate_tests(trainer, data, r.run_dir, log);
  if (!r.run_dir.empty()) log << "ember: run directory " << r.run_dir << std::endl;
  return r;
}

}  // namespace ember
