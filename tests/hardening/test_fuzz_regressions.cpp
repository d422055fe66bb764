// Regression tests for what the libFuzzer targets in fuzz/ found (scripts/fuzz.sh), each
// reduced to the input that showed it: the library must refuse it with an ember::Error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/tokenizer.h"
#include "engine/io/bundle.h"
#include "engine/io/safetensors.h"
#include "engine/parse/load_config.h"
#include "engine/train/callbacks.h"
#include "engine/train/checkpoint.h"
#include "layers/builder.h"
#include "optim/optimizer.h"
#include "tests/support/hardening_util.h"

namespace {

using namespace ember;

// The shared tiny config (tests/support/tiny_config.h): Embedding 48x4, LSTM 3, Dense 1, Adam.
const std::string& kYaml = test::kTinyYaml;

// A real checkpoint of the tiny model after one Adam step, parsed back, with `edit` applied to
// its tensors (as a damaged file without checksums would hold them).
SafetensorsFile damaged_checkpoint(
    const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& edit) {
  const Config cfg = parse_config(kYaml, "tiny.yaml");
  Model model = build_model(cfg);
  std::unique_ptr<Optimizer> opt = make_optimizer(cfg.train.optimizer);
  for (ag::Var* p : model.parameters())
    p->mutable_grad() = Tensor::full(p->value().shape(), p->value().dtype(), 0.01);
  opt->step(model.parameters());
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, var] : model.named_parameters()) tensors.emplace_back(name, var->value());
  for (auto& [name, t] : opt->state()) tensors.emplace_back("optimizer/" + name, t);
  edit(tensors);
  const std::string state =
      R"({"epoch":0,"batch":0,"step":1,"loss_sum":0,"acc_sum":0,"seen":0,"epoch_seconds":0,)"
      R"("history":[],"callbacks":[],"optimizer":"adam"})";
  return parse_safetensors(serialize_safetensors(tensors, {{"ember.checkpoint", state}}, false),
                           "damaged.ckpt");
}

void check_refused(const SafetensorsFile& f) {
  const Config cfg = parse_config(kYaml, "tiny.yaml");
  Model model = build_model(cfg);
  std::unique_ptr<Optimizer> opt = make_optimizer(cfg.train.optimizer);
  std::vector<std::unique_ptr<Callback>> cbs;
  CHECK_THROWS_AS(restore_checkpoint(f, "damaged.ckpt", model, *opt, cbs), Error);
}

}  // namespace

// fuzz_bundle: Optimizer::load_state's std::invalid_argument escaped restore_checkpoint (so
// `ember train --resume` of a damaged checkpoint failed with an internal error).
TEST_CASE("a checkpoint's malformed optimizer state is an ember::Error", "[hardening][fuzz][cpu]") {
  SECTION("iterations not a whole number") {
    check_refused(damaged_checkpoint([](auto& ts) {
      for (auto& [name, t] : ts)
        if (name == "optimizer/iterations") t = Tensor::full({1}, DType::kFloat64, 3.7e-122);
    }));
  }
  SECTION("an unknown slot") {
    check_refused(damaged_checkpoint([](auto& ts) {
      // Shaped as parameter 0, so only the name is wrong.
      ts.emplace_back("optimizer/adam/z/0", Tensor::zeros({48, 4}, DType::kFloat32));
    }));
  }
}

// fuzz_bundle: a slot of another shape or dtype than its parameter loaded, and the first
// Adam step after the resume threw std::invalid_argument out of Optimizer::step.
TEST_CASE("a checkpoint's optimizer slot must match its parameter", "[hardening][fuzz][cpu]") {
  const std::vector<std::pair<std::string, Tensor>> wrong = {
      {"optimizer/adam/m/2", Tensor::zeros({3, 1}, DType::kFloat32)},
      {"optimizer/adam/v/0", Tensor::zeros({48, 4}, DType::kFloat64)}};
  for (const auto& w : wrong) {  // (not a structured binding: clang 14 cannot capture one)
    check_refused(damaged_checkpoint([&](auto& ts) {
      for (auto& [name, t] : ts)
        if (name == w.first) t = w.second;
    }));
  }
}

// Found by reading the same path: a slot index far past the model's parameters resized the
// optimizer's slot list to it (10^9 entries: tens of GB) before anything was checked.
TEST_CASE("a checkpoint's optimizer slot for a parameter the model lacks is refused",
          "[hardening][fuzz][cpu]") {
  for (const char* index : {"6", "999999999", "99999999999999999999999"}) {
    check_refused(damaged_checkpoint([&](auto& ts) {
      ts.emplace_back(std::string("optimizer/adam/m/") + index,
                      Tensor::zeros({1}, DType::kFloat32));
    }));
  }
}

// fuzz_bundle: a whole-number 'iterations' past int64's range was cast to int64_t before any
// bound (UBSan: float-cast-overflow in Optimizer::load_state).
TEST_CASE("a checkpoint's iterations past int64 is refused, not cast", "[hardening][fuzz][cpu]") {
  check_refused(damaged_checkpoint([](auto& ts) {
    for (auto& [name, t] : ts)
      if (name == "optimizer/iterations") t = Tensor::full({1}, DType::kFloat64, 1e300);
  }));
}

// fuzz_config: momentum 1.5 parsed (any number >= 0), then Sgd's constructor threw
// std::invalid_argument when training started. The parser now refuses it, naming the key.
TEST_CASE("sgd momentum above 1 is a ConfigError", "[hardening][fuzz][cpu]") {
  CHECK_THROWS_AS(parse_config("train: {optimizer: {name: sgd, momentum: 1.5}}\n", "m.yaml"),
                  ConfigError);
  const Config ok = parse_config("train: {optimizer: {name: sgd, momentum: 1.0}}\n", "m.yaml");
  CHECK_NOTHROW(make_optimizer(ok.train.optimizer));
}

