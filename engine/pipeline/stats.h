// `ember data CONFIG`: what a dataset looks like after loading, i.e. seed 002's EDA for any
// config: rows and label distribution per split, length percentiles of the cleaned training
// texts (characters = Unicode code points, as pandas' str.len; tokens = ids per text after the
// tokenizer, before padding), vocabulary size against num_words, the OOV rate (share of words
// not in the kept vocabulary), the share of texts cut at maxlen, and every dropped row.
// Percentiles interpolate linearly between ranks, as numpy and pandas' describe() do.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/pipeline/loader.h"

namespace ember::data {

struct Percentiles {
  int64_t count = 0;
  double min = 0, p25 = 0, p50 = 0, p75 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0, mean = 0;
};
Percentiles percentiles(std::vector<double> values);

struct SplitStats {
  std::string name;  // train | validation | test
  int64_t rows = 0;
  std::vector<int64_t> class_counts;
  int64_t filtered_out = 0;
  std::map<std::string, int64_t> dropped_labels;
  int64_t dropped_by_clean = 0;
  int64_t truncated = 0;  // texts longer than maxlen
  int64_t words = 0;      // words after the tokenizer's filters and split
  int64_t oov_words = 0;  // ... of which not in the kept vocabulary
  double truncated_share() const { return rows ? double(truncated) / rows : 0; }
  double oov_rate() const { return words ? double(oov_words) / words : 0; }
};

struct DataStats {
  std::string name;  // config name
  std::string data_dir;
  std::vector<FileReport> files;
  std::vector<std::string> class_names;
  std::vector<SplitStats> splits;  // train, then validation and test when present
  bool test_from_split = false;
  double test_split = 0;
  bool validation_from_split = false;
  double validation_split = 0;
  std::vector<std::string> clean;
  Percentiles chars, tokens;   // cleaned training texts
  int64_t distinct_words = 0;  // the tokenizer's word_index size
  std::optional<int64_t> num_words;
  int64_t kept_words = 0;  // words with an id below num_words (oov token excluded)
  std::optional<std::string> oov_token;
  int64_t vocab_size = 0;  // Embedding input_dim needed
  int64_t maxlen = 0;
  std::vector<std::string> warnings;
};

// The report must come from load_dataset with keep_texts set.
DataStats compute_stats(const Config& cfg, const DataSplits& data, const LoadReport& report);
std::string format_stats(const DataStats& s);  // the table `ember data` prints
std::string stats_json(const DataStats& s);    // the same as one JSON object (one line)

}  // namespace ember::data
