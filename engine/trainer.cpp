// Training loop, evaluation and the run directory (see trainer.h).
#include "engine/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "engine/device.h"
#include "engine/synthetic.h"
#include "engine/tensor_ops.h"
#include "layers/builder.h"
#include "layers/functional.h"

namespace ember {

namespace fs = std::filesystem;

namespace {

// Writes `text` to `path` through a temporary file and a rename, so a reader (or a crash)
// never sees a half-written file.
void write_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("cannot write " + tmp.string() + ": check that the run directory is writable");
    f << text;
    if (!f.flush()) throw Error("writing " + tmp.string() + " failed (disk full?)");
  }
  fs::rename(tmp, path);
}

std::string history_csv(const std::vector<EpochStats>& h) {
  std::ostringstream s;
  s << "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
  s << std::setprecision(9);
  for (const EpochStats& e : h) {
    s << e.epoch << ',' << e.loss << ',' << e.accuracy << ',';
    if (e.has_val) s << e.val_loss << ',' << e.val_accuracy;
    else s << ',';
    s << ',' << e.learning_rate << ',' << std::setprecision(4) << e.seconds
      << std::setprecision(9) << '\n';
  }
  return s.str();
}

std::string last_layer_desc(const Model& m) {
  const Layer& l = *m.layers().back();
  return "'" + l.name + "' (" + l.type() + ") outputs " + feature_shape_str(m.output_shape());
}

}  // namespace

