// profile_report.h. Sections (the optimizer) sit in the same table as ops; the unattributed
// row is the step's wall time minus everything charged: the gaps the graph does not see (the
// topological sort, zeroing gradients, the time between the loss and backward()).
#include "bench/profile_report.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace ember::bench {

namespace {
double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}
}  // namespace

nlohmann::json profile_report(const std::vector<op_profile::Entry>& entries, int64_t steps,
                              double step_ms) {
  nlohmann::json rows = nlohmann::json::array();
  const double n = static_cast<double>(steps > 0 ? steps : 1);
  std::fprintf(stderr, "%-34s %-7s %10s %7s %8s\n", "op", "phase", "ms/step", "%step", "calls/st");
  double charged = 0;
  for (const op_profile::Entry& e : entries) {
    const double ms = e.seconds * 1e3 / n, calls = static_cast<double>(e.calls) / n;
    // Sections overlap the ops they enclose only when nested; the bench's do not nest.
    charged += ms;
    std::fprintf(stderr, "%-34s %-7s %10.3f %6.1f%% %8.2f\n", e.name.c_str(),
                 op_profile::phase_name(e.phase), ms, step_ms > 0 ? 100.0 * ms / step_ms : 0.0,
                 calls);
    rows.push_back({{"op", e.name},
                    {"phase", op_profile::phase_name(e.phase)},
                    {"ms_per_step", round3(ms)},
                    {"calls_per_step", std::round(calls * 100.0) / 100.0}});
  }
  const double rest = step_ms - charged;
  std::fprintf(stderr, "%-34s %-7s %10.3f %6.1f%%\n", "(unattributed)", "-", rest,
               step_ms > 0 ? 100.0 * rest / step_ms : 0.0);
  std::fprintf(stderr, "%-34s %-7s %10.3f\n", "(step, mean)", "-", step_ms);
  return rows;
}

}  // namespace ember::bench
