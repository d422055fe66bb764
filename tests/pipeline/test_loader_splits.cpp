// The two data-protocol features beside data.test / data.test_split: data.validation_split
// (a stratified validation split of the training rows, taken before the tokenizer is fitted)
// and data.extra_tests (named further test sets, read, cleaned and tokenized like data.test,
// evaluated after training into <name>_metrics.json and by `ember evaluate --split NAME`), and
// `ember evaluate --split validation` on a train.validation_split config.
// Small files in a temp dir; the config errors a user sees.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/loader.h"
#include "engine/pipeline/stats.h"
#include "engine/train/trainer.h"
#include "tests/support/loader_test_util.h"
#include "tests/support/test_util.h"

namespace fs = std::filesystem;
using namespace ember;
using Catch::Matchers::Contains;
using test::TempDir;

namespace {

const std::string kClassFiles = "seed: 5\n" + test::class_files_data("");

std::string first_word(const std::string& t) {
  return t.substr(0, t.find(' '));
}

}  // namespace

TEST_CASE("data.validation_split: stratified, seeded, unseen by the tokenizer", "[loader][cpu]") {
  TempDir d("valsplit");
  test::write_class_files(d, "", 40, 20);  // 40 negative then 20 positive lines
  Config cfg = parse_config(
      std::string(kClassFiles) + "  validation_split: 0.25\nsequence: {maxlen: 2}\n", "v.yaml");
  data::LoadReport rep;
  DataSplits s = test::load_keeping_texts(cfg, d.str(), &rep);
  // 60 rows, ceil(0.25 * 60) = 15 validation rows: 10 negative + 5 positive, both classes,
  // where Keras's last-25% rule would hold 15 positives only.
  REQUIRE(s.val.size() == 15);
  REQUIRE(s.train.size() == 45);
  CHECK(rep.validation_from_split);
  CHECK(rep.validation.class_counts == std::vector<int64_t>{10, 5});
  CHECK(rep.train.class_counts == std::vector<int64_t>{30, 15});
  CHECK(test::distinct_texts({&rep.train, &rep.validation}).size() == 60);
  // The vocabulary is fitted on the 45 training rows only: no validation word is in it.
  for (const std::string& t : rep.validation.texts)
    CHECK(rep.tokenizer.index_of(first_word(t)) == 0);
  for (const std::string& t : rep.train.texts) CHECK(rep.tokenizer.index_of(first_word(t)) > 0);
  // Same seed, same rows; the stats say where validation came from.
  data::LoadReport again;
  test::load_keeping_texts(cfg, d.str(), &again);
  CHECK(again.validation.texts == rep.validation.texts);
  CHECK_THAT(data::format_stats(data::compute_stats(cfg, s, rep)),
             Contains("validation: a stratified 25.0% of train"));
}

TEST_CASE("data.validation_split after data.test_split: three disjoint stratified parts",
          "[loader][cpu]") {
  TempDir d("valtest");
  test::write_class_files(d, "", 40, 20);  // 40 negative then 20 positive lines
  Config cfg = parse_config(std::string(kClassFiles) +
                                "  test_split: 0.2\n  validation_split: 0.25\n"
                                "sequence: {maxlen: 2}\n",
                            "vt.yaml");
  data::LoadReport rep;
  DataSplits s = test::load_keeping_texts(cfg, d.str(), &rep);
  // 60 -> test 12 (8 + 4); 48 -> validation 12 (8 + 4), train 36 (24 + 12).
  CHECK(rep.test.class_counts == std::vector<int64_t>{8, 4});
  CHECK(rep.validation.class_counts == std::vector<int64_t>{8, 4});
  CHECK(rep.train.class_counts == std::vector<int64_t>{24, 12});
  CHECK(test::distinct_texts({&rep.train, &rep.validation, &rep.test}).size() == 60);
  CHECK(s.test.size() + s.val.size() + s.train.size() == 60);
}

