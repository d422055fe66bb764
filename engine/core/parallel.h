// The CPU path's one thread pool. Every parallel CPU loop in Ember (the LSTM's batch slices,
// large gemms split by blas::gemm) runs on it, and OpenBLAS is held at one thread, so a step
// never has more busy threads than num_threads(): BLAS workers spinning beside our own loops
// was what made a second core worth nothing to the LSTM.
//
// Determinism: callers split work into parts as a function of num_threads() only, and each
// part's arithmetic does not depend on which thread runs it, so the same thread count gives
// the same bits on one machine. Work inside a part runs inline (nested calls do not fan out).
#pragma once

#include <cstdint>
#include <functional>

namespace ember::par {

// Threads the CPU path uses, 1 meaning everything on the calling thread. The default is
// EMBER_NUM_THREADS, else OPENBLAS_NUM_THREADS, else the machine's hardware threads.
int num_threads();

// Sets the count (n >= 1; 0 keeps the default). Not to be called from inside parallel_for.
void set_num_threads(int n);

// Runs fn(p) for every part p in [0, parts), parts spread over the pool's threads (the
// calling thread takes some too), and returns when all are done. The first exception a part
// throws is rethrown here after the rest finish. Inside a part, or with one thread, the parts
// run in order on the calling thread.
void parallel_for(int64_t parts, const std::function<void(int64_t part)>& fn);

// True while the calling thread is running a part of parallel_for.
bool in_parallel();

// [begin, end) of part p when n items are split into `parts` near-equal contiguous ranges.
struct Range {
  int64_t begin, end;
};
inline Range split(int64_t n, int64_t parts, int64_t p) {
  const int64_t base = n / parts, extra = n % parts;
  const int64_t begin = p * base + (p < extra ? p : extra);
  return {begin, begin + base + (p < extra ? 1 : 0)};
}

// Elements of simple element-wise work (a copy, a dropout select, an optimizer update) below
// which handing a part to another thread costs more than it saves.
constexpr int64_t kGrain = int64_t{1} << 15;

// How many parts to cut n items into so that each holds at least `grain` of them: one per
// pool thread at most, at least 1, and 1 inside a part of parallel_for (nested calls run
// inline anyway). A function of num_threads() and n only, as determinism needs.
int64_t parts_for(int64_t n, int64_t grain);

// fn(begin, end) over [0, n) in parts_for(n, grain) contiguous ranges (split), on the pool.
void parallel_ranges(int64_t n, int64_t grain,
                     const std::function<void(int64_t begin, int64_t end)>& fn);

}  // namespace ember::par
