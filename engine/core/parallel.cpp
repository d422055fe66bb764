// The thread pool of parallel.h: num_threads() - 1 workers that spin briefly for the next job
// (a step issues many small fork/joins, one per LSTM direction and large gemm, and a wake-up
// through the kernel costs more than the spin) and then sleep on a condition variable. The
// calling thread claims parts as well. Parts are claimed from an atomic counter, so which
// thread runs a part varies; what a part computes does not.
#include "engine/core/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/core/blas.h"
#include "engine/core/check.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EMBER_CPU_RELAX() _mm_pause()
#else
#define EMBER_CPU_RELAX() ((void)0)
#endif

namespace ember::par {

namespace {

thread_local bool t_in_part = false;

// About 50-100 us of polling before a worker sleeps: longer than the gaps between the fork/
// joins of one step, short enough not to steal a core from another process for long.
constexpr int kSpins = 4000;

class Pool {
 public:
  explicit Pool(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // False when another thread's job holds the pool; the caller then runs the parts itself.
  bool try_run(int64_t parts, const std::function<void(int64_t)>& fn) {
    std::unique_lock<std::mutex> busy(run_mu_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> l(mu_);
      fn_ = &fn;
      parts_ = parts;
      next_.store(0, std::memory_order_relaxed);
      active_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    claim_parts();
    // Every worker leaves the job before run() returns, so none can read fn_ or parts_ while
    // the next job is being set up.
    for (int i = 0; i < kSpins && active_.load(std::memory_order_acquire) > 0; ++i)
      EMBER_CPU_RELAX();
    if (active_.load(std::memory_order_acquire) > 0) {
      std::unique_lock<std::mutex> l(mu_);
      done_.wait(l, [this] { return active_.load(std::memory_order_acquire) == 0; });
    }
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void claim_parts() {
    t_in_part = true;
    for (;;) {
      const int64_t p = next_.fetch_add(1, std::memory_order_relaxed);
      if (p >= parts_) break;
      try {
        (*fn_)(p);
      } catch (...) {
        std::lock_guard<std::mutex> l(err_mu_);
        if (!error_) error_ = std::current_exception();
      }
    }
    t_in_part = false;
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      for (int i = 0; i < kSpins && generation_.load(std::memory_order_acquire) == seen; ++i)
        EMBER_CPU_RELAX();
      {
        std::unique_lock<std::mutex> l(mu_);
        wake_.wait(l, [&] { return generation_.load(std::memory_order_acquire) != seen; });
        seen = generation_.load(std::memory_order_acquire);
        if (stop_) return;
      }
      claim_parts();
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> l(mu_);  // the waiter checks under the lock: no lost wake
        done_.notify_all();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex run_mu_, mu_, err_mu_;
  std::condition_variable wake_, done_;
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;  // guarded by mu_
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t parts_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int> active_{0};  // workers still inside the current job
  std::exception_ptr error_;
};

int env_threads(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 1 || n > 1024)
    throw Error(std::string(name) + "='" + v + "' is not a thread count (1..1024)");
  return static_cast<int>(n);
}

int default_threads() {
  if (const int n = env_threads("EMBER_NUM_THREADS")) return n;
  if (const int n = env_threads("OPENBLAS_NUM_THREADS")) return n;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;  // guarded by g_pool_mu; created on first use

Pool& pool() {
  std::lock_guard<std::mutex> l(g_pool_mu);
  if (!g_pool) {
    blas::set_num_threads(1);  // the pool splits gemms itself (blas.cpp)
    g_pool = std::make_unique<Pool>(default_threads());
  }
  return *g_pool;
}

}  // namespace

int num_threads() {
  return pool().threads();
}

void set_num_threads(int n) {
  EMBER_CHECK_ARG(n >= 0, "set_num_threads: " << n << " threads");
  EMBER_CHECK_ARG(!t_in_part, "set_num_threads inside parallel_for");
  if (n == 0) return;
  std::lock_guard<std::mutex> l(g_pool_mu);
  if (g_pool && g_pool->threads() == n) return;
  blas::set_num_threads(1);
  g_pool.reset();
  g_pool = std::make_unique<Pool>(n);
}

void parallel_for(int64_t parts, const std::function<void(int64_t part)>& fn) {
  if (parts <= 0) return;
  if (parts > 1 && !t_in_part && num_threads() > 1 && pool().try_run(parts, fn)) return;
  for (int64_t p = 0; p < parts; ++p) fn(p);
}

bool in_parallel() {
  return t_in_part;
}

int64_t parts_for(int64_t n, int64_t grain) {
  if (t_in_part) return 1;
  return std::clamp<int64_t>(n / std::max<int64_t>(grain, 1), 1, num_threads());
}

void parallel_ranges(int64_t n, int64_t grain,
                     const std::function<void(int64_t begin, int64_t end)>& fn) {
  const int64_t parts = parts_for(n, grain);
  if (parts == 1) return fn(0, n);
  parallel_for(parts, [&](int64_t p) {
    const Range r = split(n, parts, p);
    fn(r.begin, r.end);
  });
}

}  // namespace ember::par
