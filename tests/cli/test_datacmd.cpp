// `ember data`: percentiles as numpy computes them, the statistics of a tiny hand-counted data
// set (lengths, vocabulary cut, OOV rate, truncation, dropped rows), and the command itself
// (text, --json, --vocab, a missing data directory), plus `ember train --data-dir` on a CSV.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/config/config.h"
#include "engine/data/tokenizer.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/loader.h"
#include "engine/pipeline/stats.h"
#include "tests/support/hardening_util.h"
#include "tests/support/loader_test_util.h"

namespace fs = std::filesystem;
using namespace ember;
using Catch::Matchers::Contains;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("ember_datacmd_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Train: "a a b" (neg), "b c" (pos), "c" (pos), "ok" (dropped: neutral); test: "a z", "q".
void write_tiny(const fs::path& d) {
  std::ofstream(d / "train.csv") << "text,label\na a b,neg\nb c,pos\nc,pos\nok,neutral\n";
  std::ofstream(d / "test.csv") << "text,label\na z,neg\nq,pos\n";
  std::ofstream(d / "tiny.yaml") << R"(name: tiny
seed: 1
data:
  train: train.csv
  test: test.csv
  labels: [neg, pos]
  drop_labels: [neutral]
tokenizer: {num_words: 3}
sequence: {maxlen: 2}
model:
  - Embedding: {input_dim: 3, output_dim: 2}
  - GlobalMaxPooling1D
  - Dense: {units: 1, activation: sigmoid}
train: {epochs: 1, batch_size: 2}
)";
}

}  // namespace

TEST_CASE("percentiles interpolate between ranks as numpy does", "[datacmd][cpu]") {
  data::Percentiles p = data::percentiles({5, 1, 4, 2, 3});
  CHECK(p.count == 5);
  CHECK(p.min == 1);
  CHECK(p.p25 == 2);
  CHECK(p.p50 == 3);
  CHECK(p.p90 == Approx(4.6));
  CHECK(p.p99 == Approx(4.96));
  CHECK(p.max == 5);
  CHECK(p.mean == 3);
  data::Percentiles one = data::percentiles({7});
  CHECK(one.p25 == 7);
  CHECK(one.p99 == 7);
  CHECK(data::percentiles({}).count == 0);
}

TEST_CASE("data statistics of a hand-counted set", "[datacmd][cpu]") {
  fs::path d = temp_dir("stats");
  write_tiny(d);
  Config cfg = load_config((d / "tiny.yaml").string());
  data::LoadReport rep;
  DataSplits splits = test::load_keeping_texts(cfg, d.string(), &rep);
  data::DataStats s = data::compute_stats(cfg, splits, rep);
  REQUIRE(s.splits.size() == 2);
  const data::SplitStats& tr = s.splits[0];
  const data::SplitStats& te = s.splits[1];
  CHECK(tr.name == "train");
  CHECK(te.name == "test");
  CHECK(tr.rows == 3);
  CHECK(tr.class_counts == std::vector<int64_t>{1, 2});
  CHECK(tr.dropped_labels == std::map<std::string, int64_t>{{"neutral", 1}});
  // word_index: a 1, b 2, c 3 (all count 2, first-seen order); num_words 3 keeps a and b.
  CHECK(s.distinct_words == 3);
  CHECK(s.kept_words == 2);
  CHECK(s.vocab_size == 3);
  CHECK(tr.words == 6);
  CHECK(tr.oov_words == 2);  // c, c
  CHECK(te.words == 3);
  CHECK(te.oov_words == 2);  // z, q
  CHECK(te.oov_rate() == Approx(2.0 / 3));
  // Sequences: [a a b] (3 ids, cut at maxlen 2), [b], []; test [a], [].
  CHECK(tr.truncated == 1);
  CHECK(te.truncated == 0);
  CHECK(s.tokens.max == 3);
  CHECK(s.tokens.p50 == 1);
  CHECK(s.tokens.min == 0);
  CHECK(s.chars.min == 1);
  CHECK(s.chars.p50 == 3);
  CHECK(s.chars.max == 5);
  CHECK(s.warnings.empty());

  const std::string text = data::format_stats(s);
  INFO(text);
  CHECK_THAT(text, Contains("train") && Contains("1 (33.3%)") &&
                       Contains("train label \"neutral\" 1") && Contains("test 66.7%") &&
                       Contains("texts cut at maxlen 2: train 1 of 3 (33.3%), test 0 of 2"));
  nlohmann::json j = nlohmann::json::parse(data::stats_json(s));
  CHECK(j["splits"]["train"]["rows"] == 3);
  CHECK(j["splits"]["train"]["labels"]["pos"] == 2);
  CHECK(j["splits"]["test"]["oov_rate"].get<double>() == Approx(2.0 / 3));
  CHECK(j["train_lengths"]["characters"]["p50"] == 3.0);
  CHECK(j["vocabulary"]["num_words"] == 3);
  CHECK(j["splits"]["train"]["dropped_labels"]["neutral"] == 1);
  fs::remove_all(d);
}

