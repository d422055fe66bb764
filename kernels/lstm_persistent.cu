// The persistent LSTM kernels and launchers (design, shared-memory layout and per-step floor in
// kernels/lstm_persistent.h). Grid (N, ceil(B/Bt)) with clusters of N CTAs along x: cluster
// rank r owns hidden units [r*Hc, r*Hc + own); threadIdx.x = group*Hc + jl, where group picks
// RB consecutive rows of the batch tile and jl the unit. Global buffers are [B,T,*] by
// original time as in kernels/lstm.h; a step's row for sample b is (b*T + t). The step loops
// read step s's operand buffer s&1 (forward) and write the next one; cluster.sync() after the
// DSMEM stores is the step's only barrier, so no CTA runs more than one step ahead.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <exception>
#include <map>
#include <mutex>
#include <sstream>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "kernels/lstm.h"
#include "kernels/lstm_cuda.h"
#include "kernels/lstm_persistent.h"

namespace ember::cuda {

namespace {

namespace cg = cooperative_groups;

// N consecutive elements moved as one aligned vector access (shared and distributed shared
// memory): float4 for N = 4 floats, two 16-byte accesses for 4 doubles.
template <class T, int N>
struct alignas(sizeof(T) * N) Vec {
  T v[N];
};

__device__ __forceinline__ float sigmoid_fn(float a) { return 1.0f / (1.0f + expf(-a)); }
__device__ __forceinline__ double sigmoid_fn(double a) { return 1.0 / (1.0 + exp(-a)); }
__device__ __forceinline__ float tanh_fn(float a) { return tanhf(a); }
__device__ __forceinline__ double tanh_fn(double a) { return tanh(a); }

// Everything a kernel needs besides its plan fields; travels by value.
template <class T>
struct FwdArgs {
  const T* recurrent_kernel = nullptr;  // [H,G]
  const T* bias = nullptr;              // [G] or null
  const uint8_t* mask = nullptr;        // [B,T] or null; nonzero = real step
  const T* h_scale = nullptr;           // [B,H] recurrent dropout factor or null
  T* gates = nullptr;   // [B,T,G] in: x·kernel; out: activations i,f,g,o at real rows
  T* out = nullptr;     // [B,T,H] (return_sequences) or [B,H]
  T* c_save = nullptr;  // [B,T,H] or null
  T* h_prev = nullptr;  // [B,T,H] or null: the step's recurrent operand
  int batch = 0, steps = 0, hidden = 0, units = 0, batch_tile = 0;
  bool return_sequences = false, go_backwards = false, reverse_outputs = false;
  bool zero_output_for_mask = false;
};

template <class T>
struct BwdArgs {
  const T* recurrent_kernel = nullptr;  // [H,G]
  const uint8_t* mask = nullptr;        // [B,T] or null
  const T* h_scale = nullptr;           // [B,H] or null
  const T* gates = nullptr;             // [B,T,G] activations (saved)
  const T* c_save = nullptr;            // [B,T,H]
  const T* d_out = nullptr;             // out's shape
  T* d_gates = nullptr;                 // [B,T,G] OVERWRITTEN (zeros at masked rows)
  int batch = 0, steps = 0, hidden = 0, units = 0, batch_tile = 0;
  bool return_sequences = false, go_backwards = false, reverse_outputs = false;
  bool zero_output_for_mask = false;
};

__device__ __forceinline__ int time_of(int nt, bool back, int s) { return back ? nt - 1 - s : s; }

// The forward's global operands of one step for RB rows: the projection x·kernel of the four
// gates of unit j, and whether the step is real.
template <class T, int RB>
__device__ __forceinline__ void load_fwd_step(const FwdArgs<T>& p, int t, int64_t b0, int j,
                                              const bool (&valid)[RB], T (&pre)[RB][4],
                                              bool (&real)[RB]) {
  const int nh = p.hidden, nt = p.steps;
#pragma unroll
  for (int r = 0; r < RB; ++r) {
    real[r] = false;
#pragma unroll
    for (int q = 0; q < 4; ++q) pre[r][q] = T(0);
    if (!valid[r]) continue;
    const int64_t row = (b0 + r) * nt + t;
    real[r] = !p.mask || p.mask[row] != 0;
    const T* g = p.gates + row * 4 * nh + j;
#pragma unroll
    for (int q = 0; q < 4; ++q) pre[r][q] = g[q * nh];
  }
}

template <class T, int RB>
__global__ void __launch_bounds__(kLstmPersistentMaxThreads)
    lstm_persistent_fwd_kernel(FwdArgs<T> p) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  cg::cluster_group cluster = cg::this_cluster();
  const int nh = p.hidden, ng = 4 * nh, nt = p.steps, hc = p.units, bt = p.batch_tile;
  const int rank = static_cast<int>(cluster.block_rank());
  const int ncta = static_cast<int>(cluster.num_blocks());
  const int j0 = rank * hc;
  const int own = max(0, min(hc, nh - j0));
  T* rs = reinterpret_cast<T*>(smem_raw);            // [H][Hc][4]
  T* hbuf = rs + static_cast<int64_t>(nh) * hc * 4;  // [2][H][Bt]

