// In-memory datasets after tokenization and padding: tokens [N,T] int32 (0 = padding), labels
// [N] int32 class ids in [0, K). Batches are gathered rows; per-epoch shuffles come from the
// config's seed through Philox, so a run is reproducible on any machine.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace ember {

struct Dataset {
  Tensor tokens;  // [N,T] int32
  Tensor labels;  // [N] int32
  int64_t size() const { return tokens.defined() ? tokens.size(0) : 0; }
  bool empty() const { return size() == 0; }
};

struct DataSplits {
  Dataset train, val, test;
  std::vector<std::pair<std::string, Dataset>> extra_tests;  // data.extra_tests: name, rows
  std::vector<std::string> class_names;                      // index = class id
  std::vector<std::string> vocab;  // index = token id ("" for padding), may be empty
};

// Rows [begin, end) of d, copied.
Dataset slice_rows(const Dataset& d, int64_t begin, int64_t end);
// Rows idx[0..n) of d, copied (a batch).
Dataset gather_rows(const Dataset& d, const int64_t* idx, int64_t n);
// Keras validation_split: the LAST fraction of the rows, taken before any shuffling.
void split_validation(const Dataset& all, double fraction, Dataset* train, Dataset* val);
// The rows a fit trains and validates on: train.validation_split's last rows of `all` when
// `fraction` > 0 (split_validation), else all of `all` and the data section's own
// validation rows `given_val`. `train` may be null (ember evaluate wants the validation rows).
void fit_splits(const Dataset& all, const Dataset& given_val, double fraction, Dataset* train,
                Dataset* val);
// The first `limit` rows (limit <= 0: all).
Dataset head(const Dataset& d, int64_t limit);

// Permutation of [0, n) from Philox stream (seed, stream) (Fisher-Yates, 64-bit draws).
std::vector<int64_t> permutation(int64_t n, uint64_t seed, uint64_t stream);
// The training shuffle of epoch `epoch`: permutation() on stream 2^63 + epoch.
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, uint64_t epoch);

// Per-class counts of labels [N] for K classes; throws naming a label outside [0, K).
std::vector<int64_t> class_counts(const Tensor& labels, int64_t num_classes);

}  // namespace ember
