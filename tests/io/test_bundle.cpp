// The one-file bundle and the commands that use it: a trained synthetic model saved by
// `ember train`, loaded back from the file alone, predicting the same probabilities as the
// in-memory model; evaluate and compare on run directories; broken bundles refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/cli/commands.h"
#include "engine/eval/evaluate.h"
#include "engine/io/bundle.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"

using namespace ember;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
const char* kConfig = R"(name: bundle_test
seed: 3
data:
  synthetic: {n_train: 256, n_val: 64, n_test: 64, maxlen: 10}
sequence: {maxlen: 10}
model:
  - Embedding: {input_dim: 48, output_dim: 8, mask_zero: true}
  - LSTM: {units: 6}
  - Dense: {units: 1, activation: sigmoid}
train: {loss: binary_crossentropy, optimizer: {name: adam, learning_rate: 0.02}, epochs: 2, batch_size: 32}
)";

struct Run {
  fs::path dir;
  Run() {
    dir = fs::temp_directory_path() / "ember_bundle_test";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "c.yaml") << kConfig;
    Config cfg = load_config((dir / "c.yaml").string());
    TrainOptions opts;
    opts.out_dir = (dir / "run").string();
    opts.progress = 0;
    std::ostringstream log;
    train_from_config(cfg, opts, log);
  }
  ~Run() { fs::remove_all(dir); }
};
}  // namespace

TEST_CASE("a bundle alone reproduces the trained model's predictions", "[bundle][cpu]") {
  Run run;
  const std::string path = (run.dir / "run" / "model.ember").string();
  REQUIRE(fs::exists(path));
  for (const char* f : {"metrics.json", "classification_report.txt", "confusion_matrix.svg",
                        "accuracy.svg", "loss.svg", "history.csv", "last.ckpt"})
    CHECK(fs::exists(run.dir / "run" / f));

  Bundle b = load_bundle(path);
  CHECK(b.class_names == std::vector<std::string>{"negative", "positive"});
  REQUIRE(b.tokenizer);
  // The bundle's tokenizer maps typed words to the synthetic ids.
  std::vector<Prediction> p = predict(b, {"the film was not good", "", "never dull"});
  REQUIRE(p.size() == 3);
  for (const Prediction& q : p) {
    REQUIRE(q.probabilities.size() == 2);
    CHECK(q.probabilities[0] + q.probabilities[1] == Approx(1.0));
  }
  // Same numbers as running the loaded model on the same padded ids directly.
  Tensor ids = Tensor::zeros({1, 10}, DType::kInt32);
  const auto seq = b.tokenizer->text_to_sequence("the film was not good");
  for (size_t i = 0; i < seq.size(); ++i) ids.at<int32_t>(10 - seq.size() + i) = seq[i];
  Scores s = model_scores(*b.model, ids, false, 8);
  CHECK(s.probs[1] == p[0].probabilities[1]);

  std::ostringstream out;
  CHECK(predict_command(path, {"not good"}, true, out) == 0);
  CHECK_THAT(out.str(), Contains("\"label\"") && Contains("\"probabilities\""));
  std::ostringstream ev;
  CHECK(evaluate_command(path, EvaluateOptions{"", "", true, ""}, ev) == 0);
  CHECK_THAT(ev.str(), Contains("\"accuracy\"") && Contains("\"confusion_matrix\""));
  std::ostringstream cmp;
  const std::string svg = (run.dir / "cmp.svg").string();
  CHECK(compare_command({(run.dir / "run").string()}, svg, cmp) == 0);
  CHECK(fs::exists(svg));
  CHECK_THAT(cmp.str(), Contains("macro F1"));
}

TEST_CASE("broken or foreign bundles are refused with the reason", "[bundle][cpu]") {
  Run run;
  const std::string path = (run.dir / "run" / "model.ember").string();
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto write = [&](const std::string& name, const std::string& data) {
    std::ofstream(run.dir / name, std::ios::binary) << data;
    return (run.dir / name).string();
  };
  CHECK_THROWS_WITH(load_bundle(write("trunc.ember", bytes.substr(0, bytes.size() / 2))),
                    Contains("truncated") || Contains("outside the data"));
  CHECK_THROWS_WITH(load_bundle(write("foreign.ember", "PK\x03\x04 a zip file, not ours")),
                    Contains("not a valid safetensors file"));
  // A safetensors file from another tool: valid, but no Ember metadata.
  save_safetensors((run.dir / "plain.safetensors").string(),
                   {{"w", Tensor::zeros({2}, DType::kFloat32)}}, {});
  CHECK_THROWS_WITH(load_bundle((run.dir / "plain.safetensors").string()),
                    Contains("not a usable Ember bundle") && Contains("ember.format"));
  CHECK_THROWS_WITH(compare_command({(run.dir / "nope").string()}, "x.svg", std::cout),
                    Contains("metrics.json"));
}
