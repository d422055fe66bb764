// train.log_grad_norm: losses.csv gains a grad_norm column, the global norm of the step's
// gradients before clipping. Checked against what the step did: plain SGD moves the weights by
// lr * gradient, so the distance the weights travel is lr * grad_norm unclipped, and
// lr * global_clipnorm when the clip bites. One step (batch = every row), float32 weights.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"
#include "tests/support/test_util.h"
#include "tests/support/tiny_config.h"

using namespace ember;

namespace {

// The shared tiny model (64 train rows), trained one step: a batch of every row.
std::string config_text(const std::string& optimizer) {
  return "name: grad_norm\n" + test::kTinyModelYaml + "train:\n  loss: binary_crossentropy\n" +
         "  optimizer: " + optimizer + "\n  batch_size: 64\n  epochs: 1\n  log_grad_norm: true\n";
}

std::vector<double> flat_weights(Model& m) {
  std::vector<double> w;
  for (ag::Var* p : m.parameters()) {
    Tensor v = p->value().to(Device::cpu());
    for (int64_t i = 0; i < v.numel(); ++i) w.push_back(v.at<float>(i));
  }
  return w;
}

struct OneStep {
  double moved;      // |w_after - w_before|
  double grad_norm;  // losses.csv's
  std::string header;
};

OneStep one_step(const std::string& optimizer, const test::TempDir& dir) {
  Config cfg = parse_config(config_text(optimizer), "grad_norm.yaml");
  REQUIRE(cfg.train.log_grad_norm);
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  const std::vector<double> before = flat_weights(model);
  TrainOptions opts;
  opts.out_dir = dir.str();
  Trainer trainer(cfg, model, data, opts);
  std::ostringstream log;
  trainer.fit(log);
  const std::vector<double> after = flat_weights(model);
  double sq = 0;
  for (size_t i = 0; i < before.size(); ++i) sq += (after[i] - before[i]) * (after[i] - before[i]);
  std::ifstream in(dir.path / "losses.csv");
  OneStep r{std::sqrt(sq), 0.0, ""};
  std::string row;
  std::getline(in, r.header);
  REQUIRE(std::getline(in, row));
  INFO(row);
  REQUIRE(std::count(row.begin(), row.end(), ',') == 2);
  r.grad_norm = std::stod(row.substr(row.rfind(',') + 1));
  CHECK_FALSE(std::getline(in, row));  // one step, one row
  return r;
}

}  // namespace

TEST_CASE("log_grad_norm: losses.csv holds the step's gradient norm before clipping",
          "[trainer][cpu]") {
  test::TempDir dir("grad_norm_log");
  const OneStep plain = one_step("{name: sgd, learning_rate: 0.5}", dir);
  CHECK(plain.header == "step,loss,grad_norm");
  REQUIRE(plain.grad_norm > 0);
  CHECK(plain.moved == Approx(0.5 * plain.grad_norm).epsilon(1e-4));

  // Same seed, same data: the same gradient, now clipped to a tenth of its norm. The column
  // still says the unclipped norm; the weights move by lr * clip.
  const double clip = plain.grad_norm / 10;
  std::ostringstream opt;
  opt.precision(17);
  opt << "{name: sgd, learning_rate: 0.5, global_clipnorm: " << clip << "}";
  const OneStep clipped = one_step(opt.str(), dir);
  CHECK(clipped.grad_norm == Approx(plain.grad_norm).epsilon(1e-6));
  CHECK(clipped.moved == Approx(0.5 * clip).epsilon(1e-4));
}

TEST_CASE("log_grad_norm must be a bool, and is off by default", "[trainer][config][cpu]") {
  const std::string base = "name: x\n" + test::kTinyModelYaml;
  CHECK_FALSE(parse_config(base + "train: {epochs: 1}\n", "x.yaml").train.log_grad_norm);
  const std::string msg =
      test::config_error_of(base + "train: {log_grad_norm: often}\n", "bad.yaml");
  INFO(msg);
  CHECK(msg.find("log_grad_norm") != std::string::npos);
  CHECK(msg.find("bad.yaml") != std::string::npos);
}
