// The CPU's roofs for the training step: OpenBLAS SGEMM GFLOP/s (a large square and the
// reference LSTM's gemm shapes, kernels/lstm/lstm_ref.cpp) and memory bandwidth (copy and
// triad a[i] = b[i] + s*c[i] over arrays far larger than the caches), at each thread count.
// OpenBLAS is called directly (cblas_sgemm, openblas_set_num_threads) so the roof is the
// library's own, whatever engine/core/blas does around it. Each result is the best of --reps
// repetitions; a repetition repeats a small gemm until it lasts ~--min-ms, so the timer's
// resolution and the call overhead stay small. Bytes: copy counts 2 arrays, triad 3 (STREAM's
// convention: write-allocate traffic is not counted). Table on stderr, JSON lines on stdout.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_common.h"

using json = nlohmann::json;

namespace {

struct Shape {
  std::string name;
  int m, n, k;
  bool ta, tb;  // op(A) = A^T: A stored [K,M]; op(B) = B^T: B stored [N,K]
};

struct Args {
  std::vector<int> threads{1, 2};
  int reps = 5, square = 2048, mib = 256;
  double min_ms = 20;
  std::vector<Shape> shapes;  // empty: the built-in LSTM shapes
  bool gemm = true, mem = true;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "cpu_roofline: %s\nusage: cpu_roofline [--threads 1,2] [--reps 5] [--square 2048 "
               "(0: none)] [--shape NAME:M,N,K[,TA,TB]]... [--min-ms 20] [--mib 256] "
               "[--no-gemm] [--no-mem]\n",
               why);
  std::exit(2);
}

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::atoi(item.c_str()));
  return out;
}

Shape parse_shape(const std::string& s) {
  const auto colon = s.find(':');
  if (colon == std::string::npos) usage(("--shape needs NAME:M,N,K, got " + s).c_str());
  std::vector<int> v = parse_ints(s.substr(colon + 1));
  if (v.size() != 3 && v.size() != 5) usage(("--shape needs 3 or 5 numbers: " + s).c_str());
  if (v[0] < 1 || v[1] < 1 || v[2] < 1) usage(("--shape sizes must be >= 1: " + s).c_str());
  return {s.substr(0, colon), v[0], v[1], v[2], v.size() == 5 && v[3], v.size() == 5 && v[4]};
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + k).c_str());
      return argv[++i];
    };
    if (k == "--threads")
      a.threads = parse_ints(val());
    else if (k == "--reps")
      a.reps = std::atoi(val().c_str());
    else if (k == "--square")
      a.square = std::atoi(val().c_str());
    else if (k == "--shape")
      a.shapes.push_back(parse_shape(val()));
    else if (k == "--min-ms")
      a.min_ms = std::atof(val().c_str());
    else if (k == "--mib")
      a.mib = std::atoi(val().c_str());
    else if (k == "--no-gemm")
      a.gemm = false;
    else if (k == "--no-mem")
      a.mem = false;
    else
      usage(("unknown argument " + k).c_str());
  }
  if (a.reps < 1 || a.mib < 1 || a.square < 0) usage("--reps, --mib >= 1 and --square >= 0");
  for (int t : a.threads)
    if (t < 1) usage("--threads: each count must be >= 1");
  return a;
}

// The reference LSTM's gemms for one direction of one layer (kernels/lstm/lstm_ref.cpp),
// G = 4H: the input projection, the per-step recurrent product and its backward, and the
// weight and input gradients over all B*T rows.
void add_lstm_shapes(std::vector<Shape>& out, const std::string& tag, int b, int t, int c, int h) {
  const int g = 4 * h, rows = b * t;
  out.push_back({tag + " fwd x*W", rows, g, c, false, false});
  out.push_back({tag + " fwd h*R/step", b, g, h, false, false});
  out.push_back({tag + " bwd dh=dg*R^T/step", b, h, g, false, true});
  out.push_back({tag + " bwd dR=h^T*dg", h, g, rows, true, false});
  out.push_back({tag + " bwd dW=x^T*dg", c, g, rows, true, false});
  out.push_back({tag + " bwd dx=dg*W^T", rows, c, g, false, true});
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether /proc/cpuinfo lists `flag` (avx2, avx512f) for the first CPU.
bool cpu_flag(const std::string& flag) {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("flags", 0) == 0)
      return (line + " ").find(" " + flag + " ") != std::string::npos;
  return false;
}

json base_line() {
  static const json base = {{"bench", "cpu_roofline"},
                            {"cpu", ember::bench::cpu_model()},
                            {"avx2", cpu_flag("avx2")},
                            {"avx512f", cpu_flag("avx512f")},
                            {"openblas_core", openblas_get_corename()},
                            {"openblas_config", openblas_get_config()},
                            {"commit", ember::bench::git_commit()}};
  return base;
}

