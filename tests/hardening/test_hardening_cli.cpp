// Issue 14 (4)-(6), (10), (11) through the `ember` binary: command-line values <= 0 refused
// (and --max-steps 0 defined: write the initialised bundle and stop), a second train on a
// locked run directory refused naming the holder's pid, SIGTERM and SIGHUP saving
// interrupted.ckpt as SIGINT does (exit 143 and 129), predict's stdin cleaned as training
// reads lines (CRLF), and predict --json in class-id order with U+2028/U+2029 escaped.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

#include "engine/config/config.h"
#include "engine/io/bundle.h"
#include "engine/parse/load_config.h"
#include "layers/builder.h"
#include "tests/support/hardening_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using test::replaced;

namespace {
// A config that trains for a long time, so a signal always finds it mid-run.
std::string long_config(const test::TempDir& dir) {
  return test::write_text(dir.path, "long.yaml",
                          replaced(test::kTinyYaml, "epochs: 2", "epochs: 100000"));
}

// Starts `ember train` on `config` into `out` in the background, waits until it holds the run
// directory's lock (so it is training, with its signal handlers in place), then runs `then`
// with $pid set, and finally reports the train's exit code as "rc=N".
test::CliResult while_training(const std::string& config, const fs::path& out,
                               const std::string& then, const fs::path& log) {
  const std::string lock = (out / ".lock").string();
  return test::run_shell(std::string(EMBER_BINARY) + " train " + config + " --device cpu --out " +
                         out.string() + " > " + log.string() +
                         " 2>&1 & pid=$!; i=0; "
                         "while [ \"$(cat " +
                         lock +
                         " 2>/dev/null)\" != \"$pid\" ] && [ $i -lt 600 ]; do "
                         "sleep 0.1; i=$((i+1)); done; " +
                         then + "; wait $pid; echo rc=$?");
}
}  // namespace

TEST_CASE("command-line values <= 0 are refused, naming the option", "[hardening][cli][cpu]") {
  test::TempDir dir("cli_values");
  const std::string cfg = test::write_text(dir.path, "tiny.yaml", test::kTinyYaml);
  const std::string out = " --device cpu --out " + (dir.path / "run").string();
  for (const char* bad :
       {"--epochs 0", "--epochs -3", "--limit 0", "--limit -1", "--seed -1", "--max-steps -1"}) {
    INFO(bad);
    test::CliResult r = test::run_ember("train " + cfg + out + " " + bad);
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Contains(std::string(bad).substr(0, std::string(bad).find(' '))));
  }
  CHECK_FALSE(fs::exists(dir.path / "run"));
  for (const char* cmd : {"data", "baseline"}) {
    test::CliResult r = test::run_ember(std::string(cmd) + " " + cfg + " --seed -1");
    CHECK(r.code == 2);
    CHECK_THAT(r.out, Contains("--seed"));
  }
}

TEST_CASE("--max-steps 0 writes the initialised bundle and stops", "[hardening][cli][cpu]") {
  test::TempDir dir("init_only");
  const std::string cfg = test::write_text(dir.path, "tiny.yaml", test::kTinyYaml);
  const fs::path run = dir.path / "run";
  test::CliResult r =
      test::run_ember("train " + cfg + " --device cpu --max-steps 0 --out " + run.string());
  INFO(r.out);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, !Contains("Epoch 1"));
  CHECK(fs::exists(run / "config.yaml"));
  CHECK_FALSE(fs::exists(run / "metrics.json"));
  CHECK(test::read_text(run / "losses.csv") == "step,loss\n");
  // The bundle's weights are exactly the seed's initialisation.
  Bundle b = load_bundle((run / "model.ember").string());
  Model fresh = build_model(parse_config(test::kTinyYaml, "tiny.yaml"), DType::kFloat32);
  auto want = fresh.named_parameters();
  auto got = b.model->named_parameters();
  REQUIRE(want.size() == got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO(want[i].first);
    const Tensor& w = want[i].second->value();
    const Tensor& g = got[i].second->value();
    CHECK(std::memcmp(w.raw(), g.raw(), w.nbytes()) == 0);
  }
}

