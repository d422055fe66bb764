// The `ember` command as a user runs it: exit codes, messages on bad input, the run directory.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "engine/core/device.h"
#include "tests/support/hardening_util.h"

namespace fs = std::filesystem;
using Catch::Matchers::Contains;

namespace {
using ember::test::kTinyYaml;
using ember::test::run_ember;
using ember::test::run_shell;

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("ember_cli_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST_CASE("ember summary prints the layer table", "[cli][cpu]") {
  fs::path d = temp_dir("summary");
  std::ofstream(d / "tiny.yaml") << kTinyYaml;
  auto r = run_ember("summary " + (d / "tiny.yaml").string());
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("lstm (LSTM)") && Contains("Total params: 292"));
  fs::remove_all(d);
}

TEST_CASE("ember train writes a run directory and one line per epoch", "[cli][cpu]") {
  fs::path d = temp_dir("train");
  std::ofstream(d / "tiny.yaml") << kTinyYaml;
  auto r = run_ember("train " + (d / "tiny.yaml").string() + " --device cpu --out " +
                     (d / "run").string());
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("Epoch 1/2") && Contains("Epoch 2/2") && Contains("val_accuracy") &&
                        Contains("test_accuracy"));
  CHECK(fs::exists(d / "run" / "config.yaml"));
  std::ifstream h(d / "run" / "history.csv");
  std::string header, e1, e2, extra;
  std::getline(h, header);
  std::getline(h, e1);
  std::getline(h, e2);
  CHECK(header == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds");
  CHECK(e1.rfind("1,", 0) == 0);
  CHECK(e2.rfind("2,", 0) == 0);
  CHECK_FALSE(std::getline(h, extra));
  CHECK_FALSE(fs::exists(d / "run" / "history.csv.tmp"));
  fs::remove_all(d);
}

TEST_CASE("--threads sets the CPU pool, and a count that makes no sense is refused", "[cli][cpu]") {
  fs::path d = temp_dir("threads");
  std::ofstream(d / "tiny.yaml") << kTinyYaml;
  const std::string cfg = (d / "tiny.yaml").string();
  auto r = run_ember("train " + cfg + " --device cpu --threads 3 --out " + (d / "run").string());
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("on cpu (3 threads)"));
  const std::string bundle = (d / "run" / "model.ember").string();
  CHECK(run_ember("evaluate " + bundle + " --threads 2").code == 0);
  CHECK(run_ember("predict " + bundle + " --threads 1 'a text'").code == 0);
  for (const char* bad : {"0", "-1", "1025", "two"}) {
    INFO(bad);
    auto b = run_ember("train " + cfg + " --device cpu --threads " + bad);
    CHECK(b.code == 2);
    CHECK_THAT(b.out, Contains("--threads") && Contains("CPU threads"));
  }
  fs::remove_all(d);
}

TEST_CASE("ember reports bad input with a message and exit code 1", "[cli][cpu]") {
  fs::path d = temp_dir("bad");
  auto missing = run_ember("train " + (d / "nope.yaml").string());
  CHECK(missing.code == 1);
  CHECK_THAT(missing.out, Contains("nope.yaml"));

  std::string typo = kTinyYaml;
  typo.replace(typo.find("units: 3"), 8, "unitz: 3");
  std::ofstream(d / "typo.yaml") << typo;
  auto t = run_ember("summary " + (d / "typo.yaml").string());
  CHECK(t.code == 1);
  CHECK_THAT(t.out, Contains("typo.yaml:8:") && Contains("unitz"));

  auto usage = run_ember("train");
  CHECK(usage.code != 0);
  CHECK(usage.code != 1);

  if (ember::cuda_device_count() == 0) {
    std::ofstream(d / "tiny.yaml") << kTinyYaml;
    auto cuda = run_ember("train " + (d / "tiny.yaml").string() + " --device cuda");
    CHECK(cuda.code == 1);
    CHECK_THAT(cuda.out, Contains("--device cuda"));
  }
  fs::remove_all(d);
}

TEST_CASE("Ctrl-C writes a checkpoint, exits 130, and --resume continues", "[cli][cpu]") {
  fs::path d = temp_dir("sigint");
  std::string cfg = kTinyYaml;
  cfg.replace(cfg.find("epochs: 2"), 9, "epochs: 100000");
  std::ofstream(d / "long.yaml") << cfg;
  const std::string train = std::string(EMBER_BINARY) + " train " + (d / "long.yaml").string() +
                            " --device cpu --out " + (d / "run").string();
  // The shell waits a second (the run is far from done then), sends SIGINT, reports the code.
  auto r = run_shell(train + " > " + (d / "log").string() +
                     " 2>&1 & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo rc=$?");
  CHECK_THAT(r.out, Contains("rc=130"));
  CHECK(fs::exists(d / "run" / "interrupted.ckpt"));
  std::ifstream log(d / "log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Contains("interrupted at epoch") && Contains("--resume"));
  // The checkpoint continues the run: resume it for one more epoch's worth and stop.
  auto resumed = run_ember("train " + (d / "long.yaml").string() + " --device cpu --out " +
                           (d / "run").string() + " --resume " +
                           (d / "run" / "interrupted.ckpt").string() + " --max-steps 2");
  CHECK(resumed.code == 0);
  CHECK_THAT(resumed.out, Contains("resumed from"));
  fs::remove_all(d);
}
