// Helpers every benchmark shares: the commit and CPU a result was measured on, for the JSON
// lines committed under bench/results/.
#pragma once

#include <string>

namespace ember::bench {

std::string git_commit();  // short hash of the source tree's HEAD, or "unknown"
std::string cpu_model();   // /proc/cpuinfo's model name, or "unknown"

}  // namespace ember::bench
