// Communicators and the data-parallel step (engine/dist). Cases tagged [dist] need no MPI;
// cases tagged [.mpi_comm] are hidden from the plain runs and need two or more ranks: CTest
// runs them as `mpirun -np 2 ember_tests "[mpi_comm]"` (label mpi). Every rank runs the same
// cases in the same order, as the collectives require, and checks its own results.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "engine/config/config.h"
#include "engine/dist/comm.h"
#include "engine/dist/data_parallel.h"
#include "engine/dist/fingerprint.h"
#include "engine/dist/world.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/synthetic.h"
#include "layers/builder.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

#ifdef EMBER_HAVE_MPI
#include "engine/dist/comm_mpi.h"
#endif

using namespace ember;
using Catch::Matchers::Contains;

namespace {

// Element i of rank r's buffer: a different pseudo-random float per (rank, i).
Tensor rank_data(DType dt, int64_t n, int r) {
  return test::random_uniform(Shape{n}, dt, -3, 3, 1000 + static_cast<uint64_t>(r));
}

// What every rank must end up with: rank 0's values + rank 1's + ..., in that order.
Tensor expected_sum(DType dt, int64_t n, int world) {
  Tensor acc = rank_data(dt, n, 0);
  for (int r = 1; r < world; ++r) {
    const Tensor d = rank_data(dt, n, r);
    dispatch_float(dt, "expected_sum", [&](auto tag) {
      using T = decltype(tag);
      for (int64_t i = 0; i < n; ++i) acc.data<T>()[i] += d.data<T>()[i];
    });
  }
  return acc;
}

dist::Communicator& two_or_more_ranks() {
  dist::Communicator& w = dist::world();
  if (w.size() < 2)
    FAIL("[mpi_comm] cases need several ranks: mpirun -np 2 ember_tests \"[mpi_comm]\"");
  return w;
}

// A per-step model (one prediction per step under a mask), so that ranks hold different
// numbers of unmasked steps and the weighting of data_parallel.h is exercised.
const char* kPerStep = R"(name: per_step
seed: 3
data:
  synthetic: {n_train: 64, n_val: 8, n_test: 8, maxlen: 12, seed: 5}
sequence: {maxlen: 12}
model:
  - Embedding: {input_dim: 48, output_dim: 6, mask_zero: true}
  - SpatialDropout1D: {rate: 0.2}
  - LSTM: {units: 5, return_sequences: true, dropout: 0.2, recurrent_dropout: 0.2}
  - Dense: {units: 1, activation: sigmoid}
train: {loss: binary_crossentropy, batch_size: 8}
)";

}  // namespace

TEST_CASE("dist::shard: contiguous rows in rank order, sizes within one of each other", "[dist]") {
  for (int64_t n : {0, 1, 2, 3, 7, 32, 33, 100})
    for (int w : {1, 2, 3, 4, 8}) {
      int64_t next = 0, smallest = n, largest = 0;
      for (int r = 0; r < w; ++r) {
        const dist::RowRange s = dist::shard(n, r, w);
        CHECK(s.begin == next);
        next = s.end;
        smallest = std::min(smallest, s.size());
        largest = std::max(largest, s.size());
      }
      CHECK(next == n);
      CHECK(largest - smallest <= 1);
    }
  // A batch smaller than the world leaves the first ranks empty, never a negative range.
  CHECK(dist::shard(1, 0, 2).size() == 0);
  CHECK(dist::shard(1, 1, 2).size() == 1);
  CHECK_THROWS(dist::shard(4, 2, 2));
}

TEST_CASE("local communicator: one rank, collectives return their input", "[dist]") {
  auto c = dist::make_local_communicator();
  CHECK(c->rank() == 0);
  CHECK(c->size() == 1);
  Tensor t = rank_data(DType::kFloat32, 5, 0);
  const Tensor before = t.clone();
  c->allreduce_sum(t, "test");
  CHECK(test::same_bytes(t, before));
  CHECK(c->allgather("x", "test") == std::vector<std::string>{"x"});
  Tensor ints = Tensor::zeros(Shape{2}, DType::kInt32);
  CHECK_THROWS_WITH(c->allreduce_sum(ints, "ints"), Contains("float32 or float64"));
}

