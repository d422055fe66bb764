// data::load_dataset on small files written to a temp dir: filters, label lists and maps,
// drop_labels and unknown labels, cleaning drops, the stratified test_split, validation
// files, the tokenizer fitted on the training texts only, padding, the errors a user sees
// (missing file, missing column), the Embedding size check, and `ember train` end to end on a
// CSV through train_from_config.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/loader.h"
#include "engine/train/trainer.h"
#include "tests/support/loader_test_util.h"
#include "tests/support/test_util.h"

namespace fs = std::filesystem;
using namespace ember;
using Catch::Matchers::Contains;

namespace {

using test::TempDir;

std::vector<int32_t> row(const Tensor& tokens, int64_t i) {
  const int64_t t = tokens.size(1);
  return std::vector<int32_t>(tokens.data<int32_t>() + i * t, tokens.data<int32_t>() + (i + 1) * t);
}

std::vector<int32_t> labels_of(const Dataset& d) {
  return std::vector<int32_t>(d.labels.data<int32_t>(), d.labels.data<int32_t>() + d.size());
}

const char* kReviews =
    "review,sentiment,split\n"
    "good movie,positive,train\n"
    "\"bad, bad movie\",negative,train\n"
    "great fun,positive,train\n"
    "awful plot,negative,train\n"
    "good plot unseen,positive,test\n"
    "bad acting,negative,test\n";

const char* kReviewsConfig = R"(name: reviews
seed: 5
data:
  train: reviews.csv
  text_column: review
  label_column: sentiment
  filter: {split: train}
  labels: [negative, positive]
  test: {filter: {split: test}}
tokenizer: {oov_token: "<OOV>"}
sequence: {maxlen: 4}
)";

}  // namespace

TEST_CASE("loader: filters, a label list, test rows by filter, tokenizer fit on train only",
          "[loader][cpu]") {
  TempDir d("basic");
  d.write("reviews.csv", kReviews);
  Config cfg = parse_config(kReviewsConfig, "reviews.yaml");
  data::LoadReport rep;
  DataSplits s = data::load_dataset(cfg, d.str(), &rep);

  CHECK(s.class_names == std::vector<std::string>{"negative", "positive"});
  REQUIRE(s.train.size() == 4);
  REQUIRE(s.test.size() == 2);
  CHECK(s.val.empty());
  CHECK(labels_of(s.train) == std::vector<int32_t>{1, 0, 1, 0});
  CHECK(labels_of(s.test) == std::vector<int32_t>{1, 0});
  CHECK(rep.files.size() == 1);  // one file serves both splits, read once
  CHECK(rep.files[0].rows == 6);
  CHECK(rep.train.filtered_out == 2);
  CHECK(rep.test.filtered_out == 4);
  CHECK(rep.train.class_counts == std::vector<int64_t>{2, 2});

  // vocab: "" (padding), the oov token, then words by count, ties in first-seen order.
  REQUIRE(s.vocab.size() >= 4);
  CHECK(s.vocab[0] == "");
  CHECK(s.vocab[1] == "<OOV>");
  CHECK(s.vocab[2] == "movie");  // count 2, seen before "bad"
  CHECK(s.vocab[3] == "bad");
  auto id = [&](const std::string& w) {
    return static_cast<int32_t>(std::find(s.vocab.begin(), s.vocab.end(), w) - s.vocab.begin());
  };
  CHECK(row(s.train.tokens, 0) == std::vector<int32_t>{0, 0, id("good"), id("movie")});
  CHECK(row(s.train.tokens, 1) == std::vector<int32_t>{0, id("bad"), id("bad"), id("movie")});
  // "unseen" and "acting" occur only in test: the tokenizer never saw them -> oov (1).
  CHECK(row(s.test.tokens, 0) == std::vector<int32_t>{0, id("good"), id("plot"), 1});
  CHECK(row(s.test.tokens, 1) == std::vector<int32_t>{0, 0, id("bad"), 1});
  CHECK(rep.tokenizer.index_of("unseen") == 0);
  CHECK(rep.maxlen == 4);
}