  // This CTA's slice of recurrent_kernel, read once (consecutive threads read consecutive
  // units of one gate row); the columns of units past H are zero.
  for (int i = threadIdx.x; i < nh * 4 * hc; i += blockDim.x) {
    const int jl = i % hc, q = (i / hc) % 4, k = i / (4 * hc);
    rs[(k * hc + jl) * 4 + q] =
        jl < own ? p.recurrent_kernel[static_cast<int64_t>(k) * ng + q * nh + j0 + jl] : T(0);
  }

  const int jl = static_cast<int>(threadIdx.x) % hc;
  const int bl0 = (static_cast<int>(threadIdx.x) / hc) * RB;  // first row in the tile
  const bool active = jl < own;
  const int j = j0 + jl;
  const int64_t b0 = static_cast<int64_t>(blockIdx.y) * bt + bl0;
  bool valid[RB];
  T hs[RB], h[RB], c[RB], op[RB];  // op: h * h_scale, the next step's recurrent operand
#pragma unroll
  for (int r = 0; r < RB; ++r) {
    valid[r] = active && b0 + r < p.batch;
    hs[r] = valid[r] && p.h_scale ? p.h_scale[(b0 + r) * nh + j] : T(1);
    h[r] = c[r] = op[r] = T(0);
  }
  T bias[4];
#pragma unroll
  for (int q = 0; q < 4; ++q) bias[q] = active && p.bias ? p.bias[q * nh + j] : T(0);

  T pre[RB][4];
  bool real[RB];
  load_fwd_step<T, RB>(p, time_of(nt, p.go_backwards, 0), b0, j, valid, pre, real);
  // Every CTA of the cluster has started and holds its slice before anyone writes into its
  // shared memory.
  cluster.sync();

