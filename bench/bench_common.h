// Helpers every benchmark shares: the commit and CPU a result was measured on, for the JSON
// lines committed under bench/results/.
#pragma once

#include <string>

namespace ember::bench {

std::string git_commit();  // $EMBER_COMMIT, else the source tree's short HEAD hash, or "unknown"
std::string cpu_model();   // /proc/cpuinfo's model name, or "unknown"

}  // namespace ember::bench