// fuzz_bundle: an EarlyStopping's saved best weights were taken without a check, so a damaged
// checkpoint resumed and failed only when the run stopped and restored them (set_weights'
// std::runtime_error, or copy_from's std::invalid_argument for a wrong shape).
TEST_CASE("a checkpoint's saved best weights must fit the model", "[hardening][fuzz][cpu]") {
  const Config cfg = parse_config(kYaml, "tiny.yaml");
  for (const bool wrong_shape : {false, true}) {
    SafetensorsFile f = damaged_checkpoint([&](auto& ts) {
      ts.emplace_back("callback/0/0", wrong_shape ? Tensor::zeros({2}, DType::kFloat32)
                                                  : ts.front().second.clone());
    });
    f.metadata["ember.checkpoint"] =
        R"({"epoch":0,"batch":0,"step":1,"loss_sum":0,"acc_sum":0,"seen":0,"epoch_seconds":0,)"
        R"("history":[],"callbacks":[{"name":"EarlyStopping","state":{"wait":"0x0p+0","best":"inf",)"
        R"("best_epoch":"0x0p+0","stopped_epoch":"0x0p+0"}}],"optimizer":"adam"})";
    Model model = build_model(cfg);
    std::unique_ptr<Optimizer> opt = make_optimizer(cfg.train.optimizer);
    std::vector<std::unique_ptr<Callback>> cbs;
    cbs.push_back(std::make_unique<EarlyStopping>("val_loss", 0, 1, MonitorMode::kAuto, true,
                                                  std::numeric_limits<double>::quiet_NaN(), 0));
    CHECK_THROWS_AS(restore_checkpoint(f, "damaged.ckpt", model, *opt, cbs), Error);
  }
}

// fuzz_bundle: a callback state without "wait" threw std::out_of_range out of
// restore_checkpoint; a huge or fractional count would have been cast to int64 unchecked.
TEST_CASE("a checkpoint's callback state with a missing or bad count is refused",
          "[hardening][fuzz][cpu]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EarlyStopping es("val_loss", 0.0, 2, MonitorMode::kAuto, true, nan, 0);
  ReduceLROnPlateau rl("val_loss", 0.5, 2, MonitorMode::kAuto, 0.0, 0, 0.0, 0);
  std::map<std::string, double> good = es.state();
  CHECK_NOTHROW(es.load_state(good));
  std::map<std::string, double> missing = good;
  missing.erase("wait");
  CHECK_THROWS_AS(es.load_state(missing), Error);
  for (double bad : {1e300, -1.0, 2.5, nan}) {
    INFO(bad);
    std::map<std::string, double> s = good;
    s["best_epoch"] = bad;
    CHECK_THROWS_AS(es.load_state(s), Error);
    std::map<std::string, double> r = rl.state();
    r["cooldown_counter"] = bad;
    CHECK_THROWS_AS(rl.load_state(r), Error);
  }
}

// fuzz_bundle: a bundle (without checksums, so nothing caught the damage) whose cleaning
// steps name a step this Ember does not know let the Cleaner's std::invalid_argument escape.
TEST_CASE("a bundle naming an unknown cleaning step is refused", "[hardening][fuzz][cpu]") {
  const std::string yaml = kYaml;
  const Config cfg = parse_config(yaml, "tiny.yaml");
  Model model = build_model(cfg);
  BundleContents c;
  c.config_text = yaml;
  c.config_name = "tiny.yaml";
  c.clean_steps = {"strip_+tml"};
  c.class_names = {"neg", "pos"};
  c.maxlen = 8;
  const std::string path = std::filesystem::temp_directory_path() / "ember_fuzz_clean.ember";
  save_bundle(path, model, c);
  CHECK_THROWS_AS(load_bundle(path), Error);
  std::filesystem::remove(path);
}

// fuzz_config (suspected, confirmed here): `char_level: true` with `split: ""` parsed, as in
// Keras, but the Tokenizer then refused the empty split when training started.
TEST_CASE("a char-level tokenizer takes an empty split", "[hardening][fuzz][cpu]") {
  TokenizerConfig t;
  t.char_level = true;
  t.split = "";
  CHECK_NOTHROW(data::Tokenizer(t));
}

// fuzz_config: a tokenizer oov_token holding a byte that is not UTF-8 (a plain YAML scalar
// passes raw bytes through) parsed, and the Tokenizer's std::invalid_argument escaped when it
// was built from the config. filters and split had the same gap.
TEST_CASE("a tokenizer string that is not UTF-8 is a ConfigError naming the key",
          "[hardening][fuzz][cpu]") {
  const std::string base = "sequence: {maxlen: 8}\n";
  for (const std::string key : {"oov_token", "filters", "split"}) {
    INFO(key);
    const std::string yaml = base + "tokenizer: {" + key + ": nu\x8bl}\n";
    try {
      (void)parse_config(yaml, "bad.yaml");
      FAIL("parsed");
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("bad.yaml:2:") != std::string::npos);
      CHECK(msg.find("tokenizer." + key) != std::string::npos);
      CHECK(msg.find("UTF-8") != std::string::npos);
    }
  }
  CHECK_NOTHROW(parse_config(base + "tokenizer: {oov_token: \"caf\xc3\xa9\"}\n", "ok.yaml"));
}
