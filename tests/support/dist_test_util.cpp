// dist_test_util.h: processes for the data-parallel tests.
#include "tests/support/dist_test_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/core/check.h"
#include "engine/io/safetensors.h"

namespace ember::test {

namespace fs = std::filesystem;

CommandResult run_command(const std::string& cmd) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  EMBER_CHECK(p, "popen failed: " << cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, out};
}

std::string ember_on_ranks(int ranks, const std::string& args) {
  const std::string ember = std::string(EMBER_BINARY) + " " + args;
  if (ranks == 0) return ember;
  return std::string(EMBER_MPIEXEC) + " -np " + std::to_string(ranks) + " " + ember;
}

BackgroundJob::BackgroundJob(int ranks, const std::string& args, const std::string& dir)
    : dir_(dir) {
  const std::string cmd = std::string(EMBER_MPIEXEC) + " -np " + std::to_string(ranks) +
                          " bash -c 'echo $$ > " + dir + "/pid.$OMPI_COMM_WORLD_RANK; exec " +
                          EMBER_BINARY + " " + args + "' > " + dir + "/job.log 2>&1";
  launcher_ = fork();
  EMBER_CHECK(launcher_ >= 0, "fork failed");
  if (launcher_ == 0) {
    setpgid(0, 0);  // its own process group, so that a failing test can end all of it
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(launcher_, launcher_);
}

BackgroundJob::~BackgroundJob() {
  if (!done_) finish(0);
}

pid_t BackgroundJob::rank_pid(int rank) const {
  const std::string path = dir_ + "/pid." + std::to_string(rank);
  EMBER_CHECK(wait_for_file(path, 60), "rank " << rank << " never wrote " << path);
  for (int tries = 0; tries < 100; ++tries) {  // the file may exist before its line is written
    std::ifstream f(path);
    long pid = 0;
    if (f >> pid && pid > 0) return static_cast<pid_t>(pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EMBER_CHECK(false, path << " holds no pid");
  return -1;
}

int BackgroundJob::finish(double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  for (;;) {
    const pid_t r = waitpid(launcher_, &status, WNOHANG);
    if (r == launcher_) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-launcher_, SIGKILL);
      waitpid(launcher_, &status, 0);
      done_ = true;
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  done_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string BackgroundJob::output() const {
  return read_file(dir_ + "/job.log");
}

bool wait_for_file(const std::string& path, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!fs::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<std::pair<int64_t, double>> read_losses(const std::string& path) {
  std::ifstream f(path);
  EMBER_CHECK(f, "cannot read " << path);
  std::string line;
  std::getline(f, line);  // header
  std::vector<std::pair<int64_t, double>> rows;
  while (std::getline(f, line)) {
    const size_t comma = line.find(',');
    EMBER_CHECK(comma != std::string::npos, path << ": bad line '" << line << "'");
    rows.emplace_back(std::stoll(line.substr(0, comma)), std::stod(line.substr(comma + 1)));
  }
  return rows;
}

std::vector<std::pair<std::string, Tensor>> read_tensors(const std::string& path) {
  return load_safetensors(path).tensors;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace ember::test