  for (int s = 0; s < nt; ++s) {
    const int t = time_of(nt, p.go_backwards, s);
    // Next step's projection and mask, in flight while this step's dot products run.
    T pre_next[RB][4];
    bool real_next[RB];
    if (s + 1 < nt)
      load_fwd_step<T, RB>(p, time_of(nt, p.go_backwards, s + 1), b0, j, valid, pre_next,
                           real_next);

    // acc[r][q] = h_{s-1}[b, :] · R[:, q*H + j] (h_{-1} = 0 adds nothing).
    T acc[RB][4];
#pragma unroll
    for (int r = 0; r < RB; ++r)
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[r][q] = T(0);
    if (s > 0 && active) {
      const T* hb = hbuf + (s & 1) * nh * bt + bl0;
      const T* rp = rs + jl * 4;
#pragma unroll 4
      for (int k = 0; k < nh; ++k) {
        const Vec<T, 4> w = *reinterpret_cast<const Vec<T, 4>*>(rp + k * hc * 4);
        const Vec<T, RB> hv = *reinterpret_cast<const Vec<T, RB>*>(hb + k * bt);
#pragma unroll
        for (int r = 0; r < RB; ++r)
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[r][q] = fma(hv.v[r], w.v[q], acc[r][q]);
      }
    }

#pragma unroll
    for (int r = 0; r < RB; ++r) {
      if (!valid[r]) continue;
      const int64_t b = b0 + r;
      const int64_t row = b * nt + t;
      if (p.h_prev) p.h_prev[row * nh + j] = op[r];
      T ov;
      if (real[r]) {
        const T ig = sigmoid_fn(pre[r][0] + acc[r][0] + bias[0]);
        const T fg = sigmoid_fn(pre[r][1] + acc[r][1] + bias[1]);
        const T gg = tanh_fn(pre[r][2] + acc[r][2] + bias[2]);
        const T og = sigmoid_fn(pre[r][3] + acc[r][3] + bias[3]);
        T* g = p.gates + row * ng + j;
        g[0] = ig;
        g[nh] = fg;
        g[2 * nh] = gg;
        g[3 * nh] = og;
        c[r] = fg * c[r] + ig * gg;
        h[r] = og * tanh_fn(c[r]);
        ov = h[r];
      } else {
        // Masked step: h and c carry over; the output repeats h or is 0.
        ov = p.zero_output_for_mask ? T(0) : h[r];
      }
      if (p.return_sequences) {
        const int pos = p.reverse_outputs ? nt - 1 - s : s;
        p.out[(b * nt + pos) * nh + j] = ov;
      } else if (s == nt - 1) {
        p.out[b * nh + j] = ov;
      }
      if (p.c_save) p.c_save[row * nh + j] = c[r];
      op[r] = p.h_scale ? h[r] * hs[r] : h[r];
    }

    if (s + 1 < nt) {
      // Publish this CTA's units of the next operand to every CTA (itself included), then the
      // step's one barrier. Rows past B carry zeros. Destinations are visited starting at the
      // next rank so that the CTAs do not all write to rank 0 first.
      if (active) {
        Vec<T, RB> v;
#pragma unroll
        for (int r = 0; r < RB; ++r) v.v[r] = op[r];
        Vec<T, RB>* mine =
            reinterpret_cast<Vec<T, RB>*>(hbuf + ((s + 1) & 1) * nh * bt + j * bt + bl0);
        for (int i = 1; i <= ncta; ++i) {
          const unsigned dst = static_cast<unsigned>((rank + i) % ncta);
          *cluster.map_shared_rank(mine, dst) = v;
        }
      }
      cluster.sync();
#pragma unroll
      for (int r = 0; r < RB; ++r) {
        real[r] = real_next[r];
#pragma unroll
        for (int q = 0; q < 4; ++q) pre[r][q] = pre_next[r][q];
      }
    }
  }
  // No DSMEM access follows the last cluster.sync(), so CTAs may exit independently.
}

// The backward's global operands of one processing step for RB rows.
template <class T, int RB>
struct BwdStep {
  T a[RB][4];   // activations i, f, g, o
  T cn[RB];     // c after the step
  T cp[RB];     // c before it (0 at the first step)
  T go[RB];     // gradient of the step's output (0 when it has none)
  bool real[RB];
};

template <class T, int RB>
__device__ __forceinline__ void load_bwd_step(const BwdArgs<T>& p, int s, int64_t b0, int j,
                                              const bool (&valid)[RB], BwdStep<T, RB>& d) {
  const int nh = p.hidden, nt = p.steps;
  const int t = time_of(nt, p.go_backwards, s);
  const int tp = s > 0 ? time_of(nt, p.go_backwards, s - 1) : -1;
  const bool has_go = p.return_sequences || s == nt - 1;
  const int pos = p.reverse_outputs ? nt - 1 - s : s;
#pragma unroll
  for (int r = 0; r < RB; ++r) {
    d.real[r] = false;
    d.cn[r] = d.cp[r] = d.go[r] = T(0);
#pragma unroll
    for (int q = 0; q < 4; ++q) d.a[r][q] = T(0);
    if (!valid[r]) continue;
    const int64_t b = b0 + r;
    const int64_t row = b * nt + t;
    d.real[r] = !p.mask || p.mask[row] != 0;
    const T* g = p.gates + row * 4 * nh + j;
#pragma unroll
    for (int q = 0; q < 4; ++q) d.a[r][q] = g[q * nh];
    d.cn[r] = p.c_save[row * nh + j];
    if (tp >= 0) d.cp[r] = p.c_save[(b * nt + tp) * nh + j];
    if (has_go)
      d.go[r] = p.return_sequences ? p.d_out[(b * nt + pos) * nh + j] : p.d_out[b * nh + j];
  }
}

template <class T, int RB>
__global__ void __launch_bounds__(kLstmPersistentMaxThreads)
    lstm_persistent_bwd_kernel(BwdArgs<T> p) {
  extern __shared__ __align__(128) unsigned char smem_raw[];
  cg::cluster_group cluster = cg::this_cluster();
  const int nh = p.hidden, ng = 4 * nh, nt = p.steps, hc = p.units, bt = p.batch_tile;
  const int rank = static_cast<int>(cluster.block_rank());
  const int ncta = static_cast<int>(cluster.num_blocks());
  const int j0 = rank * hc;
  const int own = max(0, min(hc, nh - j0));
  T* rs = reinterpret_cast<T*>(smem_raw);            // [H][Hc][4]: R[j0+jl, q*H + k]
  T* dgbuf = rs + static_cast<int64_t>(nh) * hc * 4;  // [2][H][Bt][4]

  // Rows j0.. of recurrent_kernel, transposed per gate (consecutive threads read consecutive
  // columns k of one row).
  for (int i = threadIdx.x; i < nh * 4 * hc; i += blockDim.x) {
    const int k = i % nh, q = (i / nh) % 4, jl = i / (4 * nh);
    rs[(k * hc + jl) * 4 + q] =
        jl < own ? p.recurrent_kernel[static_cast<int64_t>(j0 + jl) * ng + q * nh + k] : T(0);
  }

  const int jl = static_cast<int>(threadIdx.x) % hc;
  const int bl0 = (static_cast<int>(threadIdx.x) / hc) * RB;
  const bool active = jl < own;
  const int j = j0 + jl;
  const int64_t b0 = static_cast<int64_t>(blockIdx.y) * bt + bl0;
  bool valid[RB];
  T hs[RB], dh[RB], dc[RB];  // dh, dc: gradients flowing into the state carried out of step s
#pragma unroll
  for (int r = 0; r < RB; ++r) {
    valid[r] = active && b0 + r < p.batch;
    hs[r] = valid[r] && p.h_scale ? p.h_scale[(b0 + r) * nh + j] : T(1);
    dh[r] = dc[r] = T(0);
  }

  BwdStep<T, RB> cur;
  load_bwd_step<T, RB>(p, nt - 1, b0, j, valid, cur);
  cluster.sync();  // every CTA has started and holds its slice

  for (int s = nt - 1; s >= 0; --s) {
    const int t = time_of(nt, p.go_backwards, s);
    BwdStep<T, RB> nxt;
    if (s > 0) load_bwd_step<T, RB>(p, s - 1, b0, j, valid, nxt);

    // The later step's recurrent product: acc[r][q] = sum_k d_gates_{s+1}[b, q*H + k] *
    // R[j, q*H + k], read from the buffer step s+1 wrote ((s+1)&1).
    T acc[RB][4];
#pragma unroll
    for (int r = 0; r < RB; ++r)
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[r][q] = T(0);
    if (s < nt - 1 && active) {
      const T* db = dgbuf + ((s + 1) & 1) * nh * bt * 4 + bl0 * 4;
      const T* rp = rs + jl * 4;
#pragma unroll 4
      for (int k = 0; k < nh; ++k) {
        const Vec<T, 4> w = *reinterpret_cast<const Vec<T, 4>*>(rp + k * hc * 4);
#pragma unroll
        for (int r = 0; r < RB; ++r) {
          const Vec<T, 4> d = *reinterpret_cast<const Vec<T, 4>*>(db + (k * bt + r) * 4);
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[r][q] = fma(d.v[q], w.v[q], acc[r][q]);
        }
      }
    }

    T dgs[RB][4];  // this step's pre-activation gradients (zeros at masked and absent rows)
#pragma unroll
    for (int r = 0; r < RB; ++r) {
#pragma unroll
      for (int q = 0; q < 4; ++q) dgs[r][q] = T(0);
      if (!valid[r]) continue;
      T dhv = dh[r];
      if (s < nt - 1) {
        const T rec = (acc[r][0] + acc[r][1]) + (acc[r][2] + acc[r][3]);
        dhv += p.h_scale ? rec * hs[r] : rec;
      }
      if (!cur.real[r]) {
        // The output was the carried h (or a constant 0); the state passes through.
        if (!p.zero_output_for_mask) dhv += cur.go[r];
        dh[r] = dhv;
      } else {
        const T ig = cur.a[r][0], fg = cur.a[r][1], gg = cur.a[r][2], og = cur.a[r][3];
        const T d_h = dhv + cur.go[r];
        const T tc = tanh_fn(cur.cn[r]);
        const T d_o = d_h * tc;
        const T d_c = dc[r] + d_h * og * (T(1) - tc * tc);
        dgs[r][0] = d_c * gg * ig * (T(1) - ig);          // through i
        dgs[r][1] = d_c * cur.cp[r] * fg * (T(1) - fg);   // through f
        dgs[r][2] = d_c * ig * (T(1) - gg * gg);          // through g
        dgs[r][3] = d_o * og * (T(1) - og);               // through o
        dc[r] = d_c * fg;
        dh[r] = T(0);
      }
      T* dg = p.d_gates + ((b0 + r) * nt + t) * ng + j;
#pragma unroll
      for (int q = 0; q < 4; ++q) dg[q * nh] = dgs[r][q];
    }

    if (s > 0) {  // h_{-1} is a constant: the first step publishes nothing
      if (active) {
        T* mine = dgbuf + (s & 1) * nh * bt * 4 + (j * bt + bl0) * 4;
        for (int i = 1; i <= ncta; ++i) {
          const unsigned dst = static_cast<unsigned>((rank + i) % ncta);
          Vec<T, 4>* there = cluster.map_shared_rank(reinterpret_cast<Vec<T, 4>*>(mine), dst);
#pragma unroll
          for (int r = 0; r < RB; ++r) {
            Vec<T, 4> v;
#pragma unroll
            for (int q = 0; q < 4; ++q) v.v[q] = dgs[r][q];
            there[r] = v;
          }
        }
      }
      cluster.sync();
      cur = nxt;
    }
  }
}

// ---- host side --------------------------------------------------------------------------------

void set_smem(const void* kernel, int64_t bytes) {
  EMBER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
}

// The launch configuration of one call; `attr` must outlive the launch.
cudaLaunchConfig_t launch_config(const LstmPersistentPlan& plan, int64_t smem, unsigned tiles,
                                 cudaStream_t stream, cudaLaunchAttribute* attr) {
  cudaLaunchConfig_t lc = {};
  lc.gridDim = dim3(static_cast<unsigned>(plan.cluster), tiles, 1);
  lc.blockDim = dim3(static_cast<unsigned>(plan.threads), 1, 1);
  lc.dynamicSmemBytes = static_cast<size_t>(smem);
  lc.stream = stream;
  attr[0] = {};
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = static_cast<unsigned>(plan.cluster);
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  lc.attrs = attr;
  lc.numAttrs = 1;
  return lc;
}

// Calls f(std::integral_constant<int, RB>) for the plan's rows per thread.
template <class F>
void with_rows(int rb, F&& f) {
  switch (rb) {
    case 1: f(std::integral_constant<int, 1>{}); break;
    case 2: f(std::integral_constant<int, 2>{}); break;
    case 4: f(std::integral_constant<int, 4>{}); break;
    default: EMBER_CHECK_ARG(false, "lstm (persistent): rows per thread " << rb);
  }
}

// Clusters of the plan's kernels that fit on the current device at once (0: cannot launch).
template <class T>
int max_active_clusters(const LstmPersistentPlan& plan, bool backward) {
  int clusters = 0;
  with_rows(plan.rows_per_thread, [&](auto rb) {
    constexpr int kRb = decltype(rb)::value;
    const void* fn = backward ? reinterpret_cast<const void*>(&lstm_persistent_bwd_kernel<T, kRb>)
                              : reinterpret_cast<const void*>(&lstm_persistent_fwd_kernel<T, kRb>);
    const int64_t smem = backward ? plan.smem_backward : plan.smem_forward;
    set_smem(fn, smem);
    cudaLaunchAttribute attr[1];
    const cudaLaunchConfig_t lc = launch_config(plan, smem, 1, nullptr, attr);
    EMBER_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, fn, &lc));
  });
  return clusters;
}

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
  const Key key{device, static_cast<int>(dt), plan.rows_per_thread, plan.cluster, plan.threads,
                plan.smem_forward, plan.smem_backward};
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::string why;
  int prev = -1;
  try {
    EMBER_CUDA_CHECK(cudaGetDevice(&prev));
    EMBER_CUDA_CHECK(cudaSetDevice(device));
    for (bool backward : {false, true}) {
      const int n = dt == DType::kFloat32 ? max_active_clusters<float>(plan, backward)
                                          : max_active_clusters<double>(plan, backward);
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
  (void)lstm_persistent_plan(cfg, dt == DType::kFloat32 ? 4 : 8, query_limits(device).lim,
                             &plan);
  return plan;
}

void check_config(const LstmConfig& cfg, const char* op) {
  EMBER_CHECK_ARG(cfg.batch >= 1 && cfg.steps >= 1 && cfg.input >= 1 && cfg.hidden >= 1,
                  op << ": need B, T, C, H >= 1, got B=" << cfg.batch << " T=" << cfg.steps
                     << " C=" << cfg.input << " H=" << cfg.hidden);
  EMBER_CHECK_ARG(cfg.dropout >= 0.0 && cfg.dropout < 1.0,
                  op << ": dropout " << cfg.dropout << " is not in [0, 1)");
  EMBER_CHECK_ARG(cfg.recurrent_dropout >= 0.0 && cfg.recurrent_dropout < 1.0,
                  op << ": recurrent_dropout " << cfg.recurrent_dropout << " is not in [0, 1)");
}

// Owns the temporaries of one call: released on scope exit (main stream), or handed to
// run.keep_alive (side stream), as kernels/lstm.h's LstmRun requires.
class Temps {
 public:
  explicit Temps(const LstmRun& run) : run_(run) {
    const Context& ctx = Context::get(run.device);
    EMBER_CHECK_ARG(run.stream == ctx.stream() || run.stream == ctx.side_stream(),
                    "lstm (persistent): the stream must be the device context's main or side "
                    "stream");
    EMBER_CHECK_ARG(run.stream == ctx.stream() || run.keep_alive,
                    "lstm (persistent): a call on the side stream needs LstmRun::keep_alive");
  }
  ~Temps() {
    if (run_.keep_alive)
      for (Tensor& t : held_) run_.keep_alive->push_back(std::move(t));
  }
  Temps(const Temps&) = delete;
  Temps& operator=(const Temps&) = delete;
  Tensor get(const Shape& s, DType dt) {
    Tensor t = Tensor::empty(s, dt, Device::cuda(run_.device));
    held_.push_back(t);
    return t;
  }
  void hold(const Tensor& t) {
    if (t.defined()) held_.push_back(t);
  }

 private:
  const LstmRun& run_;
  std::vector<Tensor> held_;
};

void check_saved(const Tensor& t, DType dt, const Shape& s, int device, const char* what) {
  check_tensor(t, dt, s, what);
  EMBER_CHECK_ARG(t.device() == Device::cuda(device),
                  what << ": expected a tensor on cuda:" << device << ", got " << t.str());
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
  const std::string why =
      lstm_persistent_plan(cfg, dt == DType::kFloat32 ? 4 : 8, d.lim, &plan);
  if (!why.empty()) return why;
  return cluster_check(plan, dt, device);
}

template <class T>
void lstm_persistent_forward(const LstmConfig& cfg, const T* x, const T* kernel,
                             const T* recurrent_kernel, const T* bias, const uint8_t* mask,
                             T* out, LstmSaved* saved, const LstmRun& run) {
  check_config(cfg, "lstm_persistent_forward");
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && out,
                  "lstm_persistent_forward: x, kernel, recurrent_kernel and out are required");
  const DType dt = dtype_of<T>();
  const LstmPersistentPlan plan = require_plan(cfg, dt, run.device, "lstm_persistent_forward");
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  const Device dev = Device::cuda(run.device);
  cudaStream_t st = run.stream;
  Temps temps(run);
  cublasHandle_t blas = cublas_for(run.device, st);

  // Dropout factors, one draw per sequence (variational): the fused path's draw.
  Tensor x_scale, h_scale;
  const T* x_in = x;
  if (cfg.dropout > 0.0) {
    x_scale = Tensor::empty(Shape{nb, nc}, dt, dev);
    dropout_factors<T>(x_scale.data<T>(), nb * nc, cfg.dropout, cfg.seed, cfg.offset, st);
    Tensor x_dropped = temps.get(Shape{nb, nt, nc}, dt);
    apply_row_factors<T>(x, x_scale.data<T>(), x_dropped.data<T>(), nb, nt, nc, st);
    x_in = x_dropped.data<T>();
  }
  if (cfg.recurrent_dropout > 0.0) {
    h_scale = Tensor::empty(Shape{nb, nh}, dt, dev);
    dropout_factors<T>(h_scale.data<T>(), nb * nh, cfg.recurrent_dropout, cfg.seed,
                       cfg.offset + 1, st);
  }

  // Input projection of every (b,t) row; the kernel adds the recurrent product and the bias.
  Tensor gates_t = saved ? Tensor::empty(Shape{nb, nt, ng}, dt, dev)
                         : temps.get(Shape{nb, nt, ng}, dt);
  gemm_rm<T>(blas, false, false, nb * nt, ng, nc, T(1), x_in, nc, kernel, ng, T(0),
             gates_t.data<T>(), ng);
  Tensor c_save, hp_save;
  if (saved) {
    c_save = Tensor::empty(Shape{nb, nt, nh}, dt, dev);
    hp_save = Tensor::empty(Shape{nb, nt, nh}, dt, dev);
  }

  FwdArgs<T> a;
  a.recurrent_kernel = recurrent_kernel;
  a.bias = bias;
  a.mask = mask;
  a.h_scale = h_scale.defined() ? h_scale.data<T>() : nullptr;
  a.gates = gates_t.data<T>();
  a.out = out;
  a.c_save = saved ? c_save.data<T>() : nullptr;
  a.h_prev = saved ? hp_save.data<T>() : nullptr;
  a.batch = static_cast<int>(nb);
  a.steps = static_cast<int>(nt);
  a.hidden = static_cast<int>(nh);
  a.units = plan.units;
  a.batch_tile = plan.batch_tile;
  a.return_sequences = cfg.return_sequences;
  a.go_backwards = cfg.go_backwards;
  a.reverse_outputs = cfg.reverse_outputs;
  a.zero_output_for_mask = cfg.zero_output_for_mask;
  with_rows(plan.rows_per_thread, [&](auto rb) {
    constexpr int kRb = decltype(rb)::value;
    set_smem(reinterpret_cast<const void*>(&lstm_persistent_fwd_kernel<T, kRb>),
             plan.smem_forward);
    cudaLaunchAttribute attr[1];
    const cudaLaunchConfig_t lc = launch_config(plan, plan.smem_forward,
                                                static_cast<unsigned>(plan.tiles), st, attr);
    EMBER_CUDA_CHECK(cudaLaunchKernelEx(&lc, lstm_persistent_fwd_kernel<T, kRb>, a));
  });
  EMBER_CUDA_CHECK_LAUNCH("lstm_persistent_fwd_kernel");

  if (saved) {
    saved->gates = gates_t;
    saved->c = c_save;
    saved->h_prev = hp_save;
    saved->x_scale = x_scale;
    saved->h_scale = h_scale;
  } else {
    temps.hold(x_scale);
    temps.hold(h_scale);
  }
}

