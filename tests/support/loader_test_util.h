// Helpers the data-loader tests share (tests/pipeline/test_loader*.cpp, tests/cli/): loading
// with the cleaned texts kept, the message a load fails with, the distinct texts of several
// splits (to check that no row lands in two), and the two small data sets they write into a
// TempDir (line files, one per class; a films CSV with an extra test set) with the `data:`
// sections that read them; a films model and a training run in the TempDir.
#pragma once

#include <initializer_list>
#include <set>
#include <string>

#include "engine/config/config.h"
#include "engine/pipeline/loader.h"
#include "tests/support/test_util.h"

namespace ember::test {

// data::load_dataset with rep->keep_texts set, so that the report holds every split's texts.
DataSplits load_keeping_texts(const Config& cfg, const std::string& dir, data::LoadReport* rep);

// The message of the ember::Error data::load_dataset throws, or "" when it loads.
std::string load_error(const Config& cfg, const std::string& dir);

// The texts of `splits` together, each once: as many as their rows exactly when no text is in
// two of them (the tests' texts are all different).
std::set<std::string> distinct_texts(std::initializer_list<const data::SplitReport*> splits);

// Line files in class order, as Sentiment140's: <prefix>neg.txt with "neg<i> sad" for i below
// n_neg, <prefix>pos.txt with "pos<i> glad" for i below n_pos. Every word neg<i> / pos<i> is
// unique, so a text's first word says which row it is.
void write_class_files(const TempDir& d, const std::string& prefix, int n_neg, int n_pos);
// The `data:` section that reads them (format lines, labels [negative, positive]); a caller
// appends its own data keys, indented by two spaces, and the rest of the config.
std::string class_files_data(const std::string& prefix);

// films.csv: 40 rows alternating "a dull bad film",neg and "a fine good film",pos;
// official.csv: `official_rows` rows alternating `official_neg`,neg and `official_pos`,pos.
void write_film_files(const TempDir& d, int official_rows, const std::string& official_neg,
                      const std::string& official_pos);
// The `data:` line that reads them: test and validation split off films.csv (stratified),
// official.csv an extra test set.
extern const char* const kFilmsData;
// A films model (tokenizer num_words 20, maxlen 4, Embedding 20x4, LSTM 3, Dense sigmoid); a
// caller appends its `train:` line.
extern const char* const kFilmsModel;

// Trains `cfg` on the files in `d` into d/run (the bundle is d/run/model.ember), on the first
// `limit` rows when limit > 0 (`ember train --limit`); the log.
std::string train_in(const TempDir& d, const Config& cfg, int64_t limit = 0);

}  // namespace ember::test
