// Shared test helpers: the tolerance table (one row per dtype), expect_close with a report of
// the worst element, seeded random fills, the float64 central-difference gradcheck every
// op goes through, and the table check of config error messages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/graph.h"

namespace ember::test {

// One table of tolerances, per dtype; never reuse one dtype's numbers for another.
struct Tolerance {
  double atol, rtol;
};
Tolerance tolerance(DType dt);  // float32: 1e-5/1e-5 (parity); float64: 1e-12/1e-10
// Gradcheck (float64 only): central differences with step kGradcheckEps.
constexpr double kGradcheckEps = 1e-6;
constexpr Tolerance kGradcheckTol{1e-7, 1e-5};

// |got - ref| <= atol + rtol*|ref| everywhere; on failure the message names the worst index,
// its values and errors, and the first few mismatches. Returns "" when close.
std::string compare(const Tensor& got, const Tensor& ref, Tolerance tol);
// Catch2 assertion wrapper: REQUIRE(compare(...) == "") reads poorly, so use this macro.
#define EMBER_EXPECT_CLOSE(got, ref, tol)                                 \
  do {                                                                    \
    std::string ember_cmp_ = ::ember::test::compare((got), (ref), (tol)); \
    INFO(ember_cmp_);                                                     \
    CHECK(ember_cmp_.empty());                                            \
  } while (0)

// True when the two host tensors have the same shape, dtype and bytes: for results that must be
// reproduced exactly, not within a tolerance. (The GPU tests' bitwise_equal, gpu_test_util.h,
// also takes device tensors.)
bool same_bytes(const Tensor& a, const Tensor& b);

// Seeded fills (Philox), reproducible across machines.
Tensor random_uniform(const Shape& s, DType dt, double lo, double hi, uint64_t seed);
Tensor random_ints(const Shape& s, int32_t lo, int32_t hi_exclusive, uint64_t seed);

// The message of the ConfigError parse_config throws for `yaml` (named `file` in messages),
// or "" when it parses.
std::string config_error_of(const std::string& yaml, const std::string& file = "configs/x.yaml");

// One config mistake: the YAML and the exact ConfigError message it must give.
struct ConfigErrorCase {
  std::string yaml;
  std::string error;
};
// CHECKs config_error_of(yaml) == error for every case. The yaml goes into the failure's INFO,
// so a failing row names itself, and a failing row does not stop the rows after it.
void check_config_errors(const std::vector<ConfigErrorCase>& cases);

// A fresh directory under the system temp dir, removed with everything in it on destruction.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name);  // "<tmp>/ember_<name>_<pid>", emptied first
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  void write(const std::string& file, const std::string& text) const;  // parents created
  std::string str() const { return path.string(); }
};

// y = a * x (scalar a, elementwise) as a graph op named "scale", float64 only: the graph and
// profiler tests' small op with a known gradient.
ag::Var scale(const ag::Var& x, double a);

// sum(x * w) as a graph op: turns any output into a scalar with a non-trivial gradient.
ag::Var weighted_sum(const ag::Var& x, const Tensor& w);

// Central-difference check of d f / d inputs. f builds a scalar Var from leaf Vars made of
// `inputs` (float64; only those with requires_grad[i] true are checked). Returns "" when all
// gradients match within tol, else a report naming input, index, analytic and numeric values.
using ScalarFn = std::function<ag::Var(const std::vector<ag::Var>&)>;
std::string gradcheck(const ScalarFn& f, const std::vector<Tensor>& inputs,
                      const std::vector<bool>& requires_grad, double eps = kGradcheckEps,
                      Tolerance tol = kGradcheckTol);

}  // namespace ember::test