DataSplits load_data(const Config& cfg) {
  if (cfg.data.synthetic) return make_synthetic(*cfg.data.synthetic, cfg.sequence);
  throw Error(cfg.data.loc.str() + ": data: reading dataset files ('" + cfg.data.train +
              "') is not available in this build yet; use data.synthetic");
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

  Dataset train_all = head(data.train, opts.limit);
  if (cfg.train.validation_split > 0) {
    split_validation(train_all, cfg.train.validation_split, &train_, &val_);
  } else {
    train_ = train_all;
    val_ = data.val;
  }
  if (train_.empty()) throw Error("no training rows left (limit or validation_split too large)");

  if (!cfg.train.callbacks.empty())
    throw Error(cfg.train.callbacks.front().loc.str() + ": train.callbacks: callbacks (" +
                cfg.train.callbacks.front().type +
                ", ...) are not implemented in this build yet; remove them to train");

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
  // A per-step output [B,T,K] carries its time mask into the loss, as Keras does.
  Tensor mask = out.x.value().ndim() == 3 ? out.mask : Tensor();
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

EvalResult Trainer::evaluate(const Dataset& d) const {
  ag::NoGradGuard no_grad;
  EvalResult r;
  const int64_t bs = cfg_.train.batch_size;
  RunContext ctx;  // inference: dropout off
  for (int64_t b = 0; b < d.size(); b += bs) {
    Dataset batch = slice_rows(d, b, std::min(d.size(), b + bs));
    LayerIO out = model_.forward(batch.tokens, ctx);
    const double n = static_cast<double>(batch.size());
    r.loss += batch_loss(out, batch).value().item() * n;
    Tensor mask = out.x.value().ndim() == 3 ? out.mask : Tensor();
    r.accuracy += fn::accuracy(out.x.value(), batch.labels, mask, from_logits_) * n;
  }
  if (d.size()) {
    r.loss /= d.size();
    r.accuracy /= d.size();
  }
  return r;
}

TrainResult Trainer::fit(std::ostream& log) {
  TrainResult result;
  fs::path run_dir;
  if (opts_.write_run_dir) {
    run_dir = opts_.out_dir.empty() ? fs::path("runs") / cfg_.name : fs::path(opts_.out_dir);
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw Error("cannot create run directory " + run_dir.string() + ": " + ec.message());
    // Fail before training, not after an hour of it, if nothing can be written there.
    write_atomically(run_dir / "history.csv", history_csv({}));
    if (!cfg_.path.empty()) fs::copy_file(cfg_.path, run_dir / "config.yaml",
                                          fs::copy_options::overwrite_existing);
    result.run_dir = run_dir.string();
  }

  const int64_t epochs = opts_.epochs.value_or(cfg_.train.epochs);
  const int64_t bs = cfg_.train.batch_size;
  const int64_t steps_per_epoch = (train_.size() + bs - 1) / bs;
  std::vector<ag::Var*> params = model_.parameters();
  std::ostringstream losses_csv;
  losses_csv << "step,loss\n" << std::setprecision(9);
  uint64_t step = 0;
  bool stop = false;

  for (int64_t epoch = 0; epoch < epochs && !stop; ++epoch) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<int64_t> order = epoch_permutation(train_.size(), cfg_.seed, epoch);
    if (!cfg_.train.shuffle)
      for (int64_t i = 0; i < train_.size(); ++i) order[i] = i;
    double loss_sum = 0, acc_sum = 0;
    int64_t seen = 0;
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      const int64_t begin = s * bs, n = std::min(bs, train_.size() - begin);
      Dataset batch = gather_rows(train_, order.data() + begin, n);
      RunContext ctx{/*training=*/true, cfg_.seed, step};
      LayerIO out = model_.forward(batch.tokens, ctx);
      ag::Var loss = batch_loss(out, batch);
      const double lv = loss.value().item();
      if (!std::isfinite(lv))
        throw Error("loss is " + std::to_string(lv) + " at step " + std::to_string(step) +
                    " (epoch " + std::to_string(epoch + 1) + "); lower the learning rate or " +
                    "set optimizer.global_clipnorm");
      for (ag::Var* p : params) p->zero_grad();
      loss.backward();
      optimizer_->step(params);

      Tensor mask = out.x.value().ndim() == 3 ? out.mask : Tensor();
      acc_sum += fn::accuracy(out.x.value(), batch.labels, mask, from_logits_) * n;
      loss_sum += lv * n;
      seen += n;
      result.step_losses.push_back(lv);
      losses_csv << step << ',' << lv << '\n';
      ++step;
      if (opts_.max_steps > 0 && static_cast<int64_t>(step) >= opts_.max_steps) {
        stop = true;
        break;
      }
    }
    EpochStats e;
    e.epoch = epoch + 1;
    e.loss = loss_sum / seen;
    e.accuracy = acc_sum / seen;
    e.learning_rate = optimizer_->learning_rate();
    if (!val_.empty()) {
      EvalResult v = evaluate(val_);
      e.has_val = true;
      e.val_loss = v.loss;
      e.val_accuracy = v.accuracy;
    }
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.history.push_back(e);

    char line[256];
    int len = std::snprintf(line, sizeof line, "Epoch %lld/%lld - %.1fs - loss: %.4f - accuracy: %.4f",
                            static_cast<long long>(e.epoch), static_cast<long long>(epochs),
                            e.seconds, e.loss, e.accuracy);
    if (e.has_val)
      std::snprintf(line + len, sizeof line - len, " - val_loss: %.4f - val_accuracy: %.4f",
                    e.val_loss, e.val_accuracy);
    log << line << std::endl;
    if (opts_.write_run_dir) {
      write_atomically(run_dir / "history.csv", history_csv(result.history));
      write_atomically(run_dir / "losses.csv", losses_csv.str());
    }
  }
  return result;
}

TrainResult train_from_config(const Config& cfg, const TrainOptions& opts, std::ostream& log) {
  Device dev = resolve_device(opts.device);
  if (!dev.is_cpu())
    throw Error("--device cuda: GPU training is not available in this build yet; use --device cpu");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  Trainer trainer(cfg, model, data, opts);
  log << "ember: training '" << cfg.name << "' on cpu: " << data.train.size() << " rows, "
      << model.param_count() << " parameters" << std::endl;
  TrainResult r = trainer.fit(log);
  if (!data.test.empty()) {
    EvalResult t = trainer.evaluate(data.test);
    char line[128];
    std::snprintf(line, sizeof line, "test_loss: %.4f - test_accuracy: %.4f", t.loss, t.accuracy);
    log << line << std::endl;
  }
  if (!r.run_dir.empty()) log << "ember: run directory " << r.run_dir << std::endl;
  return r;
}

}  // namespace ember
