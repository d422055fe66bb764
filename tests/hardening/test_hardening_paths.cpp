// Issue 14 (7): nothing a config names may write outside its run directory or over the run's
// own files. ModelCheckpoint.filepath must be a relative path without '..' whose components
// are not run files (config.yaml, history.csv, last.ckpt, model.ember, metrics.json, ...,
// "<split>_metrics.json" included) and whose placeholders the logs provide; the model's name,
// which becomes runs/<name>, must be one plain path component. All refused at parse time with
// file:line:column like every other config error.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "tests/support/hardening_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;

TEST_CASE("ModelCheckpoint.filepath stays inside the run directory", "[hardening][config][cpu]") {
  // kTinyYaml's train section is one flow map; give it a block form with callbacks.
  auto yaml = [](const std::string& filepath) {
    std::string y = test::kTinyYaml;
    y = y.substr(0, y.find("\ntrain:") + 1) +
        "train:\n  loss: binary_crossentropy\n  epochs: 1\n  callbacks:\n"
        "    - ModelCheckpoint: {filepath: " +
        filepath + "}\n";
    return y;
  };
  for (const char* bad :
       {"/tmp/x.ckpt", "../x.ckpt", "a/../../x.ckpt", "sub/..", "config.yaml", "history.csv",
        "losses.csv", "last.ckpt", "interrupted.ckpt", "model.ember", "metrics.json",
        "official_metrics.json", "classification_report.txt", "loss.svg", ".lock",
        "model.ember/cp.ckpt", "\"{epoch}_metrics.json\"", "ckpts/"}) {
    INFO(bad);
    const std::string err = test::config_error_of(yaml(bad));
    CHECK_THAT(err, StartsWith("configs/x.yaml:14:") &&
                        Contains("train.callbacks[0].ModelCheckpoint.filepath"));
  }
  CHECK_THAT(test::config_error_of(yaml("/tmp/x.ckpt")), Contains("absolute"));
  CHECK_THAT(test::config_error_of(yaml("../x.ckpt")), Contains(".."));
  CHECK_THAT(test::config_error_of(yaml("config.yaml")), Contains("run's own"));
  // A placeholder the logs never hold used to fail only after the first epoch.
  CHECK_THAT(test::config_error_of(yaml("\"cp-{val_auc}.ckpt\"")),
             Contains("configs/x.yaml:14:") && Contains("{val_auc}"));
  for (const char* good :
       {"best.ckpt", "\"model_b_cp-{epoch:04d}.ckpt\"", "\"ckpts/e{epoch}.ckpt\"",
        "\"m-{epoch}-{val_loss:.2f}.ckpt\"", "./best.ember"}) {
    INFO(good);
    CHECK(test::config_error_of(yaml(good)) == "");
  }
}

TEST_CASE("a model name is one plain path component", "[hardening][config][cpu]") {
  auto named = [](const std::string& name) {
    std::string y = test::kTinyYaml;
    return "name: " + name + y.substr(y.find('\n'));
  };
  for (const char* bad : {"../../x", "a/b", "/abs", ".", "..", "\"a\\\\b\"", "\"tab\\there\""}) {
    INFO(bad);
    const std::string err = test::config_error_of(named(bad));
    CHECK_THAT(err, StartsWith("configs/x.yaml:1:7: name:"));
  }
  for (const char* good : {"seed001_model_b", "imdb-lstm.v2", "my model"}) {
    INFO(good);
    CHECK(test::config_error_of(named(good)) == "");
  }
}

TEST_CASE("a checkpoint is never written outside the run directory", "[hardening][rundir][cpu]") {
  // A filepath built in code skips the parser; the trainer still refuses it.
  test::TempDir dir("confined");
  Config cfg = parse_config(test::kTinyYaml, "tiny.yaml");
  CallbackConfig cb;
  cb.type = CallbackKind::kModelCheckpoint;
  cb.args["filepath"] = (dir.path / "outside.ckpt").string();
  cfg.train.callbacks.push_back(cb);
  TrainOptions opts;
  opts.out_dir = (dir.path / "run").string();
  opts.progress = 0;
  std::ostringstream log;
  CHECK_THROWS_WITH(train_from_config(cfg, opts, log), Contains("outside.ckpt"));
  CHECK_FALSE(fs::exists(dir.path / "outside.ckpt"));
}
