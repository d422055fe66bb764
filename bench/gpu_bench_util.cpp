// gpu_bench_util.h: event timing with L2 flushes, error statistics and the JSON/table report.
// Errors are computed in double on host copies; the table is fixed-width so a log reads as a
// table without tools.
#include "bench/gpu_bench_util.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/cuda/check.h"

namespace ember::bench {

Timing summarize(std::vector<double> us) {
  Timing t;
  if (us.empty()) return t;
  std::sort(us.begin(), us.end());
  auto rank = [&](double q) {
    size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(us.size())));
    return us[std::min(us.size() - 1, i == 0 ? 0 : i - 1)];
  };
  t.median_us = rank(0.5);
  t.p10_us = rank(0.1);
  t.p90_us = rank(0.9);
  t.reps = static_cast<int>(us.size());
  return t;
}

GpuTimer::GpuTimer(int device, cudaStream_t stream) : device_(device), stream_(stream) {
  EMBER_CUDA_CHECK(cudaSetDevice(device_));
  int l2 = 0;
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device_));
  flush_bytes_ = std::max<size_t>(2 * static_cast<size_t>(l2), size_t(64) << 20);
  EMBER_CUDA_CHECK(cudaMalloc(&flush_, flush_bytes_));
}

GpuTimer::~GpuTimer() {
  for (cudaEvent_t e : events_) EMBER_CUDA_CHECK_LOG(cudaEventDestroy(e));
  if (flush_) EMBER_CUDA_CHECK_LOG(cudaFree(flush_));
}

void GpuTimer::flush_l2() {
  EMBER_CUDA_CHECK(cudaMemsetAsync(flush_, 0, flush_bytes_, stream_));
}

Timing GpuTimer::time(const std::function<void()>& op, int warmup, int reps, bool flush) {
  std::vector<Timing> t =
      time_stages([&](const std::function<void()>&) { op(); }, 0, warmup, reps, flush);
  return t.back();
}

std::vector<Timing> GpuTimer::time_stages(
    const std::function<void(const std::function<void()>&)>& op, int n_marks, int warmup, int reps,
    bool flush) {
  const size_t n_events = static_cast<size_t>(n_marks) + 2;  // start, marks, end
  while (events_.size() < n_events) {
    cudaEvent_t e;
    EMBER_CUDA_CHECK(cudaEventCreate(&e));
    events_.push_back(e);
  }
  auto noop = [] {};
  for (int i = 0; i < warmup; ++i) op(noop);
  EMBER_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<std::vector<double>> us(n_events - 1);
  for (int r = 0; r < reps; ++r) {
    if (flush) flush_l2();
    EMBER_CUDA_CHECK(cudaEventRecord(events_[0], stream_));
    size_t k = 1;
    op([&] {
      if (k < n_events - 1) EMBER_CUDA_CHECK(cudaEventRecord(events_[k++], stream_));
    });
    while (k < n_events) EMBER_CUDA_CHECK(cudaEventRecord(events_[k++], stream_));
    EMBER_CUDA_CHECK(cudaEventSynchronize(events_[n_events - 1]));
    for (size_t s = 1; s < n_events; ++s) {
      float ms = 0;
      EMBER_CUDA_CHECK(cudaEventElapsedTime(&ms, events_[0], events_[s]));
      us[s - 1].push_back(1e3 * ms);
    }
  }
  std::vector<Timing> out;
  for (auto& v : us) out.push_back(summarize(std::move(v)));
  return out;
}

namespace {

Tensor host_f64(const Tensor& t) {
  Tensor h = t;
  if (!t.device().is_cpu()) {
    EMBER_CUDA_CHECK(cudaDeviceSynchronize());
    h = t.to(Device::cpu());
  }
  return h.dtype() == DType::kFloat64 ? h : h.to(DType::kFloat64);
}

}  // namespace

