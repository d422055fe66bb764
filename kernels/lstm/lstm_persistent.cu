// The persistent LSTM's launchers (kernels/lstm/lstm_persistent.h): the device half of
// lstm_persistent_supported (device limits, then the cluster occupancy of both kernels, each
// queried once and cached), and cuda::lstm_persistent_forward / backward, which wrap one
// kernel launch (lstm_persistent_kernels.cu) in the steps they share with the fused path
// (lstm_common.cu): dropout factors and the input projection before the forward recurrence,
// the weight gradients, d_x and d_bias from d_gates after the backward one.
#include <cuda_runtime.h>

#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "engine/cuda/check.h"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_cuda.h"
#include "kernels/lstm/lstm_persistent.h"
#include "kernels/lstm/lstm_persistent_kernels.h"

namespace ember::cuda {

namespace {

struct DeviceLimits {
  LstmPersistentDevice lim;
  std::string error;  // non-empty when the queries failed
};

DeviceLimits query_limits(int device) {
  static std::mutex mu;
  static std::map<int, DeviceLimits> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(device);
  if (it != cache.end()) return it->second;
  DeviceLimits d;
  int major = 0, sms = 0, smem = 0;
  cudaError_t e = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
  if (e == cudaSuccess)
    e = cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    d.error = std::string("cannot query CUDA device ") + std::to_string(device) + ": " +
              cudaGetErrorString(e);
  }
  d.lim.compute_major = major;
  d.lim.sm_count = sms;
  d.lim.max_smem_per_block = smem;
  cache[device] = d;
  return d;
}

// The occupancy verdict of a plan shape on a device, cached ("" = both kernels can run).
std::string cluster_check(const LstmPersistentPlan& plan, DType dt, int device) {
  using Key = std::tuple<int, int, int, int, int, int64_t, int64_t>;
  static std::mutex mu;
  static std::map<Key, std::string> cache;
  const Key key{device,       static_cast<int>(dt), plan.rows_per_thread, plan.cluster,
                plan.threads, plan.smem_forward,    plan.smem_backward};
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::string why;
  int prev = -1;
  try {
    EMBER_CUDA_CHECK(cudaGetDevice(&prev));
    EMBER_CUDA_CHECK(cudaSetDevice(device));
    for (bool backward : {false, true}) {
      const int n = dt == DType::kFloat32 ? lstm_persistent_max_clusters<float>(plan, backward)
                                          : lstm_persistent_max_clusters<double>(plan, backward);
      if (n < 1) {
        std::ostringstream os;
        os << "a cluster of " << plan.cluster << " CTAs x " << plan.threads << " threads with "
           << (backward ? plan.smem_backward : plan.smem_forward)
           << " bytes of shared memory each cannot be scheduled on device " << device
           << " (cudaOccupancyMaxActiveClusters = 0, " << (backward ? "backward" : "forward")
           << " kernel)";
        why = os.str();
        break;
      }
    }
  } catch (const std::exception& e) {
    (void)cudaGetLastError();
    why = std::string("cluster occupancy query failed: ") + e.what();
  }
  if (prev >= 0) (void)cudaSetDevice(prev);
  cache[key] = why;
  return why;
}

LstmPersistentPlan require_plan(const LstmConfig& cfg, DType dt, int device, const char* op) {
  const std::string why = lstm_persistent_device_check(cfg, dt, device);
  EMBER_CHECK_ARG(why.empty(), op << ": cannot run B=" << cfg.batch << " T=" << cfg.steps
                                  << " C=" << cfg.input << " H=" << cfg.hidden << " "
                                  << dtype_name(dt) << ": " << why);
  LstmPersistentPlan plan;
  (void)lstm_persistent_plan(cfg, dt == DType::kFloat32 ? 4 : 8, query_limits(device).lim, &plan);
  return plan;
}

// The sizes and options both kernels read.
LstmPersistentDims dims_of(const LstmConfig& cfg, const LstmPersistentPlan& plan) {
  LstmPersistentDims d;
  d.batch = static_cast<int>(cfg.batch);
  d.steps = static_cast<int>(cfg.steps);
  d.hidden = static_cast<int>(cfg.hidden);
  d.units = plan.units;
  d.batch_tile = plan.batch_tile;
  d.return_sequences = cfg.return_sequences;
  d.go_backwards = cfg.go_backwards;
  d.reverse_outputs = cfg.reverse_outputs;
  d.zero_output_for_mask = cfg.zero_output_for_mask;
  return d;
}

}  // namespace