TEST_CASE("data.validation_split: the errors a user sees", "[loader][config][cpu]") {
  CHECK(test::config_error_of("data: {train: a.csv, validation: b.csv, validation_split: 0.2}\n") ==
        "configs/x.yaml:1:41: data.validation_split: give either data.validation or "
        "data.validation_split, not both");
  CHECK(test::config_error_of("data: {train: a.csv, validation_split: 0.2}\n"
                              "train: {validation_split: 0.1}\n") ==
        "configs/x.yaml:1:7: data.validation_split: give either data.validation_split "
        "(stratified) or train.validation_split (Keras's last rows), not both");
  CHECK_THAT(test::config_error_of("data: {train: a.csv, validation_split: 1.5}\n"),
             Contains("data.validation_split: expected a number in [0, 1)"));
  // Too few rows for one per class on each side: named with the key.
  TempDir d("valsmall");
  d.write("t.csv", "text,label\na,x\nb,y\nc,x\n");
  Config cfg = parse_config("data: {train: t.csv, validation_split: 0.1}\n", "s.yaml");
  CHECK_THAT(test::load_error(cfg, d.str()),
             Contains("data.validation_split: 0.1") &&
                 Contains("validation rows; a stratified split needs at least one"));
}

TEST_CASE("data.extra_tests: named test sets, cleaned and tokenized like data.test",
          "[loader][cpu]") {
  TempDir d("extra");
  d.write("train.csv", "text,label\nGood film,pos\nbad film,neg\ngood plot,pos\nBAD plot,neg\n");
  d.write("official.csv", "text,label\nGOOD,pos\nunseen words,neg\n,neg\n");
  const std::string yaml = R"(data:
  train: train.csv
  clean: [lowercase, drop_short]
  labels: [neg, pos]
  extra_tests:
    official: {file: official.csv}
    again: {filter: {}}
sequence: {maxlen: 3}
)";
  Config cfg = parse_config(yaml, "e.yaml");
  REQUIRE(cfg.data.extra_tests.size() == 2);
  CHECK(cfg.data.extra_tests[0].name == "official");
  CHECK(cfg.data.extra_tests[1].sources[0].file == "train.csv");  // a map without file
  data::LoadReport rep;
  DataSplits s = test::load_keeping_texts(cfg, d.str(), &rep);
  REQUIRE(s.extra_tests.size() == 2);
  CHECK(s.extra_tests[0].first == "official");
  const Dataset& off = s.extra_tests[0].second;
  REQUIRE(off.size() == 2);  // the empty text is dropped by cleaning, and counted
  CHECK(rep.extra_tests[0].second.dropped_by_clean == 1);
  CHECK(rep.extra_tests[0].second.texts[0] == "good");  // lowercased like the train rows
  CHECK(off.tokens.data<int32_t>()[2] == rep.tokenizer.index_of("good"));
  CHECK(s.extra_tests[1].second.size() == 4);
  const std::string stats = data::format_stats(data::compute_stats(cfg, s, rep));
  CHECK_THAT(stats, Contains("official") && Contains("again"));
}

TEST_CASE("data.extra_tests: the errors a user sees", "[loader][config][cpu]") {
  CHECK(test::config_error_of("data: {train: a.csv, extra_tests: [b.csv]}\n") ==
        "configs/x.yaml:1:35: data.extra_tests: expected a map {name: source, ...} (e.g. "
        "{official: {file: test.csv}}), got a list");
  CHECK_THAT(test::config_error_of("data: {train: a.csv, extra_tests: {test: b.csv}}\n"),
             Contains("data.extra_tests.test: 'test' is the name of a built-in split"));
  CHECK_THAT(test::config_error_of("data: {train: a.csv, extra_tests: {\"a b\": b.csv}}\n"),
             Contains("may hold only letters, digits, '_' and '-'"));
  CHECK_THAT(test::config_error_of("data: {train: a.csv, extra_tests: {x: {fil: b.csv}}}\n"),
             Contains("data.extra_tests.x.fil"));
  // An unknown label in an extra test names the set.
  TempDir d("extrabad");
  d.write("train.csv", "text,label\na,pos\nb,neg\n");
  d.write("o.csv", "text,label\nc,meh\n");
  Config cfg = parse_config("data: {train: train.csv, extra_tests: {official: o.csv}}\n", "b.yaml");
  CHECK_THAT(test::load_error(cfg, d.str()),
             Contains("\"meh\"") && Contains("o.csv:2 (extra_tests.official)"));
}