TEST_CASE("a second train on a locked run directory is refused naming the holder's pid",
          "[hardening][cli][cpu]") {
  test::TempDir dir("cli_lock");
  const std::string cfg = long_config(dir);
  const fs::path run = dir.path / "run";
  test::CliResult r = while_training(cfg, run,
                                     "echo second; " + std::string(EMBER_BINARY) + " train " + cfg +
                                         " --device cpu --out " + run.string() +
                                         " 2>&1; echo second_rc=$? holder=$pid; kill -INT $pid",
                                     dir.path / "log");
  INFO(r.out);
  const size_t at = r.out.find("holder=");
  REQUIRE(at != std::string::npos);
  const std::string pid = r.out.substr(at + 7, r.out.find('\n', at) - at - 7);
  CHECK_THAT(r.out, Contains("second_rc=1") && Contains("in use") && Contains("pid " + pid));
  CHECK_THAT(r.out, Contains("rc=130"));
}

TEST_CASE("SIGTERM and SIGHUP save interrupted.ckpt as SIGINT does", "[hardening][cli][cpu]") {
  test::TempDir dir("signals");
  const std::string cfg = long_config(dir);
  for (const auto& [sig, code] : {std::pair<std::string, int>{"TERM", 143}, {"HUP", 129}}) {
    INFO("SIG" << sig);
    const fs::path run = dir.path / ("run_" + sig);
    test::CliResult r = while_training(cfg, run, "kill -" + sig + " $pid", dir.path / "log");
    CHECK_THAT(r.out, Contains("rc=" + std::to_string(code)));
    CHECK(fs::exists(run / "interrupted.ckpt"));
    const std::string log = test::read_text(dir.path / "log");
    CHECK_THAT(log, Contains("interrupted at epoch") && Contains("SIG" + sig));
    // It resumes like a Ctrl-C checkpoint.
    test::CliResult resumed =
        test::run_ember("train " + cfg + " --device cpu --out " + run.string() + " --resume " +
                        (run / "interrupted.ckpt").string() + " --max-steps 1");
    CHECK(resumed.code == 0);
    CHECK_THAT(resumed.out, Contains("resumed from"));
  }
}

TEST_CASE("predict cleans stdin lines as training reads them (CRLF)", "[hardening][cli][cpu]") {
  test::TempDir dir("crlf");
  const std::string b = test::write_bundle(dir.path / "m.ember");
  test::CliResult args = test::run_ember("predict " + b + " --json 'the film was not good' ''");
  test::CliResult crlf =
      test::run_shell("printf 'the film was not good\\r\\n\\r\\n' | " + std::string(EMBER_BINARY) +
                      " predict " + b + " --json 2>&1");
  REQUIRE(args.code == 0);
  REQUIRE(crlf.code == 0);
  CHECK(crlf.out == args.out);
}

TEST_CASE("predict --json keeps class-id order and escapes U+2028 and U+2029",
          "[hardening][cli][cpu]") {
  test::TempDir dir("json");
  std::string yaml = replaced(test::kTinyYaml, "Dense: {units: 1, activation: sigmoid}",
                              "Dense: {units: 3, activation: softmax}");
  yaml = replaced(yaml, "loss: binary_crossentropy", "loss: sparse_categorical_crossentropy");
  const std::string b =
      test::write_bundle(dir.path / "m.ember", {}, yaml, {"zeta", "alpha", "mid"});
  test::CliResult r = test::run_ember("predict " + b +
                                      " --json 'good\xe2\x80\xa8"
                                      "line\xe2\x80\xa9"
                                      "end'");
  INFO(r.out);
  REQUIRE(r.code == 0);
  const size_t z = r.out.find("\"zeta\""), a = r.out.find("\"alpha\""), m = r.out.find("\"mid\"");
  REQUIRE(z != std::string::npos);
  CHECK(z < a);
  CHECK(a < m);
  CHECK_THAT(r.out, Contains("good\\u2028line\\u2029end"));
  CHECK(r.out.find("\xe2\x80\xa8") == std::string::npos);
  CHECK(r.out.find("\xe2\x80\xa9") == std::string::npos);
}