TEST_CASE("loader: headerless columns by number, a label map, drop_labels counted",
          "[loader][cpu]") {
  TempDir d("s140");
  d.write("s140.csv",
          "\"0\",\"1\",\"Mon\",\"q\",\"u\",\"so sad\"\n"
          "\"2\",\"2\",\"Mon\",\"q\",\"u\",\"just a tweet\"\n"
          "\"4\",\"3\",\"Mon\",\"q\",\"u\",\"so happy\"\n"
          "\"2\",\"4\",\"Mon\",\"q\",\"u\",\"another one\"\n"
          "\"0\",\"5\",\"Mon\",\"q\",\"u\",\"bad day\"\n"
          "\"2\",\"6\",\"Mon\",\"q\",\"u\",\"meh\"\n");
  const std::string base = R"(data:
  train: s140.csv
  header: false
  text_column: 5
  label_column: 0
  labels: {"0": 0, "4": 1}
)";
  Config cfg = parse_config(base + "  drop_labels: [\"2\"]\n", "s140.yaml");
  data::LoadReport rep;
  DataSplits s = data::load_dataset(cfg, d.str(), &rep);
  CHECK(s.train.size() == 3);
  CHECK(labels_of(s.train) == std::vector<int32_t>{0, 1, 0});
  CHECK(rep.train.dropped_labels == std::map<std::string, int64_t>{{"2", 3}});
  CHECK(s.class_names == std::vector<std::string>{"0", "4"});

  // Without drop_labels the neutral rows are an error that lists the label, its count and
  // where it first occurs, at the place of data.labels.
  Config strict = parse_config(base, "s140.yaml");
  const std::string msg = test::load_error(strict, d.str());
  INFO(msg);
  CHECK(msg ==
        "s140.yaml:6:11: data.labels: 1 raw label is neither in data.labels nor in "
        "data.drop_labels: \"2\" (3 rows, first at s140.csv:2 (train)); add them to "
        "data.labels, or to data.drop_labels to drop their rows");
}

TEST_CASE("loader: without data.labels the classes are the sorted training labels",
          "[loader][cpu]") {
  TempDir d("infer");
  d.write("t.tsv", "text\tlabel\na\t1\nb\t-1\nc\t0\nd\t10\ne\t1\n");
  Config cfg = parse_config("data: {train: t.tsv, format: tsv}\n", "t.yaml");
  DataSplits s = data::load_dataset(cfg, d.str());
  CHECK(s.class_names == std::vector<std::string>{"-1", "0", "1", "10"});  // numeric order
  CHECK(labels_of(s.train) == std::vector<int32_t>{2, 0, 1, 3, 2});
  d.write("u.tsv", "text\tlabel\na\tpos\nb\tneg\n");
  d.write("v.tsv", "text\tlabel\na\tpos\nb\tneutral\n");
  Config c2 = parse_config("data: {train: u.tsv, format: tsv, test: v.tsv}\n", "u.yaml");
  CHECK_THAT(test::load_error(c2, d.str()),
             Contains("\"neutral\" (1 row, first at v.tsv:3 (test))") &&
                 Contains("not among the training labels"));
}

TEST_CASE("loader: line files, one per class, and a stratified test_split", "[loader][cpu]") {
  TempDir d("lines");
  test::write_class_files(d, "s/", 30, 20);
  const std::string yaml = "seed: 11\n" + test::class_files_data("s/") +
                           "  test_split: 0.2\nsequence: {maxlen: 3, padding: post}\n";
  Config cfg = parse_config(yaml, "lines.yaml");
  data::LoadReport rep;
  DataSplits s = test::load_keeping_texts(cfg, d.str(), &rep);
  // 50 rows, ceil(0.2 * 50) = 10 test rows; per class 24 + 16 train, 6 + 4 test.
  REQUIRE(s.train.size() == 40);
  REQUIRE(s.test.size() == 10);
  CHECK(rep.test_from_split);
  CHECK(rep.train.class_counts == std::vector<int64_t>{24, 16});
  CHECK(rep.test.class_counts == std::vector<int64_t>{6, 4});
  // Every text lands in exactly one split, and the rows come out shuffled.
  CHECK(test::distinct_texts({&rep.train, &rep.test}).size() == 50);
  std::vector<int32_t> y = labels_of(s.train);
  CHECK_FALSE(std::is_sorted(y.begin(), y.end()));
  // Texts of the test rows are unknown to the tokenizer (each word neg<i>/pos<i> is unique).
  for (const std::string& t : rep.test.texts)
    CHECK(rep.tokenizer.index_of(t.substr(0, t.find(' '))) == 0);
  // Deterministic under the seed; another seed picks other rows.
  data::LoadReport again;
  test::load_keeping_texts(cfg, d.str(), &again);
  CHECK(again.test.texts == rep.test.texts);
  cfg.seed = 12;
  data::LoadReport other;
  test::load_keeping_texts(cfg, d.str(), &other);
  CHECK(other.test.texts != rep.test.texts);
  CHECK(other.test.class_counts == std::vector<int64_t>{6, 4});
}

