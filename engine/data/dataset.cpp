// Row slicing, validation split and per-epoch permutations for dataset.h.
#include "engine/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/core/rng.h"

namespace ember {

Dataset gather_rows(const Dataset& d, const int64_t* idx, int64_t n) {
  const int64_t t = d.tokens.size(1);
  Dataset out;
  out.tokens = Tensor::empty({n, t}, DType::kInt32);
  out.labels = Tensor::empty({n}, DType::kInt32);
  const int32_t* src = d.tokens.data<int32_t>();
  int32_t* dst = out.tokens.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    EMBER_CHECK_ARG(idx[i] >= 0 && idx[i] < d.size(),
                    "gather_rows: row " << idx[i] << " outside a dataset of " << d.size());
    std::memcpy(dst + i * t, src + idx[i] * t, sizeof(int32_t) * t);
    out.labels.data<int32_t>()[i] = d.labels.data<int32_t>()[idx[i]];
  }
  return out;
}

Dataset slice_rows(const Dataset& d, int64_t begin, int64_t end) {
  EMBER_CHECK_ARG(0 <= begin && begin <= end && end <= d.size(),
                  "slice_rows [" << begin << ", " << end << ") of " << d.size() << " rows");
  std::vector<int64_t> idx(end - begin);
  std::iota(idx.begin(), idx.end(), begin);
  return gather_rows(d, idx.data(), end - begin);
}

void split_validation(const Dataset& all, double fraction, Dataset* train, Dataset* val) {
  EMBER_CHECK_ARG(fraction >= 0 && fraction < 1,
                  "validation_split " << fraction << " must be in [0, 1)");
  // Keras: split_at = int(n * (1 - validation_split)); validation is rows [split_at, n).
  const int64_t n = all.size();
  const int64_t split_at = static_cast<int64_t>(std::floor(n * (1.0 - fraction)));
  *train = slice_rows(all, 0, split_at);
  *val = slice_rows(all, split_at, n);
}

void fit_splits(const Dataset& all, const Dataset& given_val, double fraction, Dataset* train,
                Dataset* val) {
  if (fraction > 0) {
    Dataset unused;
    split_validation(all, fraction, train ? train : &unused, val);
  } else {
    if (train) *train = all;
    *val = given_val;
  }
}

Dataset head(const Dataset& d, int64_t limit) {
  if (limit <= 0 || limit >= d.size()) return d;
  return slice_rows(d, 0, limit);
}

std::vector<int64_t> permutation(int64_t n, uint64_t seed, uint64_t stream) {
  std::vector<int64_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  for (int64_t i = n - 1; i > 0; --i) {
    uint64_t r = (static_cast<uint64_t>(philox_bits(seed, stream, 2 * i)) << 32) |
                 philox_bits(seed, stream, 2 * i + 1);
    std::swap(p[i], p[r % static_cast<uint64_t>(i + 1)]);
  }
  return p;
}

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, uint64_t epoch) {
  // Stream id 2^63 + epoch keeps shuffles apart from dropout streams.
  return permutation(n, seed, (1ULL << 63) | epoch);
}

std::vector<int64_t> class_counts(const Tensor& labels, int64_t num_classes) {
  std::vector<int64_t> counts(num_classes, 0);
  const int32_t* y = labels.data<int32_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    EMBER_CHECK_ARG(y[i] >= 0 && y[i] < num_classes, "label " << y[i] << " at row " << i
                                                              << " is outside [0, " << num_classes
                                                              << ")");
    ++counts[y[i]];
  }
  return counts;
}

}  // namespace ember