TEST_CASE("stats warn when the model's Embedding is too small", "[datacmd][cpu]") {
  fs::path d = temp_dir("warn");
  write_tiny(d);
  std::ifstream in(d / "tiny.yaml");
  std::stringstream yaml;
  yaml << in.rdbuf();
  std::string text = yaml.str();
  text.replace(text.find("num_words: 3"), 12, "num_words: 9");
  Config cfg = parse_config(text, "tiny.yaml");
  data::LoadReport rep;
  DataSplits splits = test::load_keeping_texts(cfg, d.string(), &rep);
  data::DataStats s = data::compute_stats(cfg, splits, rep);
  REQUIRE(s.warnings.size() == 1);
  CHECK_THAT(s.warnings[0], Contains("input_dim 3") && Contains("set input_dim: 9"));
  fs::remove_all(d);
}

TEST_CASE("ember data prints statistics, JSON and the tokenizer", "[datacmd][cpu]") {
  fs::path d = temp_dir("cli");
  write_tiny(d);
  const std::string cfg = (d / "tiny.yaml").string();
  test::CliResult t = test::run_ember("data " + cfg + " --data-dir " + d.string());
  INFO(t.out);
  CHECK(t.code == 0);
  CHECK_THAT(t.out, Contains("OOV rate") && Contains("texts cut at maxlen 2") &&
                        Contains("vocabulary: 3 distinct words"));

  test::CliResult j = test::run_ember("data " + cfg + " --json --vocab " +
                                      (d / "vocab.json").string() + " --data-dir " + d.string());
  INFO(j.out);
  REQUIRE(j.code == 0);
  nlohmann::json parsed = nlohmann::json::parse(j.out);
  CHECK(parsed["splits"]["test"]["rows"] == 2);
  std::ifstream v(d / "vocab.json");
  std::stringstream vs;
  vs << v.rdbuf();
  data::Tokenizer tok = data::Tokenizer::from_json(vs.str());
  CHECK(tok.index_of("b") == 2);

  test::CliResult missing =
      test::run_ember("data " + cfg + " --data-dir " + (d / "absent").string());
  CHECK(missing.code == 1);
  CHECK_THAT(missing.out,
             Contains("data file not found: " + (d / "absent" / "train.csv").string()) &&
                 Contains("--data-dir"));
  fs::remove_all(d);
}

TEST_CASE("ember train --data-dir trains on a CSV", "[datacmd][cpu]") {
  fs::path d = temp_dir("train");
  write_tiny(d);
  test::CliResult r =
      test::run_ember("train " + (d / "tiny.yaml").string() + " --device cpu --data-dir " +
                      d.string() + " --out " + (d / "run").string());
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("ember: data: train 3 rows (1 neg / 2 pos), test 2 rows") &&
                        Contains("Epoch 1/1") && Contains("test_accuracy"));
  CHECK(fs::exists(d / "run" / "history.csv"));
  fs::remove_all(d);
}
