// op_profile through the autograd graph with tiny test-local ops: each forward and backward is
// charged to its record() name and phase, a Scope's ops go to the section, and a disabled
// profiler records nothing. Counts only: wall times vary with the machine, so no thresholds.
#include <catch2/catch.hpp>

#include <string>

#include "engine/core/graph.h"
#include "engine/core/op_profile.h"
#include "tests/support/test_util.h"

using namespace ember;
using ag::Var;
using ember::test::scale;
using op_profile::Phase;

namespace {

Var add(const Var& a, const Var& b) {
  Tensor out = a.value().clone();
  for (int64_t i = 0; i < out.numel(); ++i) out.at<double>(i) += b.value().item(i);
  return ag::record1("add", {a, b}, out, [](const auto& d_out, ag::GradInputs& d_in) {
    for (size_t k = 0; k < 2; ++k)
      if (Tensor* d = d_in.get(k))
        for (int64_t i = 0; i < d->numel(); ++i) d->at<double>(i) += d_out[0]->item(i);
  });
}

// Calls of (name, phase) in the profile so far; 0 when absent.
int64_t calls(const std::string& name, Phase p) {
  for (const op_profile::Entry& e : op_profile::snapshot())
    if (e.name == name && e.phase == p) return e.calls;
  return 0;
}

// The profiler is process-wide: leave it off and empty whatever the case does.
struct ProfileOff {
  ProfileOff() {
    op_profile::enable(false);
    op_profile::reset();
  }
  ~ProfileOff() {
    op_profile::enable(false);
    op_profile::reset();
  }
};
}  // namespace

TEST_CASE("op_profile charges forward and backward to each op's name", "[op_profile][cpu]") {
  ProfileOff off;
  op_profile::enable();
  for (int step = 0; step < 3; ++step) {
    op_profile::mark();
    Var x(Tensor::from<double>({}, {2.0}), true);
    Var y = add(scale(x, 3.0), scale(x, 5.0));
    y.backward();
    CHECK(x.grad().item() == 8.0);  // profiling changes no result
  }
  CHECK(calls("scale", Phase::kForward) == 6);
  CHECK(calls("add", Phase::kForward) == 3);
  CHECK(calls("scale", Phase::kBackward) == 6);
  CHECK(calls("add", Phase::kBackward) == 3);
  CHECK(calls("scale", Phase::kSection) == 0);
  CHECK(op_profile::snapshot().size() == 4);
  for (const op_profile::Entry& e : op_profile::snapshot()) CHECK(e.seconds >= 0);
  // Largest first.
  const auto all = op_profile::snapshot();
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].seconds >= all[i].seconds);

  op_profile::reset();
  CHECK(op_profile::snapshot().empty());
}

TEST_CASE("op_profile charges a Scope's ops to the section", "[op_profile][cpu]") {
  ProfileOff off;
  op_profile::enable();
  Var x(Tensor::from<double>({}, {2.0}), true);
  Var y = scale(x, 3.0);
  {
    op_profile::Scope s("optimizer");
    Var z = scale(y, 2.0);  // inside the section: not a "scale" of its own
    z.backward();
  }
  { op_profile::Scope s("optimizer"); }
  CHECK(calls("optimizer", Phase::kSection) == 2);
  CHECK(calls("scale", Phase::kForward) == 1);
  CHECK(calls("scale", Phase::kBackward) == 0);
  CHECK(op_profile::phase_name(Phase::kForward) == std::string("fwd"));
  CHECK(op_profile::phase_name(Phase::kBackward) == std::string("bwd"));
}

TEST_CASE("a disabled op_profile records nothing", "[op_profile][cpu]") {
  ProfileOff off;
  CHECK_FALSE(op_profile::enabled());
  op_profile::mark();
  Var x(Tensor::from<double>({}, {2.0}), true);
  Var y = add(scale(x, 3.0), scale(x, 5.0));
  {
    op_profile::Scope s("optimizer");
    y.backward();
  }
  CHECK(x.grad().item() == 8.0);
  CHECK(op_profile::snapshot().empty());
  // A scope opened while off stays inert when profiling starts inside it.
  {
    op_profile::Scope s("late");
    op_profile::enable();
  }
  CHECK(calls("late", Phase::kSection) == 0);
}
