// Dropout masks of a batch shard (data parallelism, engine/dist): rows [lo, hi) of a batch,
// run with their global row offset, draw exactly their rows of the whole batch's masks
// (Dropout, SpatialDropout1D, the LSTM's input and recurrent masks, a whole model through
// RunContext::row_offset), so N ranks draw what one process would. Shard boundaries are
// chosen so that index bases are not multiples of 4 (the Philox block width).
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>

#include "engine/config/config.h"
#include "engine/core/rng.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/synthetic.h"
#include "layers/builder.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;
using ember::test::random_uniform;
using ember::test::weighted_sum;

namespace {

// Rows [lo, hi) of a contiguous tensor whose first dim is rows, copied.
Tensor rows(const Tensor& t, int64_t lo, int64_t hi) {
  const int64_t per_row = t.numel() / t.size(0);
  Shape out;
  if (t.ndim() == 2) out = Shape{hi - lo, t.size(1)};
  if (t.ndim() == 3) out = Shape{hi - lo, t.size(1), t.size(2)};
  Tensor r = Tensor::empty(out, t.dtype());
  const size_t es = dtype_size(t.dtype());
  std::memcpy(r.raw(), static_cast<const char*>(t.raw()) + lo * per_row * es,
              static_cast<size_t>((hi - lo) * per_row) * es);
  return r;
}

const std::vector<std::pair<int64_t, int64_t>> kShards = {{0, 4}, {4, 9}, {3, 7}, {8, 9}, {1, 2}};

// A dropout of x whose draws for row r start at index_base + r * draws_per_row.
using DropFn = std::function<ag::Var(const ag::Var& x, uint64_t index_base)>;

// Drops the whole batch x (index base 0), then each shard of kShards with the index base of
// its first row, and checks that the shard's output and input gradient (through
// weighted_sum with w's rows) are its rows of the whole batch's, bit for bit.
void check_shard_draws(const Tensor& x, const Tensor& w, uint64_t draws_per_row,
                       const DropFn& drop) {
  ag::Var xv(x, true);
  ag::Var y = drop(xv, 0);
  weighted_sum(y, w).backward();
  for (auto [lo, hi] : kShards) {
    INFO("rows " << lo << ".." << hi);
    ag::Var xs(rows(x, lo, hi), true);
    ag::Var ys = drop(xs, static_cast<uint64_t>(lo) * draws_per_row);
    CHECK(test::same_bytes(ys.value(), rows(y.value(), lo, hi)));
    weighted_sum(ys, rows(w, lo, hi)).backward();
    CHECK(test::same_bytes(xs.grad(), rows(xv.grad(), lo, hi)));
  }
}

}  // namespace

TEST_CASE("dropout of a shard draws its rows of the whole batch's mask, forward and backward",
          "[dist][dropout]") {
  const uint64_t seed = 99, offset = dropout_offset(7, 3, 0);
  check_shard_draws(random_uniform(Shape{9, 5}, DType::kFloat32, 0.5, 1.5, 3),
                    random_uniform(Shape{9, 5}, DType::kFloat32, -1, 1, 4), 5,  // 5 draws a row
                    [&](const ag::Var& x, uint64_t index_base) {
                      return fn::dropout(x, 0.4, seed, offset, index_base);
                    });
}

TEST_CASE("spatial dropout of a shard draws its rows of the whole batch's mask",
          "[dist][dropout]") {
  const uint64_t seed = 5, offset = dropout_offset(2, 1, 0);
  check_shard_draws(random_uniform(Shape{9, 3, 7}, DType::kFloat32, 0.5, 1.5, 8),
                    random_uniform(Shape{9, 3, 7}, DType::kFloat32, -1, 1, 9),
                    7,  // a draw per channel
                    [&](const ag::Var& x, uint64_t index_base) {
                      return fn::spatial_dropout1d(x, 0.3, seed, offset, index_base);
                    });
}

TEST_CASE("an LSTM shard draws its rows of the input and recurrent dropout masks", "[dist][lstm]") {
  // float64, so that the only difference between a shard and the whole batch could be the mask.
  const int64_t B = 9, T = 4, C = 3, H = 5;
  const Tensor x = random_uniform(Shape{B, T, C}, DType::kFloat64, -1, 1, 11);
  const Tensor k = random_uniform(Shape{C, 4 * H}, DType::kFloat64, -0.5, 0.5, 12);
  const Tensor rk = random_uniform(Shape{H, 4 * H}, DType::kFloat64, -0.5, 0.5, 13);
  const Tensor b = random_uniform(Shape{4 * H}, DType::kFloat64, -0.1, 0.1, 14);
  fn::LstmCall call;
  call.training = true;
  call.dropout = 0.3;
  call.recurrent_dropout = 0.4;
  call.seed = 21;
  call.offset = dropout_offset(4, 2, 0);
  call.implementation = fn::LstmImpl::kReference;
  const Tensor full =
      fn::lstm(ag::Var(x), ag::Var(k), ag::Var(rk), ag::Var(b), Tensor(), call).value();
  for (auto [lo, hi] : kShards) {
    INFO("rows " << lo << ".." << hi);
    fn::LstmCall c = call;
    c.first_row = static_cast<uint64_t>(lo);
    const Tensor part =
        fn::lstm(ag::Var(rows(x, lo, hi)), ag::Var(k), ag::Var(rk), ag::Var(b), Tensor(), c)
            .value();
    EMBER_EXPECT_CLOSE(part, rows(full, lo, hi), (test::Tolerance{1e-13, 1e-12}));
    // Without first_row the shard would draw the first rows' masks instead: a real difference.
    if (lo > 0) {
      const Tensor wrong =
          fn::lstm(ag::Var(rows(x, lo, hi)), ag::Var(k), ag::Var(rk), ag::Var(b), Tensor(), call)
              .value();
      CHECK(!test::compare(wrong, rows(full, lo, hi), test::Tolerance{1e-13, 1e-12}).empty());
    }
  }
}

TEST_CASE("a model forward on a shard with RunContext::row_offset gives its rows of the batch",
          "[dist]") {
  // The synthetic config: Embedding(mask_zero), SpatialDropout1D, LSTM with dropout and
  // recurrent_dropout, Dense; in float64 so that differences can only come from the masks.
  const Config cfg = load_config(std::string(EMBER_SOURCE_DIR) + "/configs/synthetic.yaml");
  const DataSplits data = make_synthetic(*cfg.data.synthetic, cfg.sequence);
  Model model = build_model(cfg, DType::kFloat64);
  const Tensor tokens = rows(data.train.tokens, 0, 9);
  const RunContext ctx{/*training=*/true, cfg.seed, /*step=*/17};
  const Tensor full = model.forward(tokens, ctx).x.value();
  for (auto [lo, hi] : kShards) {
    INFO("rows " << lo << ".." << hi);
    RunContext c = ctx;
    c.row_offset = static_cast<uint64_t>(lo);
    const Tensor part = model.forward(rows(tokens, lo, hi), c).x.value();
    EMBER_EXPECT_CLOSE(part, rows(full, lo, hi), (test::Tolerance{1e-13, 1e-12}));
  }
}
