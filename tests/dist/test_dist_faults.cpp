// Faults of a data-parallel job, through the CLI: a rank killed (SIGKILL) or hung (SIGSTOP)
// mid-training stops the whole job with an error naming that rank, and the last checkpoint
// still loads; a rank started with another config, seed or executable is refused before any
// step. Hidden ([.mpi_faults]); CTest runs it as mpi_faults (label mpi, alone: it stops and
// kills processes and waits on deadlines). The deadlines here bound a hung test, they are not
// measurements: a job that does not stop within them fails the test.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/train/callbacks.h"
#include "engine/train/checkpoint.h"
#include "layers/builder.h"
#include "optim/optimizer.h"
#include "tests/support/dist_test_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using namespace ember::test;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

// Long enough never to finish by itself: 20 steps an epoch, a checkpoint after each.
const std::string kLongRun = "train " + kDistConfig + " --device cpu --limit 640 --epochs 100000";
constexpr double kStopBound = 120;  // seconds a failing job gets to stop before the test fails

// Loads a checkpoint into a fresh model, optimizer and callbacks, as --resume does.
RunPosition load(const std::string& ckpt) {
  const Config cfg = load_config(kDistConfig);
  Model model = build_model(cfg, DType::kFloat32);
  std::unique_ptr<Optimizer> opt = make_optimizer(cfg.train.optimizer);
  auto callbacks = make_callbacks(cfg.train.callbacks);
  return load_checkpoint(ckpt, model, *opt, callbacks);
}

// Starts a 2-rank job, waits for its first checkpoint, sends `sig` to `victim`, and returns
// the job's exit status and output once it has stopped.
CommandResult fault(const std::string& dir, int victim, int sig) {
  BackgroundJob job(2, kLongRun + " --out " + dir + "/run", dir);
  const pid_t pid = job.rank_pid(victim);
  const bool started = wait_for_file(dir + "/run/last.ckpt", kStopBound);
  if (started) kill(pid, sig);
  const int code = job.finish(kStopBound);
  kill(pid, SIGKILL);  // a stopped rank that somehow outlived the job
  INFO(job.output());
  REQUIRE(started);
  REQUIRE(code != -1);  // -1: it did not stop, and finish() killed it
  return {code, job.output()};
}

}  // namespace

TEST_CASE("a rank killed mid-training stops the job naming it; the last checkpoint loads",
          "[.mpi_faults]") {
  TempDir d("dist_kill");
  const CommandResult r = fault(d.str(), 1, SIGKILL);
  INFO(r.out);
  CHECK(r.code != 0);
  // Open MPI's launcher sees the death first ("process rank 1 ... exited on signal 9"), or
  // rank 0's collective fails first naming rank 1: either way rank 1 is named.
  CHECK_THAT(r.out, Contains("rank 1"));
  const RunPosition pos = load(d.str() + "/run/last.ckpt");
  CHECK(pos.step >= 20);
  CHECK(pos.step % 20 == 0);  // written at an epoch's end
}

TEST_CASE("a rank that hangs stops the job at the collective deadline, naming it",
          "[.mpi_faults]") {
  setenv("EMBER_DIST_TIMEOUT", "5", 1);
  for (int victim : {1, 0}) {
    INFO("rank " << victim << " stopped with SIGSTOP");
    TempDir d("dist_hang_" + std::to_string(victim));
    const CommandResult r = fault(d.str(), victim, SIGSTOP);
    INFO(r.out);
    CHECK(r.code != 0);
    const int other = 1 - victim;
    CHECK_THAT(r.out,
               Contains("rank " + std::to_string(other)) &&
                   Contains("no answer from rank " + std::to_string(victim) + " within 5 s"));
    CHECK(load(d.str() + "/run/last.ckpt").step >= 20);
  }
  unsetenv("EMBER_DIST_TIMEOUT");
}

TEST_CASE("a rank with another config, seed or executable is refused at start-up",
          "[.mpi_faults]") {
  TempDir d("dist_mismatch");
  std::string other = read_file(kDistConfig);
  other.replace(other.find("learning_rate: 0.005"), 20, "learning_rate: 0.004");
  d.write("other.yaml", other);
  // A copy of the binary with one byte appended: it still runs, but it is another file.
  const std::string copy = d.str() + "/ember_copy";
  fs::copy_file(EMBER_BINARY, copy);
  std::ofstream(copy, std::ios::app) << '\n';
  fs::permissions(copy, fs::perms::owner_all);
  // One job of two programs (MPMD): "mpiexec -np 1 A : -np 1 B" makes A rank 0, B rank 1.
  const std::string mpi = " -np 1 ";
  const std::string args = " --device cpu --out " + d.str() + "/run --max-steps ";
  const std::string same =
      std::string(EMBER_MPIEXEC) + mpi + EMBER_BINARY + " train " + kDistConfig + args + "5";
  struct Case {
    std::string second, expect;
  };
  const std::vector<Case> cases = {
      {mpi + EMBER_BINARY + " train " + d.str() + "/other.yaml" + args + "5",
       "rank 1 differs from rank 0 in its config text"},
      {mpi + EMBER_BINARY + " train " + kDistConfig + args + "5 --seed 9",
       "rank 1 differs from rank 0 in its seed (9 vs 1337)"},
      {mpi + EMBER_BINARY + " train " + kDistConfig + args + "6",
       "rank 1 differs from rank 0 in its options"},
      {mpi + copy + " train " + kDistConfig + args + "5",
       "rank 1 differs from rank 0 in its executable"},
  };
  for (const Case& c : cases) {
    INFO(c.expect);
    const CommandResult r = run_command(same + " : " + c.second);
    INFO(r.out);
    CHECK(r.code != 0);
    CHECK_THAT(r.out, Contains("starting 2 ranks: " + c.expect));
    CHECK_FALSE(fs::exists(d.str() + "/run"));  // refused before the run directory
  }
}