ErrStats compare(const Tensor& got, const Tensor& ref) {
  if (got.shape() != ref.shape())
    throw std::runtime_error("compare: shape " + got.shape().str() + " vs " + ref.shape().str());
  const Tensor g = host_f64(got), r = host_f64(ref);
  const double* gp = g.data<double>();
  const double* rp = r.data<double>();
  double scale = 0, max_abs = 0;
  for (int64_t i = 0; i < g.numel(); ++i) {
    scale = std::max(scale, std::fabs(rp[i]));
    const double d = std::fabs(gp[i] - rp[i]);
    // NaN must not hide: it counts as an infinite error.
    max_abs = std::max(max_abs, std::isnan(d) ? INFINITY : d);
  }
  return {max_abs, max_abs / std::max(scale, 1e-30)};
}

ErrStats worst(const ErrStats& a, const ErrStats& b) {
  return {std::max(a.max_abs, b.max_abs), std::max(a.max_norm, b.max_norm)};
}

Report::Report(const std::string& path, std::string device_name, std::string commit)
    : device_name_(std::move(device_name)), commit_(std::move(commit)) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw std::runtime_error("cannot open " + path + " for appending");
}

Report::~Report() {
  if (file_) std::fclose(file_);
}

void Report::header() const {
  std::printf("%-10s %-34s %-10s %10s %10s %9s %9s %7s %10s  %s\n", "group", "case", "impl",
              "median_us", "p90_us", "GB/s", "TFLOP/s", "frac", "max_err", "status");
}

void Report::add(nlohmann::json line) {
  line["bench"] = "gpu_kernels";
  line["device_name"] = device_name_;
  line["commit"] = commit_;
  std::fprintf(file_, "%s\n", line.dump().c_str());
  std::fflush(file_);
  const std::string status = line.value("status", std::string("?"));
  if (status == "MISMATCH") ++mismatches_;
  if (status == "error") ++errors_;
  auto num = [&](const char* k) { return line.contains(k) ? line[k].get<double>() : 0.0; };
  const double frac = line.contains("frac_copy_bw") ? num("frac_copy_bw") : num("frac_sgemm");
  if (status == "skipped" || status == "error") {
    std::printf("%-10s %-34s %-10s %s: %s\n", line.value("group", std::string()).c_str(),
                line.value("case", std::string()).c_str(),
                line.value("impl", std::string()).c_str(), status.c_str(),
                line.value("reason", std::string()).substr(0, 160).c_str());
  } else {
    std::printf("%-10s %-34s %-10s %10.1f %10.1f %9.1f %9.3f %7.3f %10.2e  %s\n",
                line.value("group", std::string()).c_str(),
                line.value("case", std::string()).c_str(),
                line.value("impl", std::string()).c_str(), num("us_median"), num("us_p90"),
                num("gbps"), num("tflops"), frac, num("max_norm_err"), status.c_str());
  }
  std::fflush(stdout);
}

nlohmann::json result_line(const std::string& group, const std::string& name,
                           const std::string& impl, const nlohmann::json& shape, const Timing& t,
                           double bytes, double flops, const Roofs& roofs) {
  nlohmann::json j = {
      {"group", group},           {"case", name},       {"impl", impl},       {"shape", shape},
      {"us_median", t.median_us}, {"us_p10", t.p10_us}, {"us_p90", t.p90_us}, {"reps", t.reps}};
  const double sec = t.median_us * 1e-6;
  if (bytes > 0 && sec > 0) {
    j["bytes"] = bytes;
    j["gbps"] = bytes / sec * 1e-9;
    if (roofs.copy_gbps > 0) j["frac_copy_bw"] = j["gbps"].get<double>() / roofs.copy_gbps;
  }
  if (flops > 0 && sec > 0) {
    j["flops"] = flops;
    j["tflops"] = flops / sec * 1e-12;
    if (roofs.sgemm_tflops > 0) j["frac_sgemm"] = j["tflops"].get<double>() / roofs.sgemm_tflops;
  }
  return j;
}

void add_validation(nlohmann::json& line, const ErrStats& err, double tol) {
  line["max_abs_err"] = err.max_abs;
  line["max_norm_err"] = err.max_norm;
  line["tolerance"] = tol;
  line["status"] = err.max_norm <= tol ? "ok" : "MISMATCH";
}

}  // namespace ember::bench