TEST_CASE("data.extra_tests: evaluated after training and by ember evaluate --split",
          "[loader][cpu]") {
  TempDir d("extratrain");
  test::write_film_files(d, 6, "bad film", "good film");
  Config cfg =
      parse_config(std::string("name: films\nseed: 3\n") + test::kFilmsData + test::kFilmsModel +
                       "train: {optimizer: {name: adam, learning_rate: 0.05}, epochs: "
                       "2, batch_size: 8}\n",
                   "films.yaml");
  const std::string log = test::train_in(d, cfg);
  INFO(log);
  CHECK_THAT(log, Contains("train 24 rows (12 neg / 12 pos), validation 6 rows, test 10 "
                           "rows, official 6 rows") &&
                      Contains("official_accuracy") && Contains("test_accuracy"));
  CHECK(fs::exists(d.path / "run" / "metrics.json"));
  CHECK(fs::exists(d.path / "run" / "official_metrics.json"));
  CHECK(fs::exists(d.path / "run" / "official_classification_report.txt"));
  CHECK(fs::exists(d.path / "run" / "official_confusion_matrix.svg"));

  const std::string bundle = (d.path / "run" / "model.ember").string();
  EvaluateOptions eo{"", d.str(), true, "official"};
  std::ostringstream out;
  CHECK(evaluate_command(bundle, eo, out) == 0);
  CHECK_THAT(out.str(), Contains("\"rows\": 6"));
  eo.split = "nope";
  try {
    evaluate_command(bundle, eo, out);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Contains("--split nope: no such split (this config has: test, "
                                  "validation, official)"));
  }
}

TEST_CASE("ember evaluate --split validation cuts train.validation_split as training did",
          "[loader][cpu]") {
  TempDir d("kerasval");
  test::write_film_files(d, 6, "bad film", "good film");
  const std::string yaml =
      std::string(
          "name: films\nseed: 3\n"
          "data: {train: films.csv, labels: [neg, pos], test_split: 0.25}\n") +
      test::kFilmsModel +
      "train: {optimizer: {name: adam, learning_rate: 0.05}, epochs: 2, batch_size: 8,\n"
      "        validation_split: 0.2}\n";
  Config cfg = parse_config(yaml, "films.yaml");
  // 30 training rows; Keras keeps int(30 * 0.8) = 24 and validates on the last 6. With
  // `--limit 20` training took the first 20 rows: 16 and the last 4 of those.
  const auto [limit, rows] = GENERATE(table<int64_t, int64_t>({{0, 6}, {20, 4}}));
  INFO("--limit " << limit);
  INFO(test::train_in(d, cfg, limit));
  // The last epoch's val_loss, the loss of the model the bundle holds (no callbacks).
  auto fields = [](const std::string& row) {
    std::vector<std::string> out;
    std::istringstream in(row);
    for (std::string f; std::getline(in, f, ',');) out.push_back(f);
    return out;
  };
  std::ifstream hist(d.path / "run" / "history.csv");
  std::string header, line, last;
  std::getline(hist, header);
  while (std::getline(hist, line)) last = line;
  const std::vector<std::string> names = fields(header), values = fields(last);
  const auto col = std::find(names.begin(), names.end(), "val_loss") - names.begin();
  REQUIRE(col < static_cast<std::ptrdiff_t>(values.size()));
  const double history_val_loss = std::stod(values[col]);

  EvaluateOptions eo{"", d.str(), true, "validation"};
  std::ostringstream out;
  REQUIRE(evaluate_command((d.path / "run" / "model.ember").string(), eo, out) == 0);
  const nlohmann::json j = nlohmann::json::parse(out.str());
  CHECK(j["rows"] == rows);
  CHECK(j["loss"].get<double>() == Approx(history_val_loss).epsilon(1e-5));

  // Under --config the validation rows are that config's whole split, whatever the run's
  // --limit was: the limit counted rows of the bundle's own data.
  const std::string other = (d.path / "other.yaml").string();
  std::ofstream(other) << yaml;
  EvaluateOptions eo_other{other, d.str(), true, "validation"};
  std::ostringstream out_other;
  REQUIRE(evaluate_command((d.path / "run" / "model.ember").string(), eo_other, out_other) == 0);
  CHECK(nlohmann::json::parse(out_other.str())["rows"] == 6);
}
