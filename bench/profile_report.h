// The --profile report of bench_seed_step: op_profile's totals as a table on stderr (op, phase,
// ms per step, % of the step, calls per step, largest first, with the step time no op was
// charged as "(unattributed)") and as the JSON line's "profile" array.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/op_profile.h"

namespace ember::bench {

// entries: op_profile::snapshot() after `steps` profiled steps of mean wall time step_ms.
// Prints the table and returns [{op, phase, ms_per_step, calls_per_step}].
nlohmann::json profile_report(const std::vector<op_profile::Entry>& entries, int64_t steps,
                              double step_ms);

}  // namespace ember::bench
