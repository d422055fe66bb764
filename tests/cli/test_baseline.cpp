// `ember baseline`: the majority-class scores, the bag-of-words logistic regression (checked
// by its optimality condition, W = -C * sum_i x_i (p_i - onehot_i), and on data it must
// separate), and the command on a small CSV: its table, its files and its errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <sstream>

#include "engine/cli/baseline.h"
#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "tests/support/loader_test_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {

Dataset make(const std::vector<std::vector<int32_t>>& rows, const std::vector<int32_t>& y,
             int64_t t) {
  Dataset d;
  d.tokens = Tensor::zeros({int64_t(rows.size()), t}, DType::kInt32);
  d.labels = Tensor::empty({int64_t(y.size())}, DType::kInt32);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t s = 0; s < rows[i].size(); ++s)
      d.tokens.data<int32_t>()[i * t + (t - rows[i].size()) + s] = rows[i][s];  // 'pre' padding
    d.labels.data<int32_t>()[i] = y[i];
  }
  return d;
}

}  // namespace

TEST_CASE("baseline: majority class scores are the training frequencies", "[baseline][cpu]") {
  Scores s = majority_scores({3, 5, 2}, 4);
  REQUIRE(s.rows == 4);
  REQUIRE(s.classes == 3);
  CHECK(s.pred == std::vector<int32_t>{1, 1, 1, 1});
  CHECK(s.probs[3 * 3 + 1] == Approx(0.5));
  CHECK(s.probs[2] == Approx(0.2));
  // A tie goes to the lower class id.
  CHECK(majority_scores({4, 4}, 1).pred[0] == 0);
}

TEST_CASE("baseline: bag-of-words logistic regression reaches its optimum", "[baseline][cpu]") {
  // Word 1 -> class 0, word 2 -> class 1, word 3 -> class 2, word 4 in every class (noise),
  // repeated ids count once; one row of each class also has a misleading word.
  std::vector<std::vector<int32_t>> rows;
  std::vector<int32_t> y;
  for (int i = 0; i < 30; ++i) {
    const int32_t c = i % 3;
    std::vector<int32_t> r = {c + 1, 4, c + 1};
    if (i < 3) r.push_back((c + 1) % 3 + 1);
    rows.push_back(r);
    y.push_back(c);
  }
  const Dataset d = make(rows, y, 5);
  const double C = 0.7;
  BowLogreg m = fit_bow_logreg(d, 6, 3, C);
  CHECK(m.iterations > 0);
  Scores s = bow_logreg_scores(m, d);
  for (int64_t i = 0; i < s.rows; ++i) CHECK(s.pred[i] == y[i]);
  // Stationarity: for every feature j and class q, W[j,q] + C * sum over rows holding j of
  // (p_iq - [y_i == q]) = 0; for the bias the sum alone is 0. Ids 0 (padding) and 5 (unused)
  // have weight 0.
  for (int64_t j = 0; j < 6; ++j)
    for (int64_t q = 0; q < 3; ++q) {
      double g = m.w[j * 3 + q];
      for (size_t i = 0; i < rows.size(); ++i) {
        bool has = false;
        for (int32_t id : rows[i]) has = has || id == j;
        if (has) g += C * (s.probs[i * 3 + q] - (y[i] == q ? 1.0 : 0.0));
      }
      INFO("feature " << j << " class " << q);
      CHECK(std::fabs(g) < 1e-4);
    }
  for (int64_t q = 0; q < 3; ++q) {
    double g = 0;
    for (size_t i = 0; i < rows.size(); ++i) g += s.probs[i * 3 + q] - (y[i] == q ? 1.0 : 0.0);
    CHECK(std::fabs(g) < 1e-4);
  }
  CHECK(m.w[0] == 0.0);
  CHECK(m.w[5 * 3 + 2] == 0.0);
  // Probabilities sum to one.
  for (int64_t i = 0; i < s.rows; ++i)
    CHECK(s.probs[i * 3] + s.probs[i * 3 + 1] + s.probs[i * 3 + 2] == Approx(1.0));
  // Out-of-vocabulary ids are an error, not a silent read past the weights.
  CHECK_THROWS_WITH(bow_logreg_scores(m, make({{7}}, {0}, 2)),
                    Contains("token id 7 in row 0 is outside the vocabulary of 6"));
}

TEST_CASE("baseline: ember baseline scores validation, test and extra test sets",
          "[baseline][cpu]") {
  test::TempDir dir("baseline");
  test::write_film_files(dir, 4, "bad", "good");
  Config cfg = parse_config(
      std::string("name: films\n") + test::kFilmsData + "sequence: {maxlen: 4}\n", "films.yaml");
  BaselineOptions o;
  o.data_dir = dir.str();
  o.out_dir = (dir.path / "out").string();
  std::ostringstream out;
  REQUIRE(baseline_command(cfg, o, out) == 0);
  INFO(out.str());
  CHECK_THAT(out.str(), Contains("baselines fitted on 24 training rows") &&
                            Contains("validation   majority") &&
                            Contains("test         bow_logreg") &&
                            Contains("official     bow_logreg         4    1.0000"));
  CHECK(std::filesystem::exists(dir.path / "out" / "baseline_bow_logreg_official_metrics.json"));
  CHECK(std::filesystem::exists(dir.path / "out" /
                                "baseline_majority_test_classification_report.txt"));

  o.json = true;
  o.out_dir.clear();
  std::ostringstream js;
  baseline_command(cfg, o, js);
  CHECK_THAT(js.str(), Contains("\"baseline\":\"majority\",\"split\":\"validation\""));

  Config synth = parse_config("data: {synthetic: {}}\n", "s.yaml");
  CHECK_THROWS_WITH(baseline_command(synth, o, js), Contains("needs data files"));
}
