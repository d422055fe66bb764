// Kernel launches: per-kernel attributes (cudaFuncSetAttribute), the configuration checks the
// hardware and driver make (block and grid dimensions, cluster shape and size, shared memory
// within the kernel's attribute and the device's opt-in maximum), occupancy queries, and the
// grid loop that runs the clusters one after another. A rejected configuration returns the
// CUDA error and prints why; a kernel fault makes the launch return cudaErrorLaunchFailure,
// which stays sticky.
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "device.h"
#include "scheduler.h"
#include "state.h"
#include "stream_queue.h"

namespace emu::detail {

namespace {

struct FuncAttrs {
  std::string name;
  std::size_t max_dynamic_smem = 48 * 1024;
  bool non_portable_cluster = false;
  std::size_t static_peak = 0;  // the most static shared memory a block of it used so far
};

std::map<const void*, FuncAttrs>& func_attrs() {
  static auto* m = new std::map<const void*, FuncAttrs>;
  return *m;
}

__thread const char* tl_next_name = nullptr;

std::string dims(dim3 d) {
  std::ostringstream o;
  o << '(' << d.x << ',' << d.y << ',' << d.z << ')';
  return o.str();
}

struct Shape {
  dim3 cluster;
  std::string problem;  // empty: valid
  cudaError_t error = cudaSuccess;
};

// The cluster dims of `c` (1x1x1 without the attribute), checked against the kernel's
// attributes; `problem` says what is wrong.
Shape cluster_shape(const cudaLaunchConfig_t& c, const FuncAttrs& fa) {
  Shape s;
  for (unsigned i = 0; i < c.numAttrs; ++i) {
    if (c.attrs[i].id != cudaLaunchAttributeClusterDimension) continue;
    const auto& d = c.attrs[i].val.clusterDim;
    s.cluster = dim3(d.x, d.y, d.z);
  }
  const dim3 k = s.cluster;
  const unsigned size = k.x * k.y * k.z;
  const unsigned max = fa.non_portable_cluster ? 16 : 8;
  if (k.x == 0 || k.y == 0 || k.z == 0) {
    s.problem = "cluster " + dims(k) + " has a zero dimension";
  } else if (size > max) {
    s.problem = "cluster " + dims(k) + " has " + std::to_string(size) + " blocks, above " +
                std::to_string(max) +
                (fa.non_portable_cluster
                     ? ""
                     : " (more needs cudaFuncAttributeNonPortableClusterSizeAllowed, up to 16)");
  }
  if (!s.problem.empty()) s.error = cudaErrorInvalidClusterSize;
  return s;
}

std::string kernel_name(const void* kernel) {
  auto it = func_attrs().find(kernel);
  if (it != func_attrs().end() && !it->second.name.empty()) return it->second.name;
  return "kernel at " + hex(kernel);
}

cudaError_t reject(const std::string& name, cudaError_t e, const std::string& why) {
  diag("launch of '" + name + "' rejected (" + cudaGetErrorName(e) + "): " + why);
  return set_error(e);
}

// One launch: its description, the owned argument copy, and the kernel's attributes (entries
// of func_attrs() never move).
struct Job {
  LaunchInfo info;
  Destroyer destroy = nullptr;
  FuncAttrs* attrs = nullptr;
  ~Job() {
    if (destroy) destroy(info.params);
  }
};

// The clusters one after another; a fault stops the grid (the sticky error is set).
void run_grid(const Job& job) {
  const LaunchInfo& l = job.info;
  const dim3 g = l.grid, k = l.cluster;
  std::size_t peak = job.attrs->static_peak;
  for (unsigned z = 0; z < g.z / k.z; ++z)
    for (unsigned y = 0; y < g.y / k.y; ++y)
      for (unsigned x = 0; x < g.x / k.x; ++x)
        if (!run_cluster(l, uint3{x, y, z}, peak)) {
          job.attrs->static_peak = peak;
          return;
        }
  job.attrs->static_peak = peak;
}

}  // namespace

void reset_function_attributes() {
  for (auto& [fn, a] : func_attrs()) {
    a.max_dynamic_smem = 48 * 1024;
    a.non_portable_cluster = false;
  }
}

cudaError_t launch(const cudaLaunchConfig_t* config, const void* kernel, Invoker invoke,
                   Destroyer destroy, void* params) {
  std::unique_ptr<void, Destroyer> owned(params, destroy);  // freed on every early return
  const char* given = tl_next_name;
  tl_next_name = nullptr;
  if (tl_thread) {
    diag("a kernel launched a kernel: dynamic parallelism is not emulated");
    return set_error(cudaErrorNotSupported);
  }
  std::lock_guard<std::recursive_mutex> lock(device_mutex());
  install_death_callback();
  if (!kernel) return set_error(cudaErrorInvalidDeviceFunction);
  FuncAttrs& fa = func_attrs()[kernel];
  if (given) fa.name = given;
  const std::string name = kernel_name(kernel);
  if (!config) return reject(name, cudaErrorInvalidValue, "no launch configuration");
  if (!device_present()) return set_error(cudaErrorNoDevice);
  if (cudaError_t e = sticky_error()) return set_error(e);
  const cudaLaunchConfig_t& c = *config;
  const Profile& p = profile();
  const dim3 g = c.gridDim, b = c.blockDim;
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  if (!valid_stream(c.stream))
    return reject(name, cudaErrorInvalidResourceHandle, "stream " + hex(c.stream) + " is not live");
  if (g.x == 0 || g.y == 0 || g.z == 0 || b.x == 0 || b.y == 0 || b.z == 0)
    return reject(name, cudaErrorInvalidConfiguration,
                  "grid " + dims(g) + " or block " + dims(b) + " has a zero dimension");
  if (b.x > 1024 || b.y > 1024 || b.z > 64 ||
      threads > static_cast<unsigned long long>(p.max_threads_per_block))
    return reject(name, cudaErrorInvalidConfiguration,
                  "block " + dims(b) + " has " + std::to_string(threads) +
                      " threads; the limits are 1024 threads and (1024,1024,64)");
  if (g.x > 2147483647u || g.y > 65535 || g.z > 65535)
    return reject(name, cudaErrorInvalidConfiguration,
                  "grid " + dims(g) + " exceeds (2^31-1, 65535, 65535)");
  const Shape cs = cluster_shape(c, fa);
  if (cs.error) return reject(name, cs.error, cs.problem);
  const dim3 k = cs.cluster;
  if (g.x % k.x || g.y % k.y || g.z % k.z)
    return reject(name, cudaErrorInvalidClusterSize,
                  "cluster " + dims(k) + " does not divide grid " + dims(g));
  if (c.dynamicSmemBytes > fa.max_dynamic_smem)
    return reject(name, cudaErrorInvalidValue,
                  std::to_string(c.dynamicSmemBytes) +
                      " bytes of dynamic shared memory, above the kernel's " +
                      std::to_string(fa.max_dynamic_smem) +
                      " (raise it with cudaFuncSetAttribute(MaxDynamicSharedMemorySize))");
  // Without the opt-in attribute a block holds at most 48 KiB in all; with it, the device's
  // opt-in maximum.
  const std::size_t limit =
      fa.max_dynamic_smem > p.smem_per_block ? p.smem_per_block_optin : p.smem_per_block;
  if (c.dynamicSmemBytes + fa.static_peak > limit)
    return reject(name, cudaErrorInvalidValue,
                  std::to_string(c.dynamicSmemBytes) + " dynamic + " +
                      std::to_string(fa.static_peak) + " static bytes of shared memory, above " +
                      std::to_string(limit));

  auto job = std::make_shared<Job>();
  job->info = LaunchInfo{name, kernel, invoke, owned.release(), g, b, k, c.dynamicSmemBytes, limit};
  job->destroy = destroy;
  job->attrs = &fa;
  issue(c.stream, [job] { run_grid(*job); });
  // Run now (the default), a fault is this launch's error; queued, it shows at a later sync.
  return set_error(stream_mode() == StreamMode::Immediate ? sticky_error() : cudaSuccess);
}

}  // namespace emu::detail