TEST_CASE("loader: cleaning drops are counted; an empty text stays as all padding",
          "[loader][cpu]") {
  TempDir d("clean");
  d.write("t.csv",
          "text,label\n\"Hello @bob, http://x.y LOVE it!!\",a\nok,b\n\"\",a\nfine day,b\n");
  Config raw = parse_config("data: {train: t.csv}\nsequence: {maxlen: 5}\n", "t.yaml");
  data::LoadReport r0;
  DataSplits s0 = data::load_dataset(raw, d.str(), &r0);
  REQUIRE(s0.train.size() == 4);
  CHECK(row(s0.train.tokens, 2) == std::vector<int32_t>(5, 0));  // "" -> no tokens
  CHECK(r0.train.dropped_by_clean == 0);

  Config cleaned = parse_config(
      "data: {train: t.csv, clean: [seed002_clean_text]}\nsequence: {maxlen: 5}\n", "t.yaml");
  data::LoadReport r1;
  DataSplits s1 = test::load_keeping_texts(cleaned, d.str(), &r1);
  // "ok" (2 characters) and "" are dropped by seed 002's length filter.
  CHECK(s1.train.size() == 2);
  CHECK(r1.train.dropped_by_clean == 2);
  CHECK(r1.train.texts == std::vector<std::string>{"hello love it!!", "fine day"});
  CHECK(labels_of(s1.train) == std::vector<int32_t>{0, 1});
  CHECK(r1.train.sequence_lengths == std::vector<int32_t>{3, 2});
}

TEST_CASE("loader: a validation file; no maxlen pads to the longest training text",
          "[loader][cpu]") {
  TempDir d("val");
  d.write("train.tsv", "ID\ttweet\tlabel\n1\ta b c\tpositive\n2\tb c\tnegative\n3\tc\tneutral\n");
  d.write("dev.tsv", "ID\ttweet\tlabel\n1\tz z z z z z c\tneutral\n");
  Config cfg = parse_config(R"(data:
  format: tsv
  text_column: tweet
  train: train.tsv
  validation: dev.tsv
  labels: [negative, neutral, positive]
)",
                            "v.yaml");
  data::LoadReport rep;
  DataSplits s = data::load_dataset(cfg, d.str(), &rep);
  CHECK(rep.maxlen == 3);
  REQUIRE(s.val.size() == 1);
  CHECK(row(s.val.tokens, 0) == std::vector<int32_t>{0, 0, rep.tokenizer.index_of("c")});
  CHECK(labels_of(s.val) == std::vector<int32_t>{1});
  CHECK(rep.tokenizer.index_of("z") == 0);
}

