// Internal to load_dataset (engine/pipeline/loader.cpp): the steps a split's rows go through
// between reading and padding. Rows carry (text, raw label, source, line) until labels are
// mapped, so errors can name file:line; a Split is then texts and class ids, row i of one
// matching row i of the other. Cleaning and texts_to_sequences run on up to two threads in
// contiguous chunks, so results do not depend on the thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/clean.h"
#include "engine/data/tokenizer.h"
#include "engine/pipeline/loader.h"

namespace ember::data::detail {

struct Row {
  std::string text;
  std::string label;  // raw
  const DataSource* source;
  int64_t line;
};

struct Split {
  std::vector<std::string> texts;
  std::vector<int32_t> labels;
};

// Runs f(begin, end) over [0, n) on up to two threads, in contiguous chunks.
void parallel_for(size_t n, const std::function<void(size_t, size_t)>& f);

// raw label -> class id, and the class names, from data.labels (or inferred from train).
struct LabelMap {
  std::map<std::string, int32_t> id;
  std::set<std::string> drop;
  std::vector<std::string> names;
};
LabelMap make_label_map(const DataConfig& d, const std::vector<Row>& train);

// Raw labels that are neither classes nor dropped: how many rows, and the first one.
struct Unknown {
  int64_t count = 0;
  std::string first;  // file:line (split)
};

// Rows -> (texts, class ids); dropped labels counted in rep, unknown ones collected. The rows
// are consumed (moved from, then freed).
Split map_labels(std::vector<Row>& rows, const LabelMap& m, const char* split_name,
                 SplitReport* rep, std::map<std::string, Unknown>* unknown);
// The data.labels error listing the unknown labels, most frequent first.
[[noreturn]] void unknown_labels_error(const DataConfig& d,
                                       const std::map<std::string, Unknown>& unknown);

// Applies the cleaning steps in place; rows a step drops are removed and counted in rep.
void clean_split(const Cleaner& cleaner, Split* s, SplitReport* rep);

// Moves a stratified `fraction` of *train into *test (scikit-learn's per-class sizes; see
// the .cpp). `key` names the config key in errors, `held` the held-out side.
void stratified_split(Split* train, Split* test, double fraction, int64_t num_classes,
                      uint64_t seed, uint64_t stream, const SourceLoc& loc, const char* key,
                      const char* held);

std::vector<int64_t> counts_of(const std::vector<int32_t>& labels, size_t k);
std::vector<std::vector<int32_t>> to_sequences(const Tokenizer& tok,
                                               const std::vector<std::string>& texts);

}  // namespace ember::data::detail
