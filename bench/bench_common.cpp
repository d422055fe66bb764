// bench_common.h: read the commit from $EMBER_COMMIT, else with git (the benchmark runs from
// a checkout), and the CPU model from /proc/cpuinfo.
#include "bench/bench_common.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace ember::bench {

std::string git_commit() {
  // A copy of the tree without .git (the GPU machine's) gets the hash from whoever started it.
  if (const char* env = std::getenv("EMBER_COMMIT"); env && *env) return env;
  std::string cmd =
      std::string("git -C ") + EMBER_SOURCE_DIR + " rev-parse --short HEAD 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "unknown";
  char buf[64] = {0};
  std::string out = fgets(buf, sizeof buf, p) ? buf : "";
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out.empty() ? "unknown" : out;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

}  // namespace ember::bench
