// The trainer's loss follows tf.keras's fit(): a probability loss on a sigmoid/softmax output
// is computed from that layer's logits, so a saturated wrong prediction still costs |z| and
// still has a gradient, where the clipped probability form would stop at -log(1e-7); and
// loss.keras_exact, which reproduces the one case where tf_keras 2.x does clip.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>

#include "engine/config/config.h"
#include "engine/core/check.h"
#include "engine/core/tensor_ops.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"
#include "layers/dense.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;

TEST_CASE("sigmoid and softmax layers expose their logits", "[trainer][cpu]") {
  for (const char* act : {"sigmoid", "softmax", "relu", "linear"}) {
    DenseOptions o;
    o.units = 3;
    o.activation = fn::parse_activation(act);
    Dense d(o);
    InitRng rng(1, 2);
    d.build({4}, DType::kFloat64, rng);
    Tensor x = Tensor::full({2, 4}, DType::kFloat64, 0.5);
    LayerIO out = d.forward(LayerIO(ag::Var(x)), RunContext{});
    const bool has = std::string(act) == "sigmoid" || std::string(act) == "softmax";
    INFO(act);
    REQUIRE(out.logits.defined() == has);
    if (has) {
      Tensor again = fn::activation(out.logits, fn::parse_activation(act)).value();
      CHECK(max_abs_diff(again, out.x.value()) == 0.0);
    }
  }
}

TEST_CASE("a saturated wrong prediction costs |z|, not the clipped -log(1e-7)", "[trainer][cpu]") {
  const char* text = R"(
name: saturated
seed: 3
data:
  synthetic: {n_train: 8, n_val: 0, n_test: 0, maxlen: 6}
sequence: {maxlen: 6}
model:
  - Embedding: {input_dim: 48, output_dim: 2}
  - GlobalMaxPooling1D
  - Dense: {units: 1, activation: sigmoid}
train: {loss: binary_crossentropy, optimizer: sgd, batch_size: 8}
)";
  Config cfg = parse_config(text, "saturated.yaml");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  // Push every logit to -50 (p ~ 2e-22): wrong for every positive row.
  for (auto& [name, var] : model.named_parameters()) {
    if (name == "dense/kernel") var->mutable_value().zero_();
    if (name == "dense/bias") var->mutable_value().at<float>(0) = -50.0f;
  }
  TrainOptions opts;
  opts.write_run_dir = false;
  Trainer trainer(cfg, model, data, opts);
  EvalResult r = trainer.evaluate(data.train);
  int64_t positives = 0;
  for (int64_t i = 0; i < data.train.size(); ++i) positives += data.train.labels.at<int32_t>(i);
  REQUIRE(positives > 0);
  // Mean over rows of 50 for positives and log(1+e^-50) ~ 0 for negatives.
  CHECK(r.loss == Approx(50.0 * positives / data.train.size()).epsilon(1e-5));
  CHECK(r.loss > 16.2 * positives / data.train.size());  // beyond what clipping allows
}

// tf_keras 2.x squeezes a per-step (B, T, 1) prediction before a binary loss, which hides the
// sigmoid from its logits rewrite: the loss then comes from probabilities clipped to
// [1e-7, 1 - 1e-7], and a saturated step has no gradient. loss.keras_exact reproduces that.
TEST_CASE("keras_exact: a per-step binary output takes the clipped probabilities",
          "[trainer][cpu]") {
  auto config_text = [](bool keras_exact) {
    return std::string(R"(
name: per_step
seed: 3
data:
  synthetic: {n_train: 8, n_val: 0, n_test: 0, maxlen: 6}
sequence: {maxlen: 6}
model:
  - Embedding: {input_dim: 48, output_dim: 2}
  - Dense: {units: 1, activation: sigmoid}
train:
  loss: {name: binary_crossentropy, keras_exact: )") +
           (keras_exact ? "true" : "false") + R"(}
  optimizer: sgd
  batch_size: 8
  epochs: 1
)";
  };
  for (bool keras_exact : {false, true}) {
    INFO("keras_exact " << keras_exact);
    Config cfg = parse_config(config_text(keras_exact), "per_step.yaml");
    REQUIRE(cfg.train.loss.keras_exact == keras_exact);
    DataSplits data = load_data(cfg);
    Model model = build_model(cfg, DType::kFloat32);
    ag::Var* bias = nullptr;
    for (auto& [name, var] : model.named_parameters()) {
      if (name == "dense/kernel") var->mutable_value().zero_();
      if (name == "dense/bias") var->mutable_value().at<float>(0) = -50.0f, bias = var;
    }
    REQUIRE(bias != nullptr);
    TrainOptions opts;
    opts.write_run_dir = false;
    Trainer trainer(cfg, model, data, opts);
    int64_t positives = 0;
    for (int64_t i = 0; i < data.train.size(); ++i) positives += data.train.labels.at<int32_t>(i);
    REQUIRE(positives > 0);
    const double frac = static_cast<double>(positives) / data.train.size();
    EvalResult r = trainer.evaluate(data.train);
    std::ostringstream log;
    trainer.fit(log);
    const float after = bias->value().at<float>(0);
    if (keras_exact) {
      // Every step is clipped: -log(1e-7 + 1e-7) for a positive, ~0 for a negative; and the
      // clip passes no gradient, so one SGD step leaves the bias where it was.
      CHECK(r.loss == Approx(-std::log(2e-7) * frac).epsilon(1e-4));
      CHECK(after == -50.0f);
    } else {
      CHECK(r.loss == Approx(50.0 * frac).epsilon(1e-5));
      CHECK(after > -50.0f);  // gradient sigmoid(z) - y = -1 on the positive rows
    }
  }
}

TEST_CASE("keras_exact must be a bool", "[trainer][config][cpu]") {
  const char* text = R"(
name: bad
data:
  synthetic: {n_train: 8, n_val: 0, n_test: 0, maxlen: 6}
sequence: {maxlen: 6}
model:
  - Embedding: {input_dim: 48, output_dim: 2}
  - GlobalMaxPooling1D
  - Dense: {units: 1, activation: sigmoid}
train: {loss: {name: binary_crossentropy, keras_exact: maybe}}
)";
  const std::string msg = test::config_error_of(text, "bad.yaml");
  INFO(msg);
  CHECK(msg.find("keras_exact") != std::string::npos);
  CHECK(msg.find("bad.yaml") != std::string::npos);
}
