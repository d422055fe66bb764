// libFuzzer target for the bundle and checkpoint loader: the input bytes are a model.ember or
// last.ckpt file. They go through parse_safetensors (what load_safetensors does after reading
// the file); a file that parses must serialise and parse back to the same tensors and
// metadata. Then bundle_from_file rebuilds the model it describes (its own embedded config),
// which predicts on two texts when small, and restore_checkpoint resumes a fixed tiny model,
// its Adam optimizer and its callbacks (EarlyStopping with best weights, ReduceLROnPlateau)
// from the same file, as `ember train --resume` does; the resumed run then takes one
// optimizer step and ends one epoch through the callbacks, whose saved state (best weights
// included) must be usable or refused. Host tensors are capped at 64 MiB (an AllocationError).
// ember::Error is the expected way to reject input; any other exception, a sanitizer report or
// a broken invariant (checked below) is a finding.
//
// With FUZZ_WRITE_SEEDS=<dir> in the environment the binary writes seed files there instead
// (real bundles and checkpoints of tiny models, with and without checksums) and exits;
// scripts/fuzz.sh does this before each run, so no corpus is committed.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/core/check.h"
#include "engine/core/tensor.h"
#include "engine/io/bundle.h"
#include "engine/io/safetensors.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/synthetic.h"
#include "engine/train/callbacks.h"
#include "engine/train/checkpoint.h"
#include "engine/train/trainer.h"
#include "fuzz/fuzz_assert.h"
#include "layers/builder.h"
#include "optim/optimizer.h"
#include "tests/support/tiny_config.h"

namespace {

using ember::Bundle;
using ember::Callback;
using ember::Config;
using ember::Model;
using ember::SafetensorsFile;
using ember::Tensor;

// The model every checkpoint is resumed into: tests/support/tiny_config.h's, with callbacks
// that keep state and best weights.
const std::string kCheckpointYaml = "name: tiny\n" + ember::test::kTinyModelYaml + R"(train:
  loss: binary_crossentropy
  optimizer: adam
  epochs: 2
  batch_size: 16
  callbacks:
    - EarlyStopping: {monitor: val_loss, patience: 1, restore_best_weights: true}
    - ReduceLROnPlateau: {monitor: val_loss, factor: 0.5, patience: 1}
)";

// Only models this small are run forward (maxlen * params multiply-adds per text).
constexpr int64_t kMaxForwardParams = 200000;
constexpr int64_t kMaxForwardLen = 64;

const Config& checkpoint_config() {
  static const Config cfg = ember::parse_config(kCheckpointYaml, "fuzz_checkpoint.yaml");
  return cfg;
}

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0);
}

void check_file(const SafetensorsFile& f) {
  for (size_t i = 0; i < f.tensors.size(); ++i) {
    const auto& [name, t] = f.tensors[i];
    FUZZ_ASSERT(!name.empty() && name != "__metadata__");
    FUZZ_ASSERT(t.defined() && t.device().is_cpu());
    FUZZ_ASSERT(f.find(name) == &t);  // names are unique
  }
  FUZZ_ASSERT(f.metadata.count(ember::kChecksumKey) == 0);
  // Round trip: what parsed serialises (with checksums) and parses back the same.
  const std::string bytes = ember::serialize_safetensors(f.tensors, f.metadata);
  const SafetensorsFile back = ember::parse_safetensors(bytes, "round trip");
  FUZZ_ASSERT(back.checksummed);
  FUZZ_ASSERT(back.metadata == f.metadata);
  FUZZ_ASSERT(back.tensors.size() == f.tensors.size());
  for (const auto& [name, t] : f.tensors) {
    const Tensor* b = back.find(name);
    FUZZ_ASSERT(b != nullptr && same_tensor(*b, t));
  }
}

void check_bundle(Bundle& b) {
  FUZZ_ASSERT(b.model && b.model->built() && b.cleaner);
  FUZZ_ASSERT(b.maxlen == b.config.sequence.maxlen && b.maxlen > 0);
  const int64_t units = b.model->output_shape().back();
  FUZZ_ASSERT(b.class_names.size() == static_cast<size_t>(units == 1 ? 2 : units));
  for (auto& [name, var] : b.model->named_parameters()) {
    const Tensor* t = b.file.find(name);
    FUZZ_ASSERT(t != nullptr && same_tensor(*t, var->value()));
  }
  if (b.model->param_count() > kMaxForwardParams || b.maxlen > kMaxForwardLen) return;
  std::vector<ember::Prediction> p = ember::predict(b, {"the movie was not good", ""});
  FUZZ_ASSERT(p.size() == 2);
  for (const ember::Prediction& q : p) {
    FUZZ_ASSERT(q.probabilities.size() == b.class_names.size());
    FUZZ_ASSERT(q.label >= 0 && static_cast<size_t>(q.label) < b.class_names.size());
  }
}

