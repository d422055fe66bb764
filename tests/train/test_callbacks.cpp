// Callbacks step by step against Keras's rules, worked by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>

#include "engine/train/callbacks.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {
// A fake run: weights are one scalar tensor holding the epoch they were taken at.
struct Fake {
  double lr = 1.0;
  double weights = 0;
  int64_t next_epoch = 0;
  std::vector<std::string> saved;
  std::ostringstream log;
  TrainControl ctl;
  Fake() {
    ctl.get_lr = [this] { return lr; };
    ctl.set_lr = [this](double v) { lr = v; };
    ctl.get_weights = [this] {
      return std::vector<Tensor>{Tensor::full({}, DType::kFloat64, weights)};
    };
    ctl.set_weights = [this](const std::vector<Tensor>& w) { weights = w[0].item(); };
    ctl.save = [this](const std::string& p) { saved.push_back(p); };
    ctl.log = &log;
  }
  // Ends one epoch of `cb` per value of `monitor`, numbering the epochs on from the last call,
  // so a test can check the run between epochs.
  void epochs(Callback& cb, const std::string& monitor, std::initializer_list<double> values) {
    for (double v : values) cb.on_epoch_end(next_epoch++, {{monitor, v}}, ctl);
  }
};
}  // namespace

TEST_CASE("EarlyStopping: patience, restore_best_weights", "[callbacks][cpu]") {
  EarlyStopping es("val_loss", 0, 2, MonitorMode::kAuto, true, std::nan(""), 1);
  Fake f;
  es.on_train_begin(f.ctl);
  const double losses[] = {1.0, 0.9, 0.95, 0.91, 0.5};
  int64_t e = 0;
  for (; e < 5 && !f.ctl.stop_training; ++e) {
    f.weights = static_cast<double>(e);
    es.on_epoch_end(e, {{"val_loss", losses[e]}}, f.ctl);
  }
  // wait: e0 improves (0), e1 improves (0), e2 1, e3 2 >= patience -> stop after epoch 3.
  CHECK(e == 4);
  CHECK(es.stopped_epoch() == 3);
  CHECK(es.best() == 0.9);
  CHECK(f.weights == 1.0);  // restored to the end of epoch 1 (0-based)
  CHECK_THAT(f.log.str(), Contains("best epoch: 2") && Contains("Epoch 4: early stopping"));
}

TEST_CASE("EarlyStopping: min_delta, mode and baseline", "[callbacks][cpu]") {
  Fake f;
  // min_delta 0.1: 0.95 is not 0.1 better than 1.0, so patience 1 stops at epoch 1.
  EarlyStopping es("val_loss", 0.1, 1, MonitorMode::kAuto, false, std::nan(""), 0);
  es.on_train_begin(f.ctl);
  f.epochs(es, "val_loss", {1.0, 0.95});
  CHECK(f.ctl.stop_training);

  // auto mode maximises accuracies.
  Fake g;
  EarlyStopping acc("val_accuracy", 0, 1, MonitorMode::kAuto, false, std::nan(""), 0);
  acc.on_train_begin(g.ctl);
  g.epochs(acc, "val_accuracy", {0.6, 0.7});
  CHECK_FALSE(g.ctl.stop_training);
  g.epochs(acc, "val_accuracy", {0.65});
  CHECK(g.ctl.stop_training);

  // A baseline not beaten keeps the wait counting: 0.8 improves on inf but not on 0.5, so
  // wait stays 1; 0.9 does not improve, wait 2 >= 1 -> stop.
  Fake h;
  EarlyStopping base("val_loss", 0, 1, MonitorMode::kMin, false, 0.5, 0);
  base.on_train_begin(h.ctl);
  h.epochs(base, "val_loss", {0.8});
  CHECK_FALSE(h.ctl.stop_training);
  h.epochs(base, "val_loss", {0.9});
  CHECK(h.ctl.stop_training);

  // A missing metric warns and does nothing.
  Fake m;
  EarlyStopping miss("val_loss", 0, 0, MonitorMode::kAuto, false, std::nan(""), 0);
  miss.on_train_begin(m.ctl);
  miss.on_epoch_end(3, {{"loss", 0.1}}, m.ctl);
  CHECK_FALSE(m.ctl.stop_training);
  CHECK_THAT(m.log.str(), Contains("'val_loss' is not available"));
}

