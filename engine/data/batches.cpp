// BatchIterator (see batches.h). A batch is gathered with gather_rows, the same copy the
// trainer made before, so the non-bucketed numbers are bit-identical to the old loop.
#include "engine/data/batches.h"

#include <algorithm>
#include <numeric>

namespace ember::data {

namespace {
// Stream of the bucketed batch order: apart from epoch shuffles (2^63 + epoch), the test
// split (2^63 + 2^62) and dropout streams.
constexpr uint64_t kBatchOrderStream = (1ULL << 63) | (1ULL << 61);
}  // namespace

std::vector<int32_t> row_lengths(const Tensor& tokens, int32_t pad_value) {
  const int64_t n = tokens.size(0), t = tokens.size(1);
  const int32_t* p = tokens.data<int32_t>();
  std::vector<int32_t> len(n, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < t; ++j) len[i] += p[i * t + j] != pad_value;
  return len;
}

BatchIterator::BatchIterator(const Dataset& d, const BatchOptions& opts) : data_(d), opts_(opts) {
  EMBER_CHECK_ARG(opts.batch_size > 0, "batch_size must be positive, got " << opts.batch_size);
  EMBER_CHECK_ARG(opts.bucket_window > 0,
                  "bucket_window must be positive, got " << opts.bucket_window);
  if (!d.empty()) lengths_ = row_lengths(d.tokens, opts.pad_value);
}

int64_t BatchIterator::steps_per_epoch() const {
  return (data_.size() + opts_.batch_size - 1) / opts_.batch_size;
}

std::vector<std::vector<int64_t>> BatchIterator::plan(uint64_t epoch) const {
  const int64_t n = data_.size(), bs = opts_.batch_size;
  std::vector<int64_t> order;
  if (opts_.shuffle) {
    order = epoch_permutation(n, opts_.seed, epoch);
  } else {
    order.resize(n);
    std::iota(order.begin(), order.end(), 0);
  }
  if (opts_.bucket_by_length) {
    const int64_t window = bs * opts_.bucket_window;
    for (int64_t w = 0; w < n; w += window) {
      auto first = order.begin() + w, last = order.begin() + std::min(n, w + window);
      std::stable_sort(first, last,
                       [&](int64_t a, int64_t b) { return lengths_[a] < lengths_[b]; });
    }
  }
  std::vector<std::vector<int64_t>> batches;
  batches.reserve(steps_per_epoch());
  for (int64_t b = 0; b < n; b += bs)
    batches.emplace_back(order.begin() + b, order.begin() + std::min(n, b + bs));
  if (opts_.bucket_by_length && opts_.shuffle) {
    // Sorted windows alone would run short batches before long ones in every window.
    std::vector<int64_t> perm =
        permutation(static_cast<int64_t>(batches.size()), opts_.seed, kBatchOrderStream | epoch);
    std::vector<std::vector<int64_t>> shuffled(batches.size());
    for (size_t i = 0; i < perm.size(); ++i) shuffled[i] = std::move(batches[perm[i]]);
    batches.swap(shuffled);
  }
  return batches;
}

void BatchIterator::start_epoch(uint64_t epoch) {
  plan_ = plan(epoch);
  pos_ = 0;
}

bool BatchIterator::next(Batch* out) {
  if (pos_ >= plan_.size()) return false;
  const std::vector<int64_t>& idx = plan_[pos_++];
  const int64_t b = static_cast<int64_t>(idx.size());
  Dataset rows = gather_rows(data_, idx.data(), b);
  out->tokens = rows.tokens;
  out->labels = rows.labels;
  out->lengths = Tensor::empty({b}, DType::kInt32);
  for (int64_t i = 0; i < b; ++i) out->lengths.data<int32_t>()[i] = lengths_[idx[i]];
  return true;
}

}  // namespace ember::data
