// Implementation of loader_test_util.h.
#include "tests/support/loader_test_util.h"

#include <sstream>

#include "engine/core/check.h"
#include "engine/train/trainer.h"

namespace ember::test {

namespace {

// A "text,label" CSV of `rows` rows alternating `neg_text`,neg and `pos_text`,pos (neg first).
std::string alternating_csv(int rows, const std::string& neg_text, const std::string& pos_text) {
  std::string csv = "text,label\n";
  for (int i = 0; i < rows; ++i) csv += (i % 2 ? pos_text + ",pos\n" : neg_text + ",neg\n");
  return csv;
}

}  // namespace

DataSplits load_keeping_texts(const Config& cfg, const std::string& dir, data::LoadReport* rep) {
  rep->keep_texts = true;
  return data::load_dataset(cfg, dir, rep);
}

std::string load_error(const Config& cfg, const std::string& dir) {
  try {
    data::load_dataset(cfg, dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::set<std::string> distinct_texts(std::initializer_list<const data::SplitReport*> splits) {
  std::set<std::string> all;
  for (const data::SplitReport* s : splits) all.insert(s->texts.begin(), s->texts.end());
  return all;
}

void write_class_files(const TempDir& d, const std::string& prefix, int n_neg, int n_pos) {
  std::string neg, pos;
  for (int i = 0; i < n_neg; ++i) neg += "neg" + std::to_string(i) + " sad\n";
  for (int i = 0; i < n_pos; ++i) pos += "pos" + std::to_string(i) + " glad\n";
  d.write(prefix + "neg.txt", neg);
  d.write(prefix + "pos.txt", pos);
}

std::string class_files_data(const std::string& prefix) {
  const std::string item = "    - {file: " + prefix;
  return "data:\n  format: lines\n  train:\n" + item + "neg.txt, label: negative}\n" + item +
         "pos.txt, label: positive}\n  labels: [negative, positive]\n";
}

void write_film_files(const TempDir& d, int official_rows, const std::string& official_neg,
                      const std::string& official_pos) {
  d.write("films.csv", alternating_csv(40, "a dull bad film", "a fine good film"));
  d.write("official.csv", alternating_csv(official_rows, official_neg, official_pos));
}

const char* const kFilmsData =
    "data: {train: films.csv, labels: [neg, pos], test_split: 0.25, validation_split: 0.2,\n"
    "       extra_tests: {official: {file: official.csv}}}\n";

const char* const kFilmsModel = R"(tokenizer: {num_words: 20}
sequence: {maxlen: 4}
model:
  - Embedding: {input_dim: 20, output_dim: 4}
  - LSTM: {units: 3}
  - Dense: {units: 1, activation: sigmoid}
)";

std::string train_in(const TempDir& d, const Config& cfg, int64_t limit) {
  TrainOptions opts;
  opts.limit = limit;
  opts.data_dir = d.str();
  opts.out_dir = (d.path / "run").string();
  std::ostringstream log;
  train_from_config(cfg, opts, log);
  return log.str();
}

}  // namespace ember::test
