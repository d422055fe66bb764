// Helpers for the data-parallel end-to-end tests (test_dist_train.cpp, test_dist_faults.cpp):
// `ember train` on N ranks through mpirun, a job started in the background with each rank's
// pid written down (for the fault tests to kill or stop one), and readers of a run's files.
// mpirun is EMBER_MPIEXEC (CMake's MPIEXEC_EXECUTABLE); CTest's environment lets Open MPI run
// as root and oversubscribe the cores (the CI machine has two).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace ember::test {

// The config every data-parallel test trains: synthetic data, every kind of dropout.
inline const std::string kDistConfig = std::string(EMBER_SOURCE_DIR) + "/configs/synthetic.yaml";

struct CommandResult {
  int code;         // exit status, or 128 + signal
  std::string out;  // stdout and stderr together
};
CommandResult run_command(const std::string& cmd);

// "mpirun -np N" (nothing for N = 0: the plain binary) + ember + args, with every rank's BLAS
// pinned as in the test environment.
std::string ember_on_ranks(int ranks, const std::string& args);

// A job running in the background: `mpirun -np N bash -c 'echo $$ > pid.R; exec ember ...'`
// with its output in `log`. finish() waits up to `seconds`, then kills the whole job and
// returns -1; otherwise the exit status.
class BackgroundJob {
 public:
  BackgroundJob(int ranks, const std::string& args, const std::string& dir);
  ~BackgroundJob();
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;
  pid_t rank_pid(int rank) const;  // waits until the rank has written its pid
  int finish(double seconds);
  std::string output() const;

 private:
  pid_t launcher_ = -1;
  std::string dir_;
  bool done_ = false;
};

// Waits up to `seconds` for `path` to exist; false when it does not.
bool wait_for_file(const std::string& path, double seconds);

// losses.csv as (step, loss) rows.
std::vector<std::pair<int64_t, double>> read_losses(const std::string& path);
// Every tensor of a safetensors file (a bundle or checkpoint), by name.
std::vector<std::pair<std::string, Tensor>> read_tensors(const std::string& path);
std::string read_file(const std::string& path);

}  // namespace ember::test