// `ember train --resume` into the fixed model: restore, one step, one epoch's callbacks.
void resume(const SafetensorsFile& f) {
  const Config& cfg = checkpoint_config();
  Model model = ember::build_model(cfg, ember::DType::kFloat32);
  std::unique_ptr<ember::Optimizer> opt = ember::make_optimizer(cfg.train.optimizer);
  std::vector<std::unique_ptr<Callback>> cbs = ember::make_callbacks(cfg.train.callbacks);
  ember::RunPosition pos;
  try {
    pos = ember::restore_checkpoint(f, "fuzz.ckpt", model, *opt, cbs);
  } catch (const ember::Error&) {
    return;  // documented: not a checkpoint, or one that does not match the model
  }
  for (auto& [name, var] : model.named_parameters()) {
    const Tensor* t = f.find(name);
    FUZZ_ASSERT(t != nullptr && same_tensor(*t, var->value()));
  }
  const std::vector<ember::ag::Var*> params = model.parameters();
  ember::TrainControl ctl = ember::train_control(*opt, params);  // as Trainer::fit wires it
  try {
    for (ember::ag::Var* p : params)
      p->mutable_grad() = Tensor::zeros(p->value().shape(), p->value().dtype());
    opt->step(params);
    // A worse epoch than any saved best: EarlyStopping (patience 1) stops and restores its
    // best weights, ReduceLROnPlateau lowers the learning rate.
    const ember::Logs logs = {{"loss", 1e30},
                              {"accuracy", 0},
                              {"val_loss", 1e30},
                              {"val_accuracy", 0},
                              {"lr", opt->learning_rate()}};
    for (int e = 0; e < 2; ++e)
      for (auto& cb : cbs) cb->on_epoch_end(pos.epoch + e, logs, ctl);
  } catch (const ember::Error&) {
    // documented: optimizer slots or saved weights that do not fit the model
  }
  // The restored optimizer state reloads as it is saved.
  opt->load_state(opt->state());
}

// ---- seeds ------------------------------------------------------------------------------

ember::data::Tokenizer fitted_tokenizer() {
  ember::TokenizerConfig tc;
  tc.num_words = 20;
  tc.oov_token = "<OOV>";
  ember::data::Tokenizer tok(tc);
  tok.fit_on_texts({"the movie was good", "the film was not bad", "never dull, always fun"});
  return tok;
}

void write_seeds(const std::string& dir) {
  const ember::data::Tokenizer synth = ember::synthetic_tokenizer();
  const ember::data::Tokenizer fitted = fitted_tokenizer();
  auto contents = [](const Config& cfg, const ember::data::Tokenizer* tok,
                     std::vector<std::string> classes, std::vector<std::string> clean = {}) {
    ember::BundleContents c;
    c.config_text = cfg.text;
    c.config_name = "seed.yaml";
    c.tokenizer = tok;
    c.clean_steps = std::move(clean);  // synthetic configs have none of their own
    c.class_names = std::move(classes);
    c.maxlen = cfg.sequence.maxlen;
    return c;
  };
  // Bundles: binary and three-class, and the three-class one without checksums.
  const Config& tiny = checkpoint_config();
  Model a = ember::build_model(tiny);
  ember::save_bundle(dir + "/binary.ember", a, contents(tiny, &synth, {"negative", "positive"}));
  const Config multi = ember::parse_config(ember::test::kTinyMultiYaml, "multi.yaml");
  Model m = ember::build_model(multi);
  const ember::BundleContents mc =
      contents(multi, &fitted, {"neg", "neu", "pos"}, {"strip_html", "lowercase"});
  ember::save_bundle(dir + "/multi.ember", m, mc);
  SafetensorsFile mf = ember::load_safetensors(dir + "/multi.ember");
  ember::write_file_atomically(dir + "/multi_nocrc.ember",
                               ember::serialize_safetensors(mf.tensors, mf.metadata, false));

  // A checkpoint after one Adam step and one epoch of callbacks (so every slot, the
  // callbacks' numbers and EarlyStopping's best weights are in it), with and without checksums.
  std::unique_ptr<ember::Optimizer> opt = ember::make_optimizer(tiny.train.optimizer);
  std::vector<std::unique_ptr<Callback>> cbs = ember::make_callbacks(tiny.train.callbacks);
  const std::vector<ember::ag::Var*> params = a.parameters();
  for (ember::ag::Var* p : params) {
    p->mutable_grad() = Tensor::full(p->value().shape(), p->value().dtype(), 0.01);
  }
  opt->step(params);
  ember::TrainControl ctl = ember::train_control(*opt, params);
  for (auto& cb : cbs) cb->on_train_begin(ctl);
  const ember::Logs logs = {{"loss", 0.69},
                            {"accuracy", 0.5},
                            {"val_loss", 0.7},
                            {"val_accuracy", 0.5},
                            {"lr", opt->learning_rate()}};
  for (auto& cb : cbs) cb->on_epoch_end(0, logs, ctl);
  ember::RunPosition pos;
  pos.epoch = 1;
  pos.batch = 2;
  pos.step = 6;
  pos.loss_sum = 1.25;
  pos.acc_sum = 0.5;
  pos.seen = 32;
  pos.epoch_seconds = 0.125;
  ember::EpochRow row;
  row.epoch = 1;
  row.loss = 0.69;
  row.accuracy = 0.5;
  row.has_val = true;
  row.val_loss = 0.7;
  row.val_accuracy = 0.5;
  row.learning_rate = 0.001;
  row.seconds = 0.5;
  pos.history.push_back(row);
  ember::save_checkpoint(dir + "/last.ckpt", a, contents(tiny, &synth, {"negative", "positive"}),
                         *opt, cbs, pos);
  SafetensorsFile cf = ember::load_safetensors(dir + "/last.ckpt");
  ember::write_file_atomically(dir + "/last_nocrc.ckpt",
                               ember::serialize_safetensors(cf.tensors, cf.metadata, false));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("FUZZ_WRITE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  ember::set_host_tensor_limit(64u << 20);
  (void)checkpoint_config();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  SafetensorsFile f;
  try {
    f = ember::parse_safetensors(bytes, "fuzz.ember");
  } catch (const ember::Error&) {
    return 0;  // documented: truncated, corrupted or foreign
  }
  check_file(f);
  try {
    Bundle b = ember::bundle_from_file(f, "fuzz.ember");
    check_bundle(b);
  } catch (const ember::Error&) {
    // documented: not a usable bundle (missing metadata, weights that do not fit the config)
  }
  resume(f);
  return 0;
}
