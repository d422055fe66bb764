// Keras initializers over InitRng (Philox). Values are computed in double and rounded once to
// the tensor's dtype, so a float32 and a float64 model built from one seed agree to rounding.
// Fans follow Keras's _compute_fans: 1-D [n] -> fan_in = fan_out = n; 2-D [in, out]; 3-/4-D
// [..., in, out] scale both by the product of the leading (receptive field) dims.
// Orthogonal is Keras's recipe: Householder QR of a normal [max(r,c), min(r,c)] matrix, Q's
// columns times sign(diag R) (making the factorization unique), transposed when rows < cols.
#include "engine/core/initializers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/rng.h"

namespace ember {

namespace {

constexpr double kPi = 3.14159265358979323846;

// splitmix64 finalizer: a bijective 64-bit mixer.
uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Philox stream ids for initialization are hashed with a domain tag so they do not coincide
// with the small dropout_offset() ids that training draws from the same seed.
constexpr uint64_t kInitDomain = 0x1A17'5EED'0000'0001ull;

}  // namespace

double InitRng::uniform() {
  // 53 random bits from two consecutive 32-bit draws: exact doubles in [0, 1).
  const uint64_t offset = mix64(stream_ ^ kInitDomain);
  const uint64_t a = philox_bits(seed_, offset, i_) >> 5;      // 27 bits
  const uint64_t b = philox_bits(seed_, offset, i_ + 1) >> 6;  // 26 bits
  i_ += 2;
  return static_cast<double>((a << 26) | b) * (1.0 / 9007199254740992.0);  // 2^-53
}

double InitRng::normal() {
  // Box-Muller, one normal per pair of uniforms (no cached second value, so the k-th normal
  // depends only on its own draws). 1 - u lies in (0, 1], keeping the log finite.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
}

InitRng InitRng::fork(uint64_t sub) const {
  // A hash of (parent stream, sub): distinct subs give distinct children (mix64 is a
  // bijection of sub for a fixed parent), and the child differs from the parent except with
  // probability 2^-64.
  return InitRng(seed_, mix64(mix64(stream_) ^ mix64(sub ^ 0xF0'4Cull)));
}

namespace {

const char* const kKnown[] = {"glorot_uniform", "glorot_normal", "orthogonal", "uniform",
                              "random_uniform", "zeros",         "ones"};

std::string known_list() {
  std::string s;
  for (const char* k : kKnown) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

struct Fans {
  double in, out;
};

Fans compute_fans(const Shape& s) {
  if (s.ndim() == 0) return {1.0, 1.0};
  if (s.ndim() == 1) return {double(s[0]), double(s[0])};
  double receptive = 1.0;
  for (int d = 0; d < s.ndim() - 2; ++d) receptive *= double(s[d]);
  return {double(s[-2]) * receptive, double(s[-1]) * receptive};
}

// Householder QR of a [m, n] row-major matrix (m >= n). Returns the thin Q [m, n] with its
// columns multiplied by sign(diag R) (a zero diagonal counts as +1).
std::vector<double> orthonormal_columns(std::vector<double> a, int64_t m, int64_t n) {
  std::vector<std::vector<double>> vs;  // Householder vectors, v_k lives on rows k..m-1
  std::vector<double> rdiag(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    double norm2 = 0.0;
    for (int64_t i = k; i < m; ++i) norm2 += a[i * n + k] * a[i * n + k];
    const double norm = std::sqrt(norm2);
    const double x0 = a[k * n + k];
    // alpha has the sign opposite to x0 to avoid cancellation in v = x - alpha e1.
    const double alpha = x0 >= 0.0 ? -norm : norm;
    std::vector<double> v(static_cast<size_t>(m - k));
    for (int64_t i = k; i < m; ++i) v[i - k] = a[i * n + k];
    v[0] -= alpha;
    double vnorm2 = 0.0;
    for (double x : v) vnorm2 += x * x;
    if (vnorm2 > 0.0) {
      // A <- (I - 2 v v^T / v^T v) A on the trailing block.
      for (int64_t j = k; j < n; ++j) {
        double dot = 0.0;
        for (int64_t i = k; i < m; ++i) dot += v[i - k] * a[i * n + j];
        const double f = 2.0 * dot / vnorm2;
        for (int64_t i = k; i < m; ++i) a[i * n + j] -= f * v[i - k];
      }
    }
    rdiag[k] = a[k * n + k];
    vs.push_back(vnorm2 > 0.0 ? std::move(v) : std::vector<double>());
  }
  // Q = H_0 H_1 ... H_{n-1} [I_n; 0]: apply the reflections in reverse to the identity block.
  std::vector<double> q(static_cast<size_t>(m * n), 0.0);
  for (int64_t j = 0; j < n; ++j) q[j * n + j] = 1.0;
  for (int64_t k = n - 1; k >= 0; --k) {
    const std::vector<double>& v = vs[k];
    if (v.empty()) continue;
    double vnorm2 = 0.0;
    for (double x : v) vnorm2 += x * x;
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0.0;
      for (int64_t i = k; i < m; ++i) dot += v[i - k] * q[i * n + j];
      const double f = 2.0 * dot / vnorm2;
      for (int64_t i = k; i < m; ++i) q[i * n + j] -= f * v[i - k];
    }
  }
  for (int64_t j = 0; j < n; ++j) {
    if (rdiag[j] < 0.0) {
      for (int64_t i = 0; i < m; ++i) q[i * n + j] = -q[i * n + j];
    }
  }
  return q;
}

std::vector<double> orthogonal_values(const Shape& s, InitRng& rng) {
  EMBER_CHECK_ARG(s.ndim() >= 2,
                  "orthogonal initializer needs at least 2 dims, got shape " << s.str());
  int64_t rows = 1;
  for (int d = 0; d < s.ndim() - 1; ++d) rows *= s[d];
  const int64_t cols = s[-1];
  const int64_t big = std::max(rows, cols), small = std::min(rows, cols);
  std::vector<double> a(static_cast<size_t>(big * small));
  for (double& x : a) x = rng.normal();
  std::vector<double> q = orthonormal_columns(std::move(a), big, small);  // [big, small]
  if (rows >= cols) return q;                                             // already [rows, cols]
  std::vector<double> qt(q.size());  // [small, big] = [rows, cols]
  for (int64_t i = 0; i < big; ++i)
    for (int64_t j = 0; j < small; ++j) qt[j * big + i] = q[i * small + j];
  return qt;
}

std::vector<double> init_values(const Shape& s, const std::string& name, InitRng& rng) {
  const int64_t n = s.numel();
  std::vector<double> out(static_cast<size_t>(n), 0.0);
  if (name == "zeros") return out;
  if (name == "ones") {
    std::fill(out.begin(), out.end(), 1.0);
    return out;
  }
  if (name == "uniform" || name == "random_uniform") {
    for (double& x : out) x = -0.05 + 0.1 * rng.uniform();
    return out;
  }
  if (name == "glorot_uniform") {
    const Fans f = compute_fans(s);
    const double limit = std::sqrt(6.0 / (f.in + f.out));
    for (double& x : out) x = limit * (2.0 * rng.uniform() - 1.0);
    return out;
  }
  if (name == "glorot_normal") {
    // Keras: truncated normal (resampled beyond 2 stddev) with the stddev corrected by the
    // truncated distribution's std, 0.87962566103423978.
    const Fans f = compute_fans(s);
    const double stddev = std::sqrt(2.0 / (f.in + f.out)) / 0.87962566103423978;
    for (double& x : out) {
      double z;
      do z = rng.normal();
      while (std::fabs(z) > 2.0);
      x = stddev * z;
    }
    return out;
  }
  if (name == "orthogonal") return orthogonal_values(s, rng);
  EMBER_CHECK_ARG(false, "unknown initializer '" << name << "'; known: " << known_list());
  return out;
}

}  // namespace

bool is_known_initializer(const std::string& name) {
  for (const char* k : kKnown)
    if (name == k) return true;
  return false;
}

void initialize(Tensor& t, const std::string& name, InitRng& rng) {
  EMBER_CHECK_ARG(t.defined(), "initialize('" << name << "') on an undefined tensor");
  EMBER_CHECK_ARG(t.device().is_cpu(), "initialize('" << name << "'): tensor " << t.str()
                                                      << " must be on the CPU; copy after");
  EMBER_CHECK_ARG(is_known_initializer(name),
                  "unknown initializer '" << name << "'; known: " << known_list());
  const std::vector<double> v = init_values(t.shape(), name, rng);
  dispatch_float(t.dtype(), "initialize", [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
  });
}

}  // namespace ember
