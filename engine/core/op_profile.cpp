// op_profile.h: the totals live in one locked map keyed by (name, phase); the mark and the
// open-scope depth beside them. Only the enabled flag is touched when profiling is off.
#include "engine/core/op_profile.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <utility>

namespace ember::op_profile {

namespace detail {
std::atomic<bool> g_enabled{false};
}

namespace {

struct State {
  std::mutex mu;
  std::map<std::pair<std::string, Phase>, Entry> totals;
  double last_mark = 0;
  int scope_depth = 0;  // > 0: inside a Scope, ops are charged to it
};

State& state() {
  static State s;  // a function-local static: constructed on first use, whatever the TU order
  return s;
}

void add_locked(State& s, const std::string& name, Phase p, double seconds) {
  Entry& e = s.totals[{name, p}];
  if (e.calls == 0) {
    e.name = name;
    e.phase = p;
  }
  e.seconds += seconds;
  ++e.calls;
}

}  // namespace

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::kForward:
      return "fwd";
    case Phase::kBackward:
      return "bwd";
    case Phase::kSection:
      return "section";
  }
  return "?";
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void enable(bool on) {
  if (on) {  // the first op's forward starts now, not at some earlier mark
    State& s = state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.last_mark = now_seconds();
  }
  detail::g_enabled.store(on, std::memory_order_relaxed);
}

void reset() {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.totals.clear();
  s.scope_depth = 0;
  s.last_mark = now_seconds();
}

void mark() {
  if (!enabled()) return;  // callers mark every step, profiled or not
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.last_mark = now_seconds();
}

void on_record(const char* name) {
  const double now = now_seconds();
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.scope_depth == 0) add_locked(s, name, Phase::kForward, now - s.last_mark);
  s.last_mark = now;
}

void add(const std::string& name, Phase p, double seconds) {
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (p == Phase::kSection || s.scope_depth == 0) add_locked(s, name, p, seconds);
}

std::vector<Entry> snapshot() {
  State& s = state();
  std::vector<Entry> out;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (const auto& kv : s.totals) out.push_back(kv.second);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

Scope::Scope(const char* name) : name_(name) {
  if (!enabled()) return;
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  ++s.scope_depth;
  start_ = now_seconds();
}

Scope::~Scope() {
  if (start_ < 0) return;
  const double now = now_seconds();
  State& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  if (s.scope_depth > 0) --s.scope_depth;  // reset() inside a scope zeroes the depth
  // A section inside another is charged too: sections may nest (their times then overlap).
  add_locked(s, name_, Phase::kSection, now - start_);
  s.last_mark = now;
}

}  // namespace ember::op_profile
