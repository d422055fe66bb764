// Issue 14 (1): non-finite numbers never reach the metrics. roc_auc refuses a NaN or infinite
// score naming its row (its tie loop used to spin forever on NaN); a bundle holding a NaN or
// infinite weight is refused at load naming the tensor, so `ember evaluate` and `ember predict`
// stop with that message instead of hanging or printing "nan nan"; scores are checked again
// after the forward pass, naming the row.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "engine/cli/commands.h"
#include "engine/eval/evaluate.h"
#include "engine/eval/metrics.h"
#include "engine/io/bundle.h"
#include "tests/support/hardening_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();
const double kInf = std::numeric_limits<double>::infinity();

// Sets element 5 of the LSTM's kernel to v.
std::function<void(Model&)> poison(float v) {
  return [v](Model& m) {
    for (auto& [name, var] : m.named_parameters())
      if (name == "lstm/kernel") var->mutable_value().data<float>()[5] = v;
  };
}
}  // namespace

TEST_CASE("roc_auc refuses NaN and infinite scores, naming the row", "[hardening][metrics][cpu]") {
  CHECK_THROWS_WITH(metrics::roc_auc({0.2, kNaN, 0.7}, {0, 1, 1}),
                    Contains("row 1") && Contains("nan"));
  CHECK_THROWS_WITH(metrics::roc_auc({0.2, 0.4, kNaN, kNaN}, {0, 1, 0, 1}), Contains("row 2"));
  CHECK_THROWS_WITH(metrics::roc_auc({kInf, 0.5}, {0, 1}), Contains("row 0") && Contains("inf"));
  CHECK_THROWS_WITH(metrics::roc_auc_ovr_macro({0.5, 0.5, kNaN, 0.1}, {0, 1}, 2),
                    Contains("row 1"));
  // Finite scores are unchanged: ties still share their average rank.
  CHECK(metrics::roc_auc({0.5, 0.5, 0.9}, {0, 1, 1}) == Approx(0.75));
}

TEST_CASE("check_scores_finite names the first non-finite row", "[hardening][metrics][cpu]") {
  Scores s;
  s.rows = 3;
  s.classes = 2;
  s.probs = {0.4, 0.6, 0.3, 0.7, kNaN, kNaN};
  s.pred = {1, 1, 0};
  CHECK_THROWS_WITH(check_scores_finite(s, "m.ember"),
                    Contains("m.ember") && Contains("row 2") && Contains("nan"));
  s.probs[4] = 0.5;
  s.probs[5] = 0.5;
  CHECK_NOTHROW(check_scores_finite(s, "m.ember"));
}

TEST_CASE("a bundle with a NaN or infinite weight is refused naming the tensor",
          "[hardening][bundle][cpu]") {
  test::TempDir dir("nan_bundle");
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    const std::string path = test::write_bundle(dir.path / "nan.ember", poison(bad));
    INFO("weight " << bad);
    const std::string what = std::isnan(bad) ? "nan" : "-inf";
    CHECK_THROWS_WITH(load_bundle(path),
                      Contains(path) && Contains("lstm/kernel") && Contains(what));
    std::ostringstream out;
    CHECK_THROWS_WITH(predict_command(path, {"not good"}, false, out), Contains("lstm/kernel"));
    CHECK(out.str().empty());
    CHECK_THROWS_WITH(evaluate_command(path, EvaluateOptions{}, out), Contains("lstm/kernel"));
  }
}

TEST_CASE("ember evaluate and predict stop with the tensor's name on a NaN bundle",
          "[hardening][cli][cpu]") {
  test::TempDir dir("nan_cli");
  const std::string path =
      test::write_bundle(dir.path / "nan.ember", poison(std::numeric_limits<float>::quiet_NaN()));
  // `timeout` turns the old endless tie loop into a failure instead of a hung suite.
  test::CliResult ev =
      test::run_shell("timeout 60 " + std::string(EMBER_BINARY) + " evaluate " + path + " 2>&1");
  CHECK(ev.code == 1);
  CHECK_THAT(ev.out, Contains("nan.ember") && Contains("lstm/kernel"));
  test::CliResult pr = test::run_ember("predict " + path + " 'not good'");
  CHECK(pr.code == 1);
  CHECK_THAT(pr.out, Contains("lstm/kernel"));
  CHECK_THAT(pr.out, !Contains("nan nan"));
}
