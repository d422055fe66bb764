// A process-wide per-op wall-clock profile of training steps, off by default.
//
// When on, the autograd graph feeds it: ag::record() charges the op's forward the wall time
// since the previous mark (mark() at step start, then every record()), so an op's forward
// includes any unrecorded glue before it (uploads, masks, reshapes); Var::backward charges each
// node's backward call to the node's name. Scope charges a named section (the optimizer, say).
// Totals and call counts accumulate per (name, phase) until reset(). Nested Scopes are each
// charged (their times overlap). Off, the graph pays one relaxed atomic load and a branch per
// op. Attribution assumes ops are recorded from one thread (the trainer's); the state is
// locked, so other threads are safe, but their times interleave.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace ember::op_profile {

enum class Phase { kForward, kBackward, kSection };
const char* phase_name(Phase p);  // "fwd", "bwd", "section"

struct Entry {
  std::string name;
  Phase phase;
  double seconds = 0;  // total wall time
  int64_t calls = 0;
};

namespace detail {
extern std::atomic<bool> g_enabled;
}

// Inline, so the off path in the graph is a load and a branch, with no call.
inline bool enabled() {
  return detail::g_enabled.load(std::memory_order_relaxed);
}

// Turns profiling on (and marks) or off. Totals are kept; reset() clears them.
void enable(bool on = true);
void reset();

// Starts a new forward interval: call at the start of each step, so the first op's forward
// does not include the time between steps. A no-op when off.
void mark();

// Called by the graph (only when enabled()).
void on_record(const char* name);                            // forward: time since the last mark
void add(const std::string& name, Phase p, double seconds);  // one call of `seconds`
double now_seconds();                                        // the profiler's clock (steady)

// Totals so far, largest first.
std::vector<Entry> snapshot();

// Charges its lifetime to section `name`. While a scope is open, ops record nothing of their
// own (their time is the section's), so no time is counted twice; at its end it marks, so the
// next op's forward does not include the section. A no-op when profiling is off at entry.
class Scope {
 public:
  explicit Scope(const char* name);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* name_;
  double start_ = -1;  // < 0: inactive
};

}  // namespace ember::op_profile