TEST_CASE("EMBER_DIST_TIMEOUT: default 300 s, a positive number, else an error naming it",
          "[dist]") {
  const char* old = std::getenv("EMBER_DIST_TIMEOUT");
  const std::string saved = old ? old : "";
  unsetenv("EMBER_DIST_TIMEOUT");
  CHECK(dist::collective_timeout_seconds() == 300.0);
  setenv("EMBER_DIST_TIMEOUT", "2.5", 1);
  CHECK(dist::collective_timeout_seconds() == 2.5);
  for (const char* bad : {"0", "-1", "ten", "5s", "nan"}) {
    setenv("EMBER_DIST_TIMEOUT", bad, 1);
    CHECK_THROWS_WITH(dist::collective_timeout_seconds(), Contains("EMBER_DIST_TIMEOUT"));
  }
  if (old)
    setenv("EMBER_DIST_TIMEOUT", saved.c_str(), 1);
  else
    unsetenv("EMBER_DIST_TIMEOUT");
}

TEST_CASE("fingerprints: hashes move with every byte; one rank always agrees with itself",
          "[dist]") {
  const std::string a = "train:\n  epochs: 3\n", b = "train:\n  epochs: 4\n";
  CHECK(dist::hash_hex(a.data(), a.size()) != dist::hash_hex(b.data(), b.size()));
  CHECK(dist::hash_hex(a.data(), a.size()) == dist::hash_hex(a.data(), a.size()));
  CHECK(dist::hash_hex(a.data(), 3) != dist::hash_hex(a.data(), 4));  // length counts
  CHECK(dist::executable_hash().find("bytes") != std::string::npos);
  auto c = dist::make_local_communicator();
  CHECK_NOTHROW(dist::check_same_on_all_ranks(*c, {{"config", "1", "x.yaml"}}, "start-up"));
}

TEST_CASE("allreduce_sum: rank-order sums, bit-identical on every rank", "[.mpi_comm]") {
  dist::Communicator& w = two_or_more_ranks();
  for (DType dt : {DType::kFloat32, DType::kFloat64})
    for (int64_t n : {1, 2, 3, 7, 1000, 100003}) {
      INFO(dtype_name(dt) << " n=" << n);
      Tensor t = rank_data(dt, n, w.rank());
      w.allreduce_sum(t, "test sum");
      CHECK(test::same_bytes(t, expected_sum(dt, n, w.size())));
      const std::vector<std::string> h = w.allgather(dist::hash_tensors({t}), "hashes");
      for (const std::string& x : h) CHECK(x == h[0]);
    }
}

TEST_CASE("allgather and broadcast carry strings of any length", "[.mpi_comm]") {
  dist::Communicator& w = two_or_more_ranks();
  const std::string mine(static_cast<size_t>(w.rank()) * 1000, static_cast<char>('a' + w.rank()));
  const std::vector<std::string> all = w.allgather(mine, "strings");
  REQUIRE(static_cast<int>(all.size()) == w.size());
  for (int r = 0; r < w.size(); ++r)
    CHECK(all[r] == std::string(static_cast<size_t>(r) * 1000, static_cast<char>('a' + r)));
  std::string b = w.rank() == 1 ? std::string("from rank 1\0with a zero", 23) : "";
  w.broadcast(b, 1, "broadcast");
  CHECK(b == std::string("from rank 1\0with a zero", 23));
  w.barrier("end");
}

TEST_CASE("data-parallel step: gradients, loss and counts of the whole batch on every rank",
          "[.mpi_comm]") {
  dist::Communicator& w = two_or_more_ranks();
  dist::DataParallel dp(w);
  const Config cfg = parse_config(kPerStep, "per_step.yaml");
  const DataSplits data = make_synthetic(*cfg.data.synthetic, cfg.sequence);
  Model model = build_model(cfg, DType::kFloat32);  // the same weights on every rank (seed)
  std::vector<ag::Var*> params = model.parameters();
  auto loss_of = [&](const Dataset& b, const RunContext& ctx, Tensor* counts) {
    LayerIO out = model.forward(b.tokens, ctx);
    const Tensor mask = out.x.value().ndim() == 3 ? out.mask : Tensor();
    *counts = fn::accuracy_counts(out.x.value(), b.labels, mask, false);
    return fn::binary_crossentropy(out.logits, b.labels.to(DType::kFloat32), Tensor(), mask, true);
  };
  // 7 rows split unevenly; 1 row leaves rank 0 without any.
  for (int64_t n : {8, 7, 1}) {
    INFO(n << " rows over " << w.size() << " ranks");
    const Dataset batch = slice_rows(data.train, 0, n);
    const RunContext ctx{/*training=*/true, cfg.seed, /*step=*/5};
    // The reference: this rank computes the whole batch alone.
    for (ag::Var* p : params) p->zero_grad();
    Tensor full_counts;
    ag::Var full = loss_of(batch, ctx, &full_counts);
    full.backward();
    std::vector<Tensor> ref;
    for (ag::Var* p : params) ref.push_back(p->grad().clone());
    const double ref_loss = full.value().item();
    const Tensor ref_counts = full_counts.to(Device::cpu());

    const dist::RowRange mine = dp.rows_of(n);
    RunContext c = ctx;
    c.row_offset = static_cast<uint64_t>(mine.begin);
    for (ag::Var* p : params) p->zero_grad();
    Tensor loss_v, counts;
    if (mine.size() > 0) {
      ag::Var l = loss_of(slice_rows(batch, mine.begin, mine.end), c, &counts);
      l.backward();
      loss_v = l.value();
    }
    const dist::StepStats s = dp.read(dp.reduce_step(params, loss_v, counts, false, 5));
    CHECK(s.loss == Approx(ref_loss).epsilon(1e-6));
    CHECK(s.correct == ref_counts.item(0));
    CHECK(s.total == ref_counts.item(1));
    CHECK_FALSE(s.stop);
    for (size_t i = 0; i < params.size(); ++i) {
      INFO("parameter " << i);
      EMBER_EXPECT_CLOSE(params[i]->grad(), ref[i], (test::Tolerance{1e-7, 1e-5}));
    }
    std::vector<Tensor> grads;
    for (ag::Var* p : params) grads.push_back(p->grad());
    const std::vector<std::string> h = w.allgather(dist::hash_tensors(grads), "grad hashes");
    for (const std::string& x : h) CHECK(x == h[0]);
  }
  // A stop request of one rank reaches every rank.
  for (ag::Var* p : params) p->zero_grad();
  const dist::StepStats s = dp.read(dp.reduce_step(params, Tensor(), Tensor(), w.rank() == 1, 6));
  CHECK(s.stop);
}

