// Keras initializers: bounds and moments of the random ones, orthogonality of "orthogonal"
// (rows orthonormal for wide matrices, columns for tall ones, both for square), determinism
// for a seed, independence of forked streams, and the error for an unknown name.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>

#include "engine/core/initializers.h"

using namespace ember;

namespace {

struct Moments {
  double mean, var, min, max;
};

Moments moments(const Tensor& t) {
  double s = 0, s2 = 0, lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double x = t.item(i);
    s += x;
    s2 += x * x;
    lo = std::fmin(lo, x);
    hi = std::fmax(hi, x);
  }
  const double n = static_cast<double>(t.numel());
  return {s / n, s2 / n - (s / n) * (s / n), lo, hi};
}

// max |(A A^T)_ij - I_ij| for A [r, c] when rows_orthonormal, else of A^T A.
double orthonormality_error(const Tensor& a, bool rows_orthonormal) {
  const int64_t r = a.size(0), c = a.size(1);
  const int64_t n = rows_orthonormal ? r : c, len = rows_orthonormal ? c : r;
  auto at = [&](int64_t vec, int64_t k) {
    return rows_orthonormal ? a.item(vec * c + k) : a.item(k * c + vec);
  };
  double worst = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0;
      for (int64_t k = 0; k < len; ++k) dot += at(i, k) * at(j, k);
      worst = std::fmax(worst, std::fabs(dot - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

}  // namespace

TEST_CASE("InitRng: uniform in [0,1), normal has unit moments", "[init][cpu]") {
  InitRng rng(42, 3);
  double s = 0, s2 = 0, lo = 1, hi = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    lo = std::fmin(lo, u);
    hi = std::fmax(hi, u);
    s += u;
    s2 += u * u;
  }
  CHECK(s / n == Approx(0.5).margin(0.005));
  CHECK(s2 / n - (s / n) * (s / n) == Approx(1.0 / 12).margin(0.002));
  CHECK(lo >= 0.0);
  CHECK(hi < 1.0);
  CHECK(lo < 1e-4);
  CHECK(hi > 1 - 1e-4);
  s = s2 = 0;
  double s4 = 0;
  bool finite = true;
  for (int i = 0; i < n; ++i) {
    const double z = rng.normal();
    finite = finite && std::isfinite(z);
    s += z;
    s2 += z * z;
    s4 += z * z * z * z;
  }
  CHECK(finite);
  CHECK(s / n == Approx(0.0).margin(0.01));
  CHECK(s2 / n == Approx(1.0).margin(0.02));
  CHECK(s4 / n == Approx(3.0).margin(0.1));  // Gaussian kurtosis, not just any unit variance
}

TEST_CASE("InitRng: same seed and stream repeat; streams, seeds and forks differ", "[init][cpu]") {
  auto first = [](InitRng r) {
    std::vector<double> v;
    for (int i = 0; i < 8; ++i) v.push_back(r.uniform());
    return v;
  };
  const InitRng base(7, 1);
  CHECK(first(base) == first(InitRng(7, 1)));
  CHECK(first(base.fork(5)) == first(InitRng(7, 1).fork(5)));
  std::set<std::vector<double>> seen;
  seen.insert(first(base));
  seen.insert(first(InitRng(8, 1)));
  seen.insert(first(InitRng(7, 2)));
  for (uint64_t sub = 0; sub < 16; ++sub) seen.insert(first(base.fork(sub)));
  seen.insert(first(base.fork(0).fork(0)));
  seen.insert(first(InitRng(7, 2).fork(0)));
  CHECK(seen.size() == 3 + 16 + 2);
}

TEST_CASE("initialize: glorot_uniform bounds and variance (2-D and 1-D fans)", "[init][cpu]") {
  InitRng rng(1337, 0);
  Tensor w = Tensor::empty({300, 500}, DType::kFloat32);
  initialize(w, "glorot_uniform", rng);
  const double limit = std::sqrt(6.0 / 800.0);
  Moments m = moments(w);
  CHECK(m.min >= -limit);
  CHECK(m.max <= limit);
  CHECK(m.max > 0.99 * limit);
  CHECK(m.min < -0.99 * limit);
  CHECK(m.mean == Approx(0.0).margin(0.002));
  CHECK(m.var == Approx(limit * limit / 3).epsilon(0.02));

  Tensor b = Tensor::empty({2000}, DType::kFloat64);
  initialize(b, "glorot_uniform", rng);
  const double limit1 = std::sqrt(6.0 / 4000.0);  // Keras: fan_in = fan_out = n
  m = moments(b);
  CHECK(m.min >= -limit1);
  CHECK(m.max <= limit1);
  CHECK(m.max > 0.95 * limit1);
}

TEST_CASE("initialize: glorot_normal is truncated at two stddevs", "[init][cpu]") {
  InitRng rng(3, 0);
  Tensor w = Tensor::empty({200, 300}, DType::kFloat64);
  initialize(w, "glorot_normal", rng);
  const double stddev = std::sqrt(2.0 / 500.0) / 0.87962566103423978;
  Moments m = moments(w);
  CHECK(m.max <= 2 * stddev);
  CHECK(m.min >= -2 * stddev);
  // The correction factor makes the truncated variance equal 2/(fan_in+fan_out).
  CHECK(m.var == Approx(2.0 / 500.0).epsilon(0.03));
}

TEST_CASE("initialize: uniform, zeros, ones", "[init][cpu]") {
  InitRng rng(9, 0);
  for (const char* name : {"uniform", "random_uniform"}) {
    Tensor e = Tensor::empty({100, 64}, DType::kFloat32);
    initialize(e, name, rng);
    Moments m = moments(e);
    CHECK(m.min >= -0.05);
    CHECK(m.max <= 0.05);
    CHECK(m.max > 0.049);
    CHECK(m.mean == Approx(0.0).margin(0.002));
    CHECK(m.var == Approx(0.01 / 12).epsilon(0.05));
  }
  Tensor z = Tensor::full({3, 4}, DType::kFloat64, 5.0);
  initialize(z, "zeros", rng);
  Tensor o = Tensor::empty({7}, DType::kFloat32);
  initialize(o, "ones", rng);
  for (int64_t i = 0; i < z.numel(); ++i) CHECK(z.item(i) == 0.0);
  for (int64_t i = 0; i < o.numel(); ++i) CHECK(o.item(i) == 1.0);
}

TEST_CASE("initialize: orthogonal gives orthonormal rows or columns", "[init][cpu]") {
  InitRng rng(2024, 4);
  SECTION("wide [100, 400]: W W^T = I (the LSTM recurrent kernel shape [H, 4H])") {
    Tensor w = Tensor::empty({100, 400}, DType::kFloat64);
    initialize(w, "orthogonal", rng);
    CHECK(orthonormality_error(w, true) < 1e-12);
  }
  SECTION("tall [50, 20]: W^T W = I") {
    Tensor w = Tensor::empty({50, 20}, DType::kFloat64);
    initialize(w, "orthogonal", rng);
    CHECK(orthonormality_error(w, false) < 1e-12);
  }
  SECTION("square [64, 64], float32: both") {
    Tensor w = Tensor::empty({64, 64}, DType::kFloat32);
    initialize(w, "orthogonal", rng);
    CHECK(orthonormality_error(w, true) < 1e-5);
    CHECK(orthonormality_error(w, false) < 1e-5);
  }
  SECTION("not the identity or a permutation: entries spread out") {
    Tensor w = Tensor::empty({32, 32}, DType::kFloat64);
    initialize(w, "orthogonal", rng);
    Moments m = moments(w);
    CHECK(m.var == Approx(1.0 / 32).epsilon(0.15));  // orthogonal rows of a random rotation
    CHECK(m.max < 0.9);
  }
  SECTION("1-D is rejected") {
    Tensor b = Tensor::empty({10}, DType::kFloat32);
    CHECK_THROWS_AS(initialize(b, "orthogonal", rng), std::invalid_argument);
  }
}

TEST_CASE("initialize: a seed fixes the values; dtype only rounds", "[init][cpu]") {
  for (const char* name : {"glorot_uniform", "orthogonal", "uniform", "glorot_normal"}) {
    InitRng r1(11, 2), r2(11, 2), r3(12, 2);
    Tensor a = Tensor::empty({16, 24}, DType::kFloat64);
    Tensor b = Tensor::empty({16, 24}, DType::kFloat64);
    Tensor c = Tensor::empty({16, 24}, DType::kFloat64);
    Tensor f = Tensor::empty({16, 24}, DType::kFloat32);
    initialize(a, name, r1);
    initialize(b, name, r2);
    initialize(c, name, r3);
    InitRng r4(11, 2);
    initialize(f, name, r4);
    INFO(name);
    bool same = true, differs = false, rounds = true;
    for (int64_t i = 0; i < a.numel(); ++i) {
      same = same && a.item(i) == b.item(i);
      differs = differs || a.item(i) != c.item(i);
      rounds = rounds && f.item(i) == static_cast<double>(static_cast<float>(a.item(i)));
    }
    CHECK(same);
    CHECK(differs);
    CHECK(rounds);
  }
}

TEST_CASE("initialize: unknown names throw listing the known ones", "[init][cpu]") {
  CHECK(is_known_initializer("orthogonal"));
  CHECK(is_known_initializer("glorot_uniform"));
  CHECK_FALSE(is_known_initializer("he_uniform"));
  InitRng rng(1, 1);
  Tensor w = Tensor::empty({2, 2}, DType::kFloat32);
  CHECK_THROWS_WITH(initialize(w, "he_uniform", rng),
                    Catch::Contains("he_uniform") && Catch::Contains("glorot_uniform") &&
                        Catch::Contains("orthogonal") && Catch::Contains("zeros"));
  Tensor ids = Tensor::empty({2, 2}, DType::kInt32);
  CHECK_THROWS_AS(initialize(ids, "zeros", rng), std::invalid_argument);
}