void emu::name_next_launch(const char* name) {
  emu::detail::tl_next_name = name;
}

using namespace emu::detail;

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  std::lock_guard<std::recursive_mutex> lock(device_mutex());
  if (!func) return set_error(cudaErrorInvalidDeviceFunction);
  if (cudaError_t e = sticky_error()) return set_error(e);
  FuncAttrs& fa = func_attrs()[func];
  const Profile& p = profile();
  switch (attr) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize:
      if (value < 0 || static_cast<std::size_t>(value) + fa.static_peak > p.smem_per_block_optin) {
        diag("cudaFuncSetAttribute(" + kernel_name(func) + ", MaxDynamicSharedMemorySize, " +
             std::to_string(value) + "): the device allows " +
             std::to_string(p.smem_per_block_optin) + " bytes per block");
        return set_error(cudaErrorInvalidValue);
      }
      fa.max_dynamic_smem = static_cast<std::size_t>(value);
      return cudaSuccess;
    case cudaFuncAttributeNonPortableClusterSizeAllowed:
      if (value != 0 && value != 1) return set_error(cudaErrorInvalidValue);
      fa.non_portable_cluster = value == 1;
      return cudaSuccess;
    case cudaFuncAttributePreferredSharedMemoryCarveout:
      return value >= -1 && value <= 100 ? cudaSuccess : set_error(cudaErrorInvalidValue);
    case cudaFuncAttributeClusterSchedulingPolicyPreference:
      return cudaSuccess;  // scheduling has no observable effect here
    default:
      // The required cluster dims are compile-time properties of a kernel, not settable.
      diag("cudaFuncSetAttribute: attribute " + std::to_string(static_cast<int>(attr)) +
           " cannot be set");
      return set_error(cudaErrorInvalidValue);
  }
}