template <class T>
void lstm_persistent_backward(const LstmConfig& cfg, const T* x, const T* kernel,
                              const T* recurrent_kernel, const uint8_t* mask,
                              const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                              T* d_recurrent_kernel, T* d_bias, const LstmRun& run) {
  check_config(cfg, "lstm_persistent_backward");
  if (!d_x && !d_kernel && !d_recurrent_kernel && !d_bias) return;
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && d_out,
                  "lstm_persistent_backward: x, kernel, recurrent_kernel and d_out are "
                  "required");
  const DType dt = dtype_of<T>();
  const LstmPersistentPlan plan = require_plan(cfg, dt, run.device, "lstm_persistent_backward");
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden, ng = 4 * nh;
  check_saved(saved.gates, dt, Shape{nb, nt, ng}, run.device, "lstm_backward: saved gates");
  check_saved(saved.c, dt, Shape{nb, nt, nh}, run.device, "lstm_backward: saved c");
  check_saved(saved.h_prev, dt, Shape{nb, nt, nh}, run.device, "lstm_backward: saved h_prev");
  if (saved.x_scale.defined())
    check_saved(saved.x_scale, dt, Shape{nb, nc}, run.device, "lstm_backward: saved x_scale");
  if (saved.h_scale.defined())
    check_saved(saved.h_scale, dt, Shape{nb, nh}, run.device, "lstm_backward: saved h_scale");
  cudaStream_t st = run.stream;
  Temps temps(run);
  cublasHandle_t blas = cublas_for(run.device, st);
  const T* xs = saved.x_scale.defined() ? saved.x_scale.data<T>() : nullptr;

  // d_gates [B,T,G] by original time: every element is written by the kernel.
  Tensor d_gates_t = temps.get(Shape{nb, nt, ng}, dt);
  T* d_gates = d_gates_t.data<T>();
  BwdArgs<T> a;
  a.recurrent_kernel = recurrent_kernel;
  a.mask = mask;
  a.h_scale = saved.h_scale.defined() ? saved.h_scale.data<T>() : nullptr;
  a.gates = saved.gates.data<T>();
  a.c_save = saved.c.data<T>();
  a.d_out = d_out;
  a.d_gates = d_gates;
  a.batch = static_cast<int>(nb);
  a.steps = static_cast<int>(nt);
  a.hidden = static_cast<int>(nh);
  a.units = plan.units;
  a.batch_tile = plan.batch_tile;
  a.return_sequences = cfg.return_sequences;
  a.go_backwards = cfg.go_backwards;
  a.reverse_outputs = cfg.reverse_outputs;
  a.zero_output_for_mask = cfg.zero_output_for_mask;
  with_rows(plan.rows_per_thread, [&](auto rb) {
    constexpr int kRb = decltype(rb)::value;
    set_smem(reinterpret_cast<const void*>(&lstm_persistent_bwd_kernel<T, kRb>),
             plan.smem_backward);
    cudaLaunchAttribute attr[1];
    const cudaLaunchConfig_t lc = launch_config(plan, plan.smem_backward,
                                                static_cast<unsigned>(plan.tiles), st, attr);
    EMBER_CUDA_CHECK(cudaLaunchKernelEx(&lc, lstm_persistent_bwd_kernel<T, kRb>, a));
  });
  EMBER_CUDA_CHECK_LAUNCH("lstm_persistent_bwd_kernel");

  // Weight gradients over all B*T rows, as lstm.cu.
  const int64_t rows = nb * nt;
  if (d_recurrent_kernel)  // sum over steps of h_prev^T · d_gates
    gemm_rm<T>(blas, true, false, nh, ng, rows, T(1), saved.h_prev.data<T>(), nh, d_gates, ng,
               T(1), d_recurrent_kernel, ng);
  Tensor work;  // [B,T,C]: the dropped-out x, then d_x before its dropout factor
  if (xs && (d_kernel || d_x)) work = temps.get(Shape{nb, nt, nc}, dt);
  if (d_kernel) {
    const T* x_in = x;
    if (xs) {
      apply_row_factors<T>(x, xs, work.data<T>(), nb, nt, nc, st);
      x_in = work.data<T>();
    }
    gemm_rm<T>(blas, true, false, nc, ng, rows, T(1), x_in, nc, d_gates, ng, T(1), d_kernel, ng);
  }
  if (d_x) {
    if (xs) {
      gemm_rm<T>(blas, false, true, rows, nc, ng, T(1), d_gates, ng, kernel, ng, T(0),
                 work.data<T>(), nc);
      add_row_factors<T>(work.data<T>(), xs, d_x, nb, nt, nc, st);
    } else {
      gemm_rm<T>(blas, false, true, rows, nc, ng, T(1), d_gates, ng, kernel, ng, T(1), d_x, nc);
    }
  }
  if (d_bias) {
    Tensor partial = temps.get(Shape{column_sums_workspace(rows, ng)}, DType::kFloat64);
    column_sums_add<T>(d_gates, rows, ng, partial.data<double>(), d_bias, st);
  }
}

#define EMBER_INSTANTIATE_LSTM_PERSISTENT(T)                                                  \
  template void lstm_persistent_forward<T>(const LstmConfig&, const T*, const T*, const T*,  \
                                           const T*, const uint8_t*, T*, LstmSaved*,         \
                                           const LstmRun&);                                  \
  template void lstm_persistent_backward<T>(const LstmConfig&, const T*, const T*, const T*, \
                                            const uint8_t*, const LstmSaved&, const T*, T*,  \
                                            T*, T*, T*, const LstmRun&);
EMBER_INSTANTIATE_LSTM_PERSISTENT(float)
EMBER_INSTANTIATE_LSTM_PERSISTENT(double)
#undef EMBER_INSTANTIATE_LSTM_PERSISTENT

}  // namespace ember::cuda