TEST_CASE("loader: a missing file or column is an error a user can act on", "[loader][cpu]") {
  TempDir d("errors");
  d.write("reviews.csv", kReviews);
  Config cfg = parse_config(kReviewsConfig, "reviews.yaml");
  const std::string missing = test::load_error(cfg, (d.path / "nowhere").string());
  INFO(missing);
  CHECK(missing.rfind("reviews.yaml:4:10: data.train: data file not found: " +
                          (d.path / "nowhere" / "reviews.csv").string(),
                      0) == 0);
  CHECK_THAT(missing, Contains("--data-dir") && Contains("EMBER_DATA"));

  std::string yaml = kReviewsConfig;
  yaml.replace(yaml.find("text_column: review"), 19, "text_column: reveiw");
  const std::string col = test::load_error(parse_config(yaml, "reviews.yaml"), d.str());
  INFO(col);
  CHECK(col.rfind("reviews.yaml:4:10: data.train.text_column: ", 0) == 0);
  CHECK_THAT(col, Contains("reveiw") && Contains("review, sentiment, split"));

  yaml = kReviewsConfig;
  yaml.replace(yaml.find("filter: {split: train}"), 22, "filter: {part: train}");
  CHECK_THAT(test::load_error(parse_config(yaml, "reviews.yaml"), d.str()),
             Contains("data.train.filter.part: ") && Contains("part"));
}

TEST_CASE("loader: the data directory comes from --data-dir, EMBER_DATA, then ./data",
          "[loader][cpu]") {
  const char* old = std::getenv("EMBER_DATA");
  const std::string saved = old ? old : "";
  ::setenv("EMBER_DATA", "/env/dir", 1);
  CHECK(data::resolve_data_dir("/cli/dir") == "/cli/dir");
  CHECK(data::resolve_data_dir("") == "/env/dir");
  ::unsetenv("EMBER_DATA");
  CHECK(data::resolve_data_dir("") == "data");
  if (old) ::setenv("EMBER_DATA", saved.c_str(), 1);
}

TEST_CASE("loader: an Embedding smaller than the vocabulary names the layer", "[loader][cpu]") {
  TempDir d("emb");
  d.write("reviews.csv", kReviews);
  std::string yaml = std::string(kReviewsConfig) +
                     "model:\n"
                     "  - Embedding: {input_dim: 5, output_dim: 4}\n"
                     "  - GlobalMaxPooling1D\n"
                     "  - Dense: {units: 1, activation: sigmoid}\n";
  Config cfg = parse_config(yaml, "reviews.yaml");
  // 7 distinct training words + oov + padding = 9 ids.
  try {
    load_data(cfg, d.str());
    FAIL("no error for input_dim 5");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "reviews.yaml:13:5: model[0].Embedding.input_dim: layer 'embedding' (Embedding) has "
          "input_dim 5, but the data uses token ids up to 8 (the tokenizer's word_index has 8 "
          "entries and no num_words is set); set input_dim: 9 or lower tokenizer.num_words");
  }
  yaml.replace(yaml.find("input_dim: 5"), 12, "input_dim: 9");
  CHECK_NOTHROW(load_data(parse_config(yaml, "reviews.yaml"), d.str()));
}

TEST_CASE("loader: train_from_config trains a model on a CSV end to end", "[loader][cpu]") {
  TempDir d("train");
  std::string csv = "text,label\n";
  for (int i = 0; i < 48; ++i)
    csv += (i % 2 ? "a fine good film number " : "a dull bad film number ") + std::to_string(i) +
           "," + (i % 2 ? "pos" : "neg") + "\n";
  d.write("films.csv", csv);
  Config cfg = parse_config(R"(name: films
seed: 3
data: {train: films.csv, labels: [neg, pos], test_split: 0.25}
tokenizer: {num_words: 20}
sequence: {maxlen: 6}
model:
  - Embedding: {input_dim: 20, output_dim: 4, mask_zero: true}
  - LSTM: {units: 3}
  - Dense: {units: 1, activation: sigmoid}
train: {optimizer: {name: adam, learning_rate: 0.05}, epochs: 3, batch_size: 8,
        validation_split: 0.25, bucket_by_length: true}
)",
                            "films.yaml");
  TrainOptions opts;
  opts.write_run_dir = false;
  opts.data_dir = d.str();
  std::ostringstream log;
  TrainResult r = train_from_config(cfg, opts, log);
  INFO(log.str());
  REQUIRE(r.history.size() == 3);
  CHECK(r.history[2].has_val);
  CHECK(std::isfinite(r.history[2].loss));
  CHECK(r.history[2].loss < r.history[0].loss);
  CHECK_THAT(log.str(), Contains("ember: data: train 36 rows (18 neg / 18 pos), test 12 rows") &&
                            Contains("test_accuracy"));
}