namespace {
// Blocks of `threads` threads and `smem` bytes of shared memory that fit on one SM at once
// (registers are not modelled: the emulator cannot know a kernel's register count).
int blocks_per_sm(unsigned long long threads, std::size_t smem) {
  const Profile& p = profile();
  if (threads == 0 || threads > static_cast<unsigned long long>(p.max_threads_per_block)) return 0;
  if (smem > p.smem_per_block_optin) return 0;
  unsigned long long n = static_cast<unsigned long long>(p.max_threads_per_sm) / threads;
  if (n > static_cast<unsigned long long>(p.max_blocks_per_sm)) n = p.max_blocks_per_sm;
  const std::size_t per_block = smem + p.smem_reserved_per_block;
  if (smem > 0 && p.smem_per_sm / per_block < n) n = p.smem_per_sm / per_block;
  return static_cast<int>(n);
}
}  // namespace

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void* func,
                                                          int block_size, size_t dynamic_smem) {
  std::lock_guard<std::recursive_mutex> lock(device_mutex());
  if (!blocks || block_size <= 0) return set_error(cudaErrorInvalidValue);
  if (!func) return set_error(cudaErrorInvalidDeviceFunction);
  const FuncAttrs& fa = func_attrs()[func];
  *blocks =
      blocks_per_sm(static_cast<unsigned long long>(block_size), dynamic_smem + fa.static_peak);
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveClusters(int* clusters, const void* func,
                                           const cudaLaunchConfig_t* config) {
  std::lock_guard<std::recursive_mutex> lock(device_mutex());
  if (!clusters || !config) return set_error(cudaErrorInvalidValue);
  if (!func) return set_error(cudaErrorInvalidDeviceFunction);
  if (cudaError_t e = sticky_error()) return set_error(e);
  const FuncAttrs& fa = func_attrs()[func];
  const Shape cs = cluster_shape(*config, fa);
  if (cs.error) return reject(kernel_name(func), cs.error, cs.problem);
  if (config->dynamicSmemBytes > fa.max_dynamic_smem)
    return reject(kernel_name(func), cudaErrorInvalidValue,
                  "occupancy query with " + std::to_string(config->dynamicSmemBytes) +
                      " bytes of dynamic shared memory, above the kernel's " +
                      std::to_string(fa.max_dynamic_smem));
  const dim3 b = config->blockDim;
  const int per_sm =
      blocks_per_sm(1ull * b.x * b.y * b.z, config->dynamicSmemBytes + fa.static_peak);
  const unsigned size = cs.cluster.x * cs.cluster.y * cs.cluster.z;
  // A cluster's blocks are placed on the SMs of one GPC.
  const Profile& p = profile();
  const int small = p.sms_per_gpc_small * per_sm / static_cast<int>(size);
  const int large = p.sms_per_gpc_large * per_sm / static_cast<int>(size);
  *clusters = p.gpcs_small * small + p.gpcs_large * large;
  return cudaSuccess;
}
