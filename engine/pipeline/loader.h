// From a config's `data:` section to padded token splits: read the source files (reader.h),
// keep the rows their filters select, map raw labels to class ids (drop_labels counted), clean
// (clean.h; rows a step drops are counted), split off a stratified test set (test_split), fit
// the Tokenizer on the TRAINING texts only and pad every split with `sequence:`.
// The tokenizer is fitted after test_split and before train.validation_split, as a Keras
// script fits on its training arrays and then calls fit(validation_split=...): the validation
// rows are part of what the vocabulary is built from. data.validation_split is the other way:
// a stratified split of the training rows (after test_split) taken BEFORE the fit, so the
// vocabulary never sees them. data.extra_tests are read, cleaned and padded like data.test. The
// stratified split follows scikit-learn's per-class counts and returns both parts in a seeded
// shuffled order.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/data/tokenizer.h"

namespace ember::data {

// One split as loaded, for `ember data` and the training log.
struct SplitReport {
  int64_t rows = 0;                               // rows in the final split
  int64_t filtered_out = 0;                       // rows of its files a filter did not keep
  std::map<std::string, int64_t> dropped_labels;  // data.drop_labels: raw label -> rows
  int64_t dropped_by_clean = 0;                   // rows a cleaning step dropped
  std::vector<int64_t> class_counts;              // per class id
  // Only with LoadReport::keep_texts:
  std::vector<std::string> texts;         // cleaned texts, in the split's row order
  std::vector<int32_t> sequence_lengths;  // token ids per text before padding
};

// One file as read (a file shared by train and test, like IMDB's, is read once).
struct FileReport {
  std::string path;  // resolved against the data directory
  int64_t rows = 0;  // data rows parsed (bad rows excluded)
  int64_t skipped_rows = 0;
  std::vector<int64_t> skipped_lines;  // first lines of skipped rows (at most 20)
};

struct LoadReport {
  bool keep_texts = false;  // in: keep the cleaned texts and sequence lengths per split
  // in: use this tokenizer instead of fitting one (`ember evaluate` tokenizes with the
  // bundle's, fitted at training time); copied into `tokenizer`.
  const Tokenizer* fitted = nullptr;
  std::string data_dir;
  std::vector<FileReport> files;
  SplitReport train, validation, test;
  bool test_from_split = false;        // test rows came from data.test_split
  bool validation_from_split = false;  // validation rows came from data.validation_split
  std::vector<std::pair<std::string, SplitReport>> extra_tests;  // data.extra_tests, in order
  Tokenizer tokenizer;                                           // fitted on the training texts
  int64_t maxlen = 0;                 // the padded length (sequence.maxlen, or the longest text)
  std::vector<std::string> warnings;  // things the user should look at; loading went on
};

// The data directory: `cli` when not empty, else $EMBER_DATA, else "data".
std::string resolve_data_dir(const std::string& cli);

// Loads cfg.data (real files; cfg.data.synthetic is the trainer's business). Throws
// ember::Error (config file:line:column and key path for config problems, data file:line for
// data problems, the resolved path for a missing file).
DataSplits load_dataset(const Config& cfg, const std::string& data_dir,
                        LoadReport* report = nullptr);

// Throws when the model's Embedding cannot hold every token id the data uses (input_dim <
// vocab_size), naming the layer and its place in the config. No Embedding: nothing to check.
void check_embedding_fits(const Config& cfg, int64_t vocab_size, const std::string& why);

}  // namespace ember::data