TEST_CASE("ReduceLROnPlateau: patience, cooldown, min_lr", "[callbacks][cpu]") {
  Fake f;
  ReduceLROnPlateau r("val_loss", 0.5, 2, MonitorMode::kAuto, 1e-4, 1, 0.1, 0);
  r.on_train_begin(f.ctl);
  // A flat loss: e0 sets best; e1 wait 1; e2 wait 2 -> lr 0.5, cooldown 1; e3 cooldown ends,
  // wait 1; e4 wait 2 -> 0.25; e5 wait 1; e6 -> 0.125; e7 wait 1; e8 -> max(0.0625, 0.1) = 0.1;
  // then lr is not above min_lr and stays.
  const double expected[] = {1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.1, 0.1, 0.1};
  for (int e = 0; e < 11; ++e) {
    r.on_epoch_end(e, {{"val_loss", 1.0}}, f.ctl);
    INFO("epoch " << e);
    CHECK(f.lr == expected[e]);
  }
  // An improvement by more than min_delta resets the wait.
  Fake g;
  ReduceLROnPlateau r2("val_loss", 0.1, 1, MonitorMode::kAuto, 1e-4, 0, 0, 0);
  r2.on_train_begin(g.ctl);
  g.epochs(r2, "val_loss", {1.0, 0.5});
  CHECK(g.lr == 1.0);
  g.epochs(r2, "val_loss", {0.49995});  // within min_delta: no improvement
  CHECK(g.lr == Approx(0.1));
  // State round trip.
  ReduceLROnPlateau r3("val_loss", 0.1, 1, MonitorMode::kAuto, 1e-4, 0, 0, 0);
  r3.load_state(r2.state());
  CHECK(r3.state() == r2.state());
}

TEST_CASE("ModelCheckpoint: paths and save_best_only", "[callbacks][cpu]") {
  CHECK(ModelCheckpoint::format_path("model_b_cp-{epoch:04d}.ckpt", 2, {}) ==
        "model_b_cp-0003.ckpt");
  CHECK(ModelCheckpoint::format_path("m-{epoch}-{val_loss:.2f}.bin", 0, {{"val_loss", 0.4567}}) ==
        "m-1-0.46.bin");
  CHECK_THROWS_WITH(ModelCheckpoint::format_path("{nope}", 0, {}), Contains("nope"));
  Fake f;
  ModelCheckpoint every("e{epoch}.ckpt", "val_loss", false, MonitorMode::kAuto, 0);
  every.on_train_begin(f.ctl);
  f.epochs(every, "val_loss", {1, 2});
  CHECK(f.saved == std::vector<std::string>{"e1.ckpt", "e2.ckpt"});
  Fake g;
  ModelCheckpoint best("best.ckpt", "val_accuracy", true, MonitorMode::kAuto, 1);
  best.on_train_begin(g.ctl);
  for (double a : {0.5, 0.7, 0.6, 0.8}) best.on_epoch_end(0, {{"val_accuracy", a}}, g.ctl);
  CHECK(g.saved.size() == 3);  // 0.5, 0.7, 0.8
}

TEST_CASE("StopAtThreshold and the factory", "[callbacks][cpu]") {
  Fake f;
  StopAtThreshold s("accuracy", 0.95);
  f.epochs(s, "accuracy", {0.94});
  CHECK_FALSE(f.ctl.stop_training);
  f.epochs(s, "accuracy", {0.951});
  CHECK(f.ctl.stop_training);
  Fake g;
  StopAtThreshold l("loss", 0.2);
  g.epochs(l, "loss", {0.19});
  CHECK(g.ctl.stop_training);

  std::vector<CallbackConfig> cfgs(2);
  cfgs[0].type = CallbackKind::kEarlyStopping;
  cfgs[0].args = {{"monitor", "val_loss"}, {"patience", "3"}, {"restore_best_weights", "true"}};
  cfgs[1].type = CallbackKind::kReduceLROnPlateau;
  cfgs[1].args = {{"factor", "0.5"}, {"patience", "2"}};
  auto cbs = make_callbacks(cfgs);
  REQUIRE(cbs.size() == 2);
  CHECK(std::string(cbs[0]->name()) == "EarlyStopping");
  CHECK(std::string(cbs[1]->name()) == "ReduceLROnPlateau");
}
