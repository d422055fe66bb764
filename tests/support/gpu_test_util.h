// Helpers for the GPU parity tests: moving tensors between host and device, running the same
// check on float32 and float64 copies, and bitwise comparison of device results. Re-exports
// tests/support/test_util.h (tolerance table, compare, seeded fills, EMBER_EXPECT_CLOSE).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/graph.h"
#include "engine/core/tensor.h"
#include "tests/support/test_util.h"

namespace ember::test {

// True when the suite is built for the CUDA emulator (EMBER_CUDA_EMU), where every CUDA thread
// is a fiber on one CPU core. A test whose shape only serves scale there picks a smaller one
// and says so where it does; the awkward shapes (odd sizes, 1, padding, repeated ids) stay.
#ifdef EMBER_CUDA_EMU
constexpr bool kEmulated = true;
#else
constexpr bool kEmulated = false;
#endif

// Copy of a host tensor on CUDA device `device` (same shape and dtype). Synchronous.
Tensor to_device(const Tensor& host, int device = 0);
// Copy of a tensor (any device) in host memory. Waits for the context stream of the tensor's
// device first, so results queued there are complete.
Tensor to_host(const Tensor& dev);
// Host tensor `t` converted to dtype dt (float types; int tensors are returned as is), then
// copied to the device.
Tensor to_device_as(const Tensor& host, DType dt, int device = 0);
// Device or host tensor -> host float64 (for comparing a float32 GPU result with a float64 ref).
Tensor to_host_f64(const Tensor& t);
// True when both tensors (any devices) have the same shape, dtype and bytes.
bool bitwise_equal(const Tensor& a, const Tensor& b);
// Waits for all work queued on the context stream of `device`.
void sync_device(int device = 0);

// [B,T] int32 ids in [lo, hi) whose row b starts with pad + b % 3 padding ids 0 (pre-padding,
// as pad_sequences), so rows differ in length and a small range repeats ids.
Tensor pre_padded_ids(int64_t batch, int64_t steps, int32_t lo, int32_t hi, int64_t pad,
                      uint64_t seed);

// The mask_zero mask of host ids from the CPU reference and from the CUDA kernel (ids uploaded,
// the mask left on the device), for tests that compare the two bit for bit.
struct NonzeroMasks {
  Tensor cpu, gpu;
};
NonzeroMasks nonzero_masks(const Tensor& ids);

// The float32 GPU tolerance: the float32 row of the tolerance table scaled by `scale`. GPU
// float32 results differ from a float64 reference by accumulated rounding (sums of length K
// give errors around K * 2^-24), so tests state the scale they use and why.
Tolerance gpu_f32_tol(double scale);
// Tight float64 tolerance for GPU-vs-CPU float64 comparisons: the float64 row of the table.
Tolerance gpu_f64_tol();

// ---- a generic forward/backward parity harness over autograd ops ----
// f builds the op's output from leaf Vars on device `dev` (non-Var inputs such as ids, labels
// or masks are captured by f, which may place them by `dev`).
using DeviceFn = std::function<ag::Var(const std::vector<ag::Var>& leaves, Device dev)>;

// Host copies of one run: the output and, per input, its gradient (zeros when requires_grad
// is false or no gradient arrived).
struct OpRun {
  Tensor out;
  std::vector<Tensor> grads;
};
// Leaves = inputs (host, float) converted to dt and placed on dev; out = f(leaves);
// out.backward(seed converted to dt on dev).
OpRun run_op(const DeviceFn& f, const std::vector<Tensor>& inputs,
             const std::vector<bool>& requires_grad, DType dt, Device dev, const Tensor& seed);

// The GPU parity check every op goes through: inputs are rounded to float32 first (so every
// run sees the same values), the reference runs on the CPU in float64, and the op runs on
// CUDA device 0 in float32 (compared with tol32) and float64 (compared with tol64). The
// backward is seeded with random weights (seed `seed`). Each GPU run is done twice and must
// repeat bit for bit. Returns "" when all is well, else a report naming what differed.
std::string check_parity(const DeviceFn& f, const std::vector<Tensor>& inputs,
                         const std::vector<bool>& requires_grad, Tolerance tol32,
                         Tolerance tol64 = gpu_f64_tol(), uint64_t seed = 99);

// The worst differences the last check_parity call saw, per GPU dtype (float32, float64):
// max_abs = max |gpu - cpu| over the output and every checked gradient; max_rel = the largest
// of each tensor's max |gpu - cpu| / max |cpu|.
struct ParityStats {
  double max_abs[2] = {0, 0}, max_rel[2] = {0, 0};
};
ParityStats last_parity_stats();
// Prints "parity <name> [float32]: max_abs=... max_rel=..." and the float64 line, which
// scripts/gpu_check.sh gathers into the worst error per op.
void print_parity(const std::string& name, const ParityStats& s);

// Catch2 wrapper around check_parity; prints the errors under the test case's name.
#define EMBER_CHECK_PARITY(...)                                                 \
  do {                                                                          \
    std::string ember_par_ = ::ember::test::check_parity(__VA_ARGS__);          \
    ::ember::test::print_parity(Catch::getResultCapture().getCurrentTestName(), \
                                ::ember::test::last_parity_stats());            \
    INFO(ember_par_);                                                           \
    CHECK(ember_par_.empty());                                                  \
  } while (0)

}  // namespace ember::test
