// What the GPU kernel benchmark (bench/gpu_kernels*.cpp) shares: CUDA-event timing after
// warm-up with an L2 flush before every timed repetition, the device's measured roofs (copy
// bandwidth, SGEMM rate) that results are expressed against, error statistics against a
// reference, and the report: one JSON line per case to a file plus a readable table on stdout.
// Times are microseconds; bandwidth counts bytes read plus bytes written (a copy of N bytes
// moves 2N), so a kernel's GB/s divided by the copy's is the fraction of attainable bandwidth.
// CUDA builds only.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/tensor.h"

namespace ember::bench {

struct Timing {
  double median_us = 0, p10_us = 0, p90_us = 0;
  int reps = 0;
};
Timing summarize(std::vector<double> us);  // nearest-rank percentiles

// Owns the events and the L2-flush buffer (twice the L2 size, cleared with a memset before
// each timed repetition so no case reads the previous one's data from L2).
class GpuTimer {
 public:
  GpuTimer(int device, cudaStream_t stream);
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;

  // Runs op `warmup` times, then `reps` times between two events on the stream (op queues its
  // work there, or joins it there), flushing L2 before each. Returns the event times.
  Timing time(const std::function<void()>& op, int warmup, int reps, bool flush = true);
  // Event times of the stages of one op: op(mark) calls mark() after each stage; returns one
  // Timing per stage, the time from the start to that mark (cumulative).
  std::vector<Timing> time_stages(const std::function<void(const std::function<void()>&)>& op,
                                  int n_marks, int warmup, int reps, bool flush = true);
  void flush_l2();
  cudaStream_t stream() const { return stream_; }

 private:
  int device_;
  cudaStream_t stream_;
  void* flush_ = nullptr;
  size_t flush_bytes_ = 0;
  std::vector<cudaEvent_t> events_;
};

// Worst differences of got against ref (same shape, any float dtypes, host or device).
struct ErrStats {
  double max_abs = 0;   // max |got - ref|
  double max_norm = 0;  // max |got - ref| / max(max |ref|, 1e-30): error relative to the scale
};
ErrStats compare(const Tensor& got, const Tensor& ref);
ErrStats worst(const ErrStats& a, const ErrStats& b);

// The device's measured roofs; zero until measured.
struct Roofs {
  double copy_gbps = 0;        // cudaMemcpy device-to-device, bytes read + written per second
  double sgemm_tflops = 0;     // cuBLAS SGEMM, FP32 math (no TF32)
  double cluster_sync_us = 0;  // one cluster.sync() of 8 CTAs with a DSMEM store before it
};

// Appends JSON lines (each gets "bench", "device_name", "commit") to a file and prints the
// table row of each as it goes. Counts the failures: "MISMATCH" (validation) and "error" (a
// case that threw: a failed launch, allocation or library call); "skipped" is not one.
class Report {
 public:
  Report(const std::string& path, std::string device_name, std::string commit);
  ~Report();
  Report(const Report&) = delete;
  Report& operator=(const Report&) = delete;
  void header() const;
  void add(nlohmann::json line);
  int mismatches() const { return mismatches_; }
  int errors() const { return errors_; }

 private:
  std::FILE* file_ = nullptr;
  std::string device_name_, commit_;
  int mismatches_ = 0, errors_ = 0;
};

// A case's result line: timing, throughput and the fraction of the matching roof (memory-bound
// ops are given bytes, compute-bound ones flops; either may be 0).
nlohmann::json result_line(const std::string& group, const std::string& name,
                           const std::string& impl, const nlohmann::json& shape, const Timing& t,
                           double bytes, double flops, const Roofs& roofs);
// Adds the validation fields: max errors, the tolerance and "status" ok / MISMATCH.
void add_validation(nlohmann::json& line, const ErrStats& err, double tol);

}  // namespace ember::bench