std::string lstm_persistent_device_check(const LstmConfig& cfg, DType dt, int device) {
  if (dt != DType::kFloat32 && dt != DType::kFloat64)
    return std::string("runs float32 and float64 only, got ") + dtype_name(dt);
  if (device < 0) {
    const cudaError_t e = cudaGetDevice(&device);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();
      return std::string("cannot tell the current CUDA device: ") + cudaGetErrorString(e);
    }
  }
  const DeviceLimits d = query_limits(device);
  if (!d.error.empty()) return d.error;
  LstmPersistentPlan plan;
  const std::string why = lstm_persistent_plan(cfg, dt == DType::kFloat32 ? 4 : 8, d.lim, &plan);
  if (!why.empty()) return why;
  return cluster_check(plan, dt, device);
}

template <class T>
void lstm_persistent_forward(const LstmConfig& cfg, const T* x, const T* kernel,
                             const T* recurrent_kernel, const T* bias, const uint8_t* mask, T* out,
                             LstmSaved* saved, const LstmRun& run) {
  check_lstm_config(cfg, "lstm_persistent_forward");
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && out,
                  "lstm_persistent_forward: x, kernel, recurrent_kernel and out are required");
  const LstmPersistentPlan plan =
      require_plan(cfg, dtype_of<T>(), run.device, "lstm_persistent_forward");
  LstmWork work(run, "lstm (persistent)");

  // Dropout factors (the fused path's draw) and the input projection of every (b,t) row; the
  // kernel adds the recurrent product and the bias.
  LstmSaved fwd = lstm_forward_start<T>(cfg, x, kernel, saved != nullptr, work);
  LstmPersistentFwdArgs<T> a;
  static_cast<LstmPersistentDims&>(a) = dims_of(cfg, plan);
  a.recurrent_kernel = recurrent_kernel;
  a.bias = bias;
  a.mask = mask;
  a.h_scale = fwd.h_scale.defined() ? fwd.h_scale.data<T>() : nullptr;
  a.gates = fwd.gates.data<T>();
  a.out = out;
  a.c_save = saved ? fwd.c.data<T>() : nullptr;
  a.h_prev = saved ? fwd.h_prev.data<T>() : nullptr;
  launch_lstm_persistent_forward<T>(a, plan, work.stream());

  lstm_forward_finish(std::move(fwd), saved, work);
}

template <class T>
void lstm_persistent_backward(const LstmConfig& cfg, const T* x, const T* kernel,
                              const T* recurrent_kernel, const uint8_t* mask,
                              const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                              T* d_recurrent_kernel, T* d_bias, const LstmRun& run) {
  check_lstm_config(cfg, "lstm_persistent_backward");
  if (!d_x && !d_kernel && !d_recurrent_kernel && !d_bias) return;
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && d_out,
                  "lstm_persistent_backward: x, kernel, recurrent_kernel and d_out are "
                  "required");
  const DType dt = dtype_of<T>();
  const LstmPersistentPlan plan = require_plan(cfg, dt, run.device, "lstm_persistent_backward");
  check_lstm_saved(cfg, saved, dt, run.device);
  LstmWork work(run, "lstm (persistent)");

  // d_gates [B,T,G] by original time: every element is written by the kernel.
  Tensor d_gates = work.temp(Shape{cfg.batch, cfg.steps, 4 * cfg.hidden}, dt);
  LstmPersistentBwdArgs<T> a;
  static_cast<LstmPersistentDims&>(a) = dims_of(cfg, plan);
  a.recurrent_kernel = recurrent_kernel;
  a.mask = mask;
  a.h_scale = saved.h_scale.defined() ? saved.h_scale.data<T>() : nullptr;
  a.gates = saved.gates.data<T>();
  a.c_save = saved.c.data<T>();
  a.d_out = d_out;
  a.d_gates = d_gates.data<T>();
  launch_lstm_persistent_backward<T>(a, plan, work.stream());

  // The weight gradients, d_x and d_bias over all B*T rows, as lstm.cu.
  lstm_gradients_from_gates<T>(cfg, x, kernel, saved, d_gates.data<T>(), d_x, d_kernel,
                               d_recurrent_kernel, d_bias, work);
}

#define EMBER_INSTANTIATE_LSTM_PERSISTENT(T)                                                    \
  template void lstm_persistent_forward<T>(const LstmConfig&, const T*, const T*, const T*,     \
                                           const T*, const uint8_t*, T*, LstmSaved*,            \
                                           const LstmRun&);                                     \
  template void lstm_persistent_backward<T>(const LstmConfig&, const T*, const T*, const T*,    \
                                            const uint8_t*, const LstmSaved&, const T*, T*, T*, \
                                            T*, T*, const LstmRun&);
EMBER_INSTANTIATE_LSTM_PERSISTENT(float)
EMBER_INSTANTIATE_LSTM_PERSISTENT(double)
#undef EMBER_INSTANTIATE_LSTM_PERSISTENT

}  // namespace ember::cuda