TEST_CASE("gather_scores: every rank ends with all rows in order", "[.mpi_comm]") {
  dist::Communicator& w = two_or_more_ranks();
  dist::DataParallel dp(w);
  const int64_t total = 11, classes = 3;
  const dist::RowRange mine = dp.rows_of(total);
  Scores s;
  s.rows = mine.size();
  s.classes = classes;
  for (int64_t i = mine.begin; i < mine.end; ++i) {
    for (int64_t k = 0; k < classes; ++k) s.probs.push_back(0.01 * i + k);
    s.pred.push_back(static_cast<int32_t>(i % classes));
  }
  dp.gather_scores(s, mine.begin, total, classes, "scores");
  REQUIRE(s.rows == total);
  for (int64_t i = 0; i < total; ++i) {
    CHECK(s.pred[i] == i % classes);
    for (int64_t k = 0; k < classes; ++k) CHECK(s.probs[i * classes + k] == 0.01 * i + k);
  }
  std::vector<double> v{1.0 + w.rank(), 0.5};
  dp.sum(v, "sums");
  CHECK(v[1] == 0.5 * w.size());
}

TEST_CASE("start-up fingerprints: a rank that differs is named on every rank", "[.mpi_comm]") {
  dist::Communicator& w = two_or_more_ranks();
  const dist::Fingerprint same{{"config", "abc", "a.yaml"}, {"executable", "e1", ""}};
  CHECK_NOTHROW(dist::check_same_on_all_ranks(w, same, "start-up"));
  dist::Fingerprint odd = same;
  if (w.rank() == 1) odd[0] = {"config", "xyz", "b.yaml"};
  CHECK_THROWS_WITH(
      dist::check_same_on_all_ranks(w, odd, "start-up"),
      Contains("rank 1 differs from rank 0 in its config (xyz, b.yaml vs abc, a.yaml)"));
}

#ifdef EMBER_HAVE_MPI
TEST_CASE("a collective that a rank never joins fails at the deadline, naming that rank",
          "[.mpi_comm]") {
  dist::Communicator& w = two_or_more_ranks();
  setenv("EMBER_DIST_TIMEOUT", "1", 1);
  std::unique_ptr<dist::Communicator> c = dist::make_mpi_communicator();  // collective
  unsetenv("EMBER_DIST_TIMEOUT");
  if (w.rank() == 0)
    CHECK_THROWS_WITH(c->barrier("test barrier"), Contains("rank 0") && Contains("test barrier") &&
                                                      Contains("no answer from rank 1 within 1 s"));
  // Every rank but 0 stays away from that barrier; errors are gathered on their own tags, and
  // with rank 1 absent too the gathering gives up empty.
  if (w.rank() == 0) CHECK(c->gather_errors("alone", 0.5).empty());
  w.barrier("after the timeout");
  const std::vector<std::string> e =
      w.gather_errors("error of rank " + std::to_string(w.rank()), 30);
  REQUIRE(static_cast<int>(e.size()) == w.size());
  CHECK(e[1] == "error of rank 1");
}
#endif
