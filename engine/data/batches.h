// Minibatches over a padded Dataset: tokens [B,T], lengths [B] (non-padding tokens), labels
// [B], all int32. Unbucketed, epoch e visits epoch_permutation(n, seed, e) (identity with
// shuffle off) in chunks of batch_size: the trainer's original order, so its losses are
// unchanged. bucket_by_length (not in Keras; default off) sorts that order by length inside
// windows of `bucket_window` batches, cuts batches, and shuffles the batch order on its own
// stream (no reshuffle with shuffle off): similar lengths per batch, every row once per epoch.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/data/dataset.h"

namespace ember::data {

struct Batch {
  Tensor tokens;   // [B,T] int32
  Tensor lengths;  // [B] int32, non-padding tokens per row
  Tensor labels;   // [B] int32
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct BatchOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  bool bucket_by_length = false;
  int64_t bucket_window = 100;  // batches per sorting window
  uint64_t seed = 0;
  int32_t pad_value = 0;  // sequence.value
};

class BatchIterator {
 public:
  // Keeps a reference-counted view of d's tensors (no copy of the rows).
  BatchIterator(const Dataset& d, const BatchOptions& opts);

  int64_t steps_per_epoch() const;
  // The row indices of every batch of epoch `epoch`, in visiting order.
  std::vector<std::vector<int64_t>> plan(uint64_t epoch) const;
  // Plans epoch `epoch`; next() then yields its batches.
  void start_epoch(uint64_t epoch);
  bool next(Batch* out);

  const std::vector<int32_t>& lengths() const { return lengths_; }

 private:
  Dataset data_;
  BatchOptions opts_;
  std::vector<int32_t> lengths_;  // per row
  std::vector<std::vector<int64_t>> plan_;
  size_t pos_ = 0;
};

// Non-padding tokens per row of tokens [N,T].
std::vector<int32_t> row_lengths(const Tensor& tokens, int32_t pad_value);

}  // namespace ember::data
