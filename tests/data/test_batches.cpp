// BatchIterator: without bucketing it visits epoch_permutation(n, seed, epoch) in chunks (the
// order the trainer always used, so the golden loss trajectory stays valid); with shuffle off
// it is the identity; with bucket_by_length every row is still visited once per epoch, the
// batches hold similar lengths, and the batch order is shuffled and reproducible.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <set>

#include "engine/data/batches.h"

using namespace ember;
using data::Batch;
using data::BatchIterator;
using data::BatchOptions;

namespace {

// n rows of width t; row i holds (i % t) + 1 tokens (pre-padded), all equal to i + 1, and
// label i % 3.
Dataset ragged(int64_t n, int64_t t) {
  Dataset d;
  d.tokens = Tensor::full({n, t}, DType::kInt32, 0);
  d.labels = Tensor::empty({n}, DType::kInt32);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t len = (i * 7) % t + 1;
    for (int64_t j = t - len; j < t; ++j) d.tokens.data<int32_t>()[i * t + j] = int32_t(i + 1);
    d.labels.data<int32_t>()[i] = int32_t(i % 3);
  }
  return d;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& plan) {
  std::vector<int64_t> all;
  for (const auto& b : plan) all.insert(all.end(), b.begin(), b.end());
  return all;
}

}  // namespace

TEST_CASE("batches: the unbucketed order is epoch_permutation in chunks", "[batches][cpu]") {
  Dataset d = ragged(103, 10);
  BatchOptions o;
  o.batch_size = 16;
  o.seed = 99;
  BatchIterator it(d, o);
  CHECK(it.steps_per_epoch() == 7);
  for (uint64_t epoch : {0u, 1u, 5u}) {
    std::vector<std::vector<int64_t>> plan = it.plan(epoch);
    REQUIRE(plan.size() == 7);
    CHECK(plan.back().size() == 103 - 6 * 16);
    CHECK(flatten(plan) == epoch_permutation(103, 99, epoch));
  }
  // next() yields exactly those rows: tokens, labels and non-padding lengths.
  it.start_epoch(1);
  const std::vector<int64_t> order = epoch_permutation(103, 99, 1);
  Batch b;
  int64_t seen = 0, batches = 0;
  while (it.next(&b)) {
    ++batches;
    REQUIRE(b.tokens.shape() == Shape{b.size(), 10});
    Dataset ref = gather_rows(d, order.data() + seen, b.size());
    for (int64_t i = 0; i < b.size() * 10; ++i)
      REQUIRE(b.tokens.data<int32_t>()[i] == ref.tokens.data<int32_t>()[i]);
    for (int64_t i = 0; i < b.size(); ++i) {
      const int64_t r = order[seen + i];
      CHECK(b.labels.data<int32_t>()[i] == r % 3);
      CHECK(b.lengths.data<int32_t>()[i] == (r * 7) % 10 + 1);
    }
    seen += b.size();
  }
  CHECK(batches == 7);
  CHECK(seen == 103);
  CHECK_FALSE(it.next(&b));  // stays finished until the next start_epoch
}

TEST_CASE("batches: shuffle off visits rows in order", "[batches][cpu]") {
  Dataset d = ragged(20, 4);
  BatchOptions o;
  o.batch_size = 8;
  o.shuffle = false;
  std::vector<int64_t> want(20);
  std::iota(want.begin(), want.end(), 0);
  CHECK(flatten(BatchIterator(d, o).plan(3)) == want);
}

TEST_CASE("batches: lengths count the tokens that are not the padding value", "[batches][cpu]") {
  Tensor t = Tensor::full({2, 5}, DType::kInt32, 7);
  t.data<int32_t>()[0] = 0;
  t.data<int32_t>()[1] = 0;
  t.data<int32_t>()[9] = 0;  // a 0 inside a row still counts when padding is 7
  CHECK(data::row_lengths(t, 0) == std::vector<int32_t>{3, 4});
  CHECK(data::row_lengths(t, 7) == std::vector<int32_t>{2, 1});
}

TEST_CASE("batches: bucket_by_length groups similar lengths, every row once", "[batches][cpu]") {
  const int64_t n = 1000, t = 50;
  Dataset d = ragged(n, t);
  BatchOptions o;
  o.batch_size = 10;
  o.seed = 4;
  o.bucket_by_length = true;
  o.bucket_window = 20;  // windows of 200 rows
  BatchIterator it(d, o);
  const std::vector<int32_t>& len = it.lengths();

  auto spread = [&](const std::vector<std::vector<int64_t>>& plan) {
    double total = 0;
    for (const auto& b : plan) {
      int32_t lo = INT32_MAX, hi = 0;
      for (int64_t r : b) lo = std::min(lo, len[r]), hi = std::max(hi, len[r]);
      total += hi - lo;
    }
    return total / plan.size();
  };
  std::vector<std::vector<int64_t>> plan = it.plan(0);
  REQUIRE(plan.size() == 100);
  std::vector<int64_t> all = flatten(plan);
  std::sort(all.begin(), all.end());
  std::vector<int64_t> want(n);
  std::iota(want.begin(), want.end(), 0);
  CHECK(all == want);  // a permutation of the rows
  // 200 rows per window over 50 lengths: about 4 rows per length, so a batch spans ~2
  // lengths; unbucketed batches of 10 random rows span ~40.
  BatchOptions plain = o;
  plain.bucket_by_length = false;
  const double bucketed = spread(plan), random = spread(BatchIterator(d, plain).plan(0));
  INFO("bucketed spread " << bucketed << ", random " << random);
  CHECK(bucketed < 4);
  CHECK(random > 25);
  // The batch order is shuffled: lengths do not rise steadily through a window.
  int rises = 0;
  for (size_t i = 1; i < 20; ++i) rises += len[plan[i][0]] >= len[plan[i - 1][0]];
  CHECK(rises < 18);
  // Reproducible, and a new shuffle every epoch.
  CHECK(it.plan(0) == plan);
  CHECK(it.plan(1) != plan);
  // Through next(): same batches, lengths sorted within each.
  it.start_epoch(0);
  Batch b;
  size_t k = 0;
  while (it.next(&b)) {
    REQUIRE(b.size() == static_cast<int64_t>(plan[k].size()));
    for (int64_t i = 0; i < b.size(); ++i) CHECK(b.lengths.data<int32_t>()[i] == len[plan[k][i]]);
    CHECK(std::is_sorted(b.lengths.data<int32_t>(), b.lengths.data<int32_t>() + b.size()));
    ++k;
  }
  CHECK(k == plan.size());
}