// Best seconds per call of C = op(A) op(B) for s at `threads` OpenBLAS threads; checks a few
// entries of C against a double-precision dot product first, and exits on a mismatch.
double time_gemm(const Shape& s, int threads, const Args& args) {
  openblas_set_num_threads(threads);
  const int64_t m = s.m, n = s.n, k = s.k;
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>((i * 7 + 3) % 17) / 17 - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>((i * 5 + 1) % 13) / 13 - 0.5f;
  const int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
  auto run = [&] {
    cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans,
                s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), s.n);
  };
  run();
  for (int64_t probe = 0; probe < 4; ++probe) {
    const int64_t i = (probe * 977) % m, j = (probe * 331) % n;
    double want = 0;
    for (int64_t p = 0; p < k; ++p)
      want += static_cast<double>(s.ta ? a[p * m + i] : a[i * k + p]) *
              static_cast<double>(s.tb ? b[j * k + p] : b[p * n + j]);
    if (std::fabs(c[i * n + j] - want) > 1e-3 * (1 + std::fabs(want)) + 1e-5 * k) {
      std::fprintf(stderr, "cpu_roofline: sgemm %s wrong at (%lld,%lld): %g, want %g\n",
                   s.name.c_str(), static_cast<long long>(i), static_cast<long long>(j),
                   c[i * n + j], want);
      std::exit(1);
    }
  }
  const double t0 = now_ms();  // calls per repetition, so each lasts about min_ms
  run();
  const double one = std::max(now_ms() - t0, 1e-3);
  const int inner = std::max(1, static_cast<int>(args.min_ms / one));
  double best = 1e300;
  for (int r = 0; r < args.reps; ++r) {
    const double start = now_ms();
    for (int i = 0; i < inner; ++i) run();
    best = std::min(best, (now_ms() - start) / inner);
  }
  return best / 1e3;
}

// Runs body(begin, end) over [0, n) split across `threads` std::threads; returns seconds.
template <class Body>
double parallel_seconds(size_t n, int threads, const Body& body) {
  std::vector<std::thread> pool;
  const double t0 = now_ms();
  for (int t = 0; t < threads; ++t) pool.emplace_back(body, n * t / threads, n * (t + 1) / threads);
  for (std::thread& th : pool) th.join();
  return (now_ms() - t0) / 1e3;
}

void bench_memory(const Args& args) {
  const size_t n = static_cast<size_t>(args.mib) * (1 << 20) / sizeof(float);
  std::vector<float> a(n), b(n), c(n);  // zeroed here; each kernel then writes all of a
  std::fill(b.begin(), b.end(), 1.0f);
  std::fill(c.begin(), c.end(), 2.0f);
  float* __restrict pa = a.data();
  const float* __restrict pb = b.data();
  const float* __restrict pc = c.data();
  const float scalar = 3.0f;
  auto copy = [&](size_t lo, size_t hi) { std::memcpy(pa + lo, pb + lo, (hi - lo) * 4); };
  auto triad = [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) pa[i] = pb[i] + scalar * pc[i];
  };
  for (int threads : args.threads) {
    for (int kind = 0; kind < 2; ++kind) {
      double best = 1e300;
      for (int r = 0; r < args.reps + 1; ++r) {  // the first is a warm-up (page faults)
        const double s =
            kind == 0 ? parallel_seconds(n, threads, copy) : parallel_seconds(n, threads, triad);
        if (r > 0) best = std::min(best, s);
      }
      if (a[n / 2] != (kind == 0 ? 1.0f : 7.0f)) {
        std::fprintf(stderr, "cpu_roofline: %s wrote %g\n", kind ? "triad" : "copy", a[n / 2]);
        std::exit(1);
      }
      const double bytes = static_cast<double>(n) * 4 * (kind == 0 ? 2 : 3);
      const double gbs = bytes / best / 1e9;
      const char* name = kind == 0 ? "copy" : "triad";
      std::fprintf(stderr, "%-7s %-44s %7d %10.3f %10.2f GB/s\n", "memory", name, threads,
                   best * 1e3, gbs);
      json line = base_line();
      line.update({{"kind", name},
                   {"mib_per_array", args.mib},
                   {"threads", threads},
                   {"best_ms", std::round(best * 1e6) / 1e3},
                   {"gb_per_s", std::round(gbs * 100) / 100},
                   {"reps", args.reps}});
      std::printf("%s\n", line.dump().c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  if (args.shapes.empty()) {
    if (args.square > 0)
      args.shapes.push_back({"square", args.square, args.square, args.square, false, false});
    // seed001_model_b (B 64, T 370, C 128, H 100) and seed004 (B 64, T 100, C 128, H 128).
    add_lstm_shapes(args.shapes, "s001b", 64, 370, 128, 100);
    add_lstm_shapes(args.shapes, "s004", 64, 100, 128, 128);
  }
  std::fprintf(stderr, "%s (avx2 %d, avx512f %d), OpenBLAS %s\n",
               base_line()["cpu"].get<std::string>().c_str(), cpu_flag("avx2"), cpu_flag("avx512f"),
               openblas_get_corename());
  std::fprintf(stderr, "%-7s %-44s %7s %10s %10s\n", "kind", "name (M,N,K,tA,tB)", "threads",
               "best ms", "rate");
  if (args.gemm)
    for (const Shape& s : args.shapes)
      for (int threads : args.threads) {
        const double sec = time_gemm(s, threads, args);
        const double gflops = 2.0 * s.m * s.n * s.k / sec / 1e9;
        char label[160];
        std::snprintf(label, sizeof label, "%s (%d,%d,%d,%d,%d)", s.name.c_str(), s.m, s.n, s.k,
                      s.ta, s.tb);
        std::fprintf(stderr, "%-7s %-44s %7d %10.3f %10.1f GFLOP/s\n", "sgemm", label,
                     openblas_get_num_threads(), sec * 1e3, gflops);
        json line = base_line();
        line.update({{"kind", "sgemm"},
                     {"name", s.name},
                     {"m", s.m},
                     {"n", s.n},
                     {"k", s.k},
                     {"trans_a", s.ta},
                     {"trans_b", s.tb},
                     {"threads", threads},
                     {"openblas_threads", openblas_get_num_threads()},
                     {"best_ms", std::round(sec * 1e6) / 1e3},
                     {"gflops", std::round(gflops * 10) / 10},
                     {"reps", args.reps}});
        std::printf("%s\n", line.dump().c_str());
      }
  if (args.mem) bench_memory(args);
  return 0;
}
