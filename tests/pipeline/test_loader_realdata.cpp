// data::load_dataset on the real data sets of ../shared/data, from configs as a user writes
// them: every split's row count and label counts must be exactly those of the data README
// (and, for Tweet Sentiment Extraction with seed 002's cleaning and 80/20 split, exactly the
// notebook's printed counts). The data is found through EMBER_DATA, else
// ${EMBER_SOURCE_DIR}/../shared/data; when absent the test WARNs and returns, unless
// EMBER_REQUIRE_DATA is set, in which case it fails.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/loader.h"

namespace fs = std::filesystem;
using namespace ember;

namespace {

std::string data_dir() {
  if (const char* env = std::getenv("EMBER_DATA"); env && *env) return env;
  return (fs::path(EMBER_SOURCE_DIR) / ".." / "shared" / "data").lexically_normal().string();
}

bool have_data(const std::string& dir) {
  if (fs::is_directory(dir)) return true;
  if (std::getenv("EMBER_REQUIRE_DATA")) FAIL("data directory " << dir << " is missing");
  WARN("data directory " << dir << " not found; real-data loader checks skipped");
  return false;
}

using Counts = std::vector<int64_t>;

struct Loaded {
  DataSplits splits;
  data::LoadReport report;
};

Loaded load(const std::string& yaml, bool keep_texts = false) {
  Loaded l;
  l.report.keep_texts = keep_texts;
  l.splits = data::load_dataset(parse_config(yaml, "realdata.yaml"), data_dir(), &l.report);
  for (const data::FileReport& f : l.report.files) {
    INFO(f.path);
    CHECK(f.skipped_rows == 0);
  }
  return l;
}

}  // namespace

TEST_CASE("real data: every split has the README's rows and labels", "[loader][realdata]") {
  if (!have_data(data_dir())) return;

  SECTION("IMDB: one file, train and test by the split column") {
    Loaded l = load(R"(data:
  train: imdb/imdb_50k.csv.xz
  filter: {split: train}
  text_column: review
  label_column: sentiment
  labels: [negative, positive]
  test: {filter: {split: test}}
sequence: {maxlen: 10}
)");
    CHECK(l.report.files.size() == 1);
    CHECK(l.report.files[0].rows == 50000);
    CHECK(l.splits.train.size() == 25000);
    CHECK(l.splits.test.size() == 25000);
    CHECK(l.report.train.class_counts == Counts{12500, 12500});
    CHECK(l.report.test.class_counts == Counts{12500, 12500});
    CHECK(l.report.train.filtered_out == 25000);
  }

  SECTION("Tweet Sentiment Extraction: train and test files; the empty tweet is kept") {
    Loaded l = load(R"(data:
  train: tweet_sentiment_extraction/train.csv.xz
  test: tweet_sentiment_extraction/test.csv.xz
  label_column: sentiment
  labels: [negative, neutral, positive]
sequence: {maxlen: 40, padding: post, truncating: post}
)",
                    true);
    CHECK(l.splits.train.size() == 27481);
    CHECK(l.report.train.class_counts == Counts{7781, 11118, 8582});
    CHECK(l.splits.test.size() == 3534);
    CHECK(l.report.test.class_counts == Counts{1001, 1430, 1103});
    // Without cleaning, textID fdb77c3752's empty text stays: one all-padding neutral row.
    int64_t empty = 0;
    for (size_t i = 0; i < l.report.train.texts.size(); ++i) {
      if (!l.report.train.texts[i].empty()) continue;
      ++empty;
      CHECK(l.report.train.sequence_lengths[i] == 0);
      CHECK(l.splits.train.labels.at<int32_t>(static_cast<int64_t>(i)) == 1);
    }
    CHECK(empty == 1);
  }

  SECTION("Tweet Sentiment Extraction with seed 002's cleaning and stratified 80/20 split") {
    // The notebook: 27,481 rows -> 27,470 after clean_text and the length filter, then
    // train_test_split(test_size=0.2, stratify=y): train 21,976 (neutral 8,888, positive
    // 6,866, negative 6,222), test 5,494 (2,222 / 1,716 / 1,556).
    Loaded l = load(R"(seed: 42
data:
  train: tweet_sentiment_extraction/train.csv.xz
  label_column: sentiment
  labels: [negative, neutral, positive]
  clean: [seed002_clean_text]
  test_split: 0.2
tokenizer: {num_words: 20000, oov_token: <OOV>}
sequence: {maxlen: 40, padding: post, truncating: post}
)");
    CHECK(l.report.train.dropped_by_clean == 11);
    CHECK(l.splits.train.size() == 21976);
    CHECK(l.report.train.class_counts == Counts{6222, 8888, 6866});
    CHECK(l.splits.test.size() == 5494);
    CHECK(l.report.test.class_counts == Counts{1556, 2222, 1716});
  }

  SECTION("Sentiment140: two text files for train, the manual test set without neutrals") {
    Loaded l = load(R"(data:
  train:
    - {file: sentiment140/tweets_100k_negative.txt.xz, format: lines, label: "0"}
    - {file: sentiment140/tweets_100k_positive.txt.xz, format: lines, label: "4"}
  test: {file: sentiment140/testdata.manual.2009.06.14.csv.xz, header: false,
         text_column: 5, label_column: 0}
  labels: {"0": 0, "4": 1}
  drop_labels: ["2"]
sequence: {maxlen: 30}
)");
    CHECK(l.splits.train.size() == 100000);
    CHECK(l.report.train.class_counts == Counts{50000, 50000});
    CHECK(l.splits.test.size() == 359);
    CHECK(l.report.test.class_counts == Counts{177, 182});
    CHECK(l.report.test.dropped_labels == std::map<std::string, int64_t>{{"2", 139}});
    CHECK(l.report.files.size() == 3);
  }

  SECTION("Sentiment140: the 20k head/tail sample, polarity as a label map") {
    Loaded l = load(R"(data:
  train: sentiment140/training.1600000.processed.noemoticon.sample20k_head_tail.csv.xz
  header: false
  text_column: 5
  label_column: 0
  labels: {"0": 0, "4": 1}
sequence: {maxlen: 30}
)");
    CHECK(l.splits.train.size() == 20000);
    CHECK(l.report.train.class_counts == Counts{9999, 10001});
  }

  SECTION("Igbo: train, dev as validation, test (TSV without quoting)") {
    Loaded l = load(R"(data:
  format: tsv
  text_column: tweet
  label_column: label
  train: afrisenti_igbo/ig_train.tsv.xz
  validation: afrisenti_igbo/ig_dev.tsv.xz
  test: afrisenti_igbo/ig_test.tsv.xz
  labels: [negative, neutral, positive]
sequence: {maxlen: 50}
)");
    CHECK(l.splits.train.size() == 10192);
    CHECK(l.report.train.class_counts == Counts{2600, 4508, 3084});
    CHECK(l.splits.val.size() == 1841);
    CHECK(l.report.validation.class_counts == Counts{470, 811, 560});
    CHECK(l.splits.test.size() == 3682);
    CHECK(l.report.test.class_counts == Counts{943, 1621, 1118});
  }
}
