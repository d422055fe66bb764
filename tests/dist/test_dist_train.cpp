// Data-parallel training end to end, through the CLI as users run it (`mpirun -np N ember
// train`), on configs/synthetic.yaml, whose model has every kind of dropout: at the same global
// batch, 1 and 2 ranks give the same losses to 1e-6 (relative) over 20 steps and the same final
// weights to 1e-5; 3 ranks (uneven shards) too; two 2-rank runs are bit-identical; a 2-rank
// checkpoint resumes on 2 ranks bit for bit and on 1 rank within the same tolerances, also when
// the last batch of an epoch leaves a rank without rows. Hidden ([.mpi_train]); CTest runs it
// as the test mpi_train (label mpi) when the build has MPI.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/dist_test_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using namespace ember::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// Trains on `ranks` ranks (0: no mpirun) into dir; requires success.
void train(int ranks, const std::string& dir, const std::string& extra) {
  const CommandResult r = run_command(
      ember_on_ranks(ranks, "train " + kDistConfig + " --device cpu --out " + dir + " " + extra));
  INFO(r.out);
  REQUIRE(r.code == 0);
}

void check_losses_close(const std::string& a, const std::string& b, size_t steps) {
  const auto la = read_losses(a), lb = read_losses(b);
  REQUIRE(la.size() == steps);
  REQUIRE(lb.size() == steps);
  double worst = 0;
  for (size_t i = 0; i < steps; ++i) {
    CHECK(la[i].first == lb[i].first);
    worst = std::max(worst, std::abs(la[i].second - lb[i].second) / std::abs(lb[i].second));
  }
  INFO(a << " vs " << b << ": worst relative loss difference " << worst);
  CHECK(worst <= 1e-6);
}

void check_weights_close(const std::string& a, const std::string& b) {
  const auto ta = read_tensors(a), tb = read_tensors(b);
  REQUIRE(ta.size() == tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    INFO(ta[i].first);
    REQUIRE(ta[i].first == tb[i].first);
    if (ta[i].second.dtype() == DType::kFloat32)
      EMBER_EXPECT_CLOSE(ta[i].second, tb[i].second, (Tolerance{1e-5, 1e-5}));
  }
}

std::string read_tensor_bytes(const Tensor& t) {
  return std::string(static_cast<const char*>(t.raw()), t.nbytes());
}

void check_identical(const std::string& a, const std::string& b) {
  INFO(a << " vs " << b);
  CHECK(read_file(a) == read_file(b));
}

// Every tensor bit for bit (a checkpoint's metadata also holds the seconds each epoch took).
void check_tensors_identical(const std::string& a, const std::string& b) {
  const auto ta = read_tensors(a), tb = read_tensors(b);
  REQUIRE(ta.size() == tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    INFO(a << " vs " << b << ": " << ta[i].first);
    CHECK(ta[i].first == tb[i].first);
    CHECK(read_tensor_bytes(ta[i].second) == read_tensor_bytes(tb[i].second));
  }
}

// history.csv without its last column (seconds per epoch).
std::string history_without_seconds(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string out;
  for (std::string line; std::getline(in, line);) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

}  // namespace

TEST_CASE("1, 2 and 3 ranks train alike at equal global batch; two 2-rank runs are identical",
          "[.mpi_train]") {
  TempDir d("dist_train");
  const std::string steps = "--max-steps 20";
  train(0, d.str() + "/one", steps);
  train(2, d.str() + "/two", steps);
  train(2, d.str() + "/two_again", steps);
  train(3, d.str() + "/three", steps);  // 32 rows as 10 / 11 / 11
  for (const char* run : {"two", "three"}) {
    check_losses_close(d.str() + "/" + run + "/losses.csv", d.str() + "/one/losses.csv", 20);
    check_weights_close(d.str() + "/" + run + "/model.ember", d.str() + "/one/model.ember");
  }
  for (const char* f : {"losses.csv", "model.ember", "metrics.json"})
    check_identical(d.str() + "/two/" + f, d.str() + "/two_again/" + f);
  check_tensors_identical(d.str() + "/two/last.ckpt", d.str() + "/two_again/last.ckpt");
  CHECK(history_without_seconds(d.str() + "/two/history.csv") ==
        history_without_seconds(d.str() + "/two_again/history.csv"));
  // Test metrics are sharded by batch and gathered: the numbers of one rank.
  const auto m1 = nlohmann::json::parse(read_file(d.str() + "/one/metrics.json"));
  const auto m2 = nlohmann::json::parse(read_file(d.str() + "/two/metrics.json"));
  CHECK(m2["rows"] == m1["rows"]);
  CHECK(m2["accuracy"].get<double>() == Approx(m1["accuracy"].get<double>()).epsilon(1e-6));
  CHECK(m2["loss"].get<double>() == Approx(m1["loss"].get<double>()).epsilon(1e-6));
  CHECK(m2["auc"].get<double>() == Approx(m1["auc"].get<double>()).epsilon(1e-6));
}

TEST_CASE("a 2-rank checkpoint resumes on 2 ranks bit for bit and on 1 rank alike",
          "[.mpi_train]") {
  TempDir d("dist_resume");
  // 321 rows: 10 batches of 32, then one of 1 row, which rank 0 holds no part of.
  const std::string rows = "--limit 321 ";
  train(2, d.str() + "/full2", rows + "--epochs 2");
  train(0, d.str() + "/full1", rows + "--epochs 2");
  train(2, d.str() + "/first", rows + "--epochs 1");
  const std::string ckpt = d.str() + "/first/last.ckpt";
  train(2, d.str() + "/resumed2", rows + "--epochs 2 --resume " + ckpt);
  train(0, d.str() + "/resumed1", rows + "--epochs 2 --resume " + ckpt);
  for (const char* f : {"losses.csv", "model.ember"})
    check_identical(d.str() + "/resumed2/" + f, d.str() + "/full2/" + f);
  check_tensors_identical(d.str() + "/resumed2/last.ckpt", d.str() + "/full2/last.ckpt");
  check_losses_close(d.str() + "/resumed1/losses.csv", d.str() + "/full2/losses.csv", 22);
  check_weights_close(d.str() + "/resumed1/model.ember", d.str() + "/full2/model.ember");
  check_losses_close(d.str() + "/full2/losses.csv", d.str() + "/full1/losses.csv", 22);
  check_weights_close(d.str() + "/full2/model.ember", d.str() + "/full1/model.ember");
}

TEST_CASE("a global batch smaller than the world is refused before training", "[.mpi_train]") {
  TempDir d("dist_small_batch");
  const std::string cfg = read_file(kDistConfig);
  std::string small = cfg;
  small.replace(small.find("batch_size: 32"), 14, "batch_size: 2");
  d.write("small.yaml", small);
  const CommandResult r = run_command(
      ember_on_ranks(3, "train " + d.str() + "/small.yaml --device cpu --out " + d.str() + "/run"));
  INFO(r.out);
  CHECK(r.code != 0);
  CHECK_THAT(r.out, Contains("train.batch_size 2 is the global batch, split across 3 ranks"));
  CHECK_FALSE(fs::exists(d.str() + "/run/model.ember"));
}
