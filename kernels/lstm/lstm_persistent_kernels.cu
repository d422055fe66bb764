// The persistent LSTM kernels (design, shared-memory layout and per-step floor in
// kernels/lstm/lstm_persistent.h; arguments in lstm_persistent_kernels.h) and their launches: one
// cluster launch per direction, the instantiation for the plan's rows per thread RB picked at
// run time. Grid (N, ceil(B/Bt)) with clusters of N CTAs along x: cluster rank r owns hidden
// units [r*Hc, r*Hc + own); threadIdx.x = group*Hc + jl, where group picks RB consecutive
// rows of the batch tile and jl the unit. Global buffers are [B,T,*] by original time; a
// step's row for sample b is (b*T + t). The step loops read step s's operand buffer s&1
// (forward) and write the next one; cluster.sync() after the DSMEM stores is the step's only
// barrier, so no CTA runs more than one step ahead.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <type_traits>

#include "engine/cuda/check.h"
#include "engine/cuda/index.h"
#include "engine/cuda/launch.cuh"
#include "kernels/lstm/lstm_cell.cuh"
#include "kernels/lstm/lstm_persistent.h"
#include "kernels/lstm/lstm_persistent_kernels.h"

namespace ember::cuda {

namespace {

namespace cg = cooperative_groups;

// N consecutive elements moved as one aligned vector access (shared and distributed shared
// memory): float4 for N = 4 floats, two 16-byte accesses for 4 doubles.
template <class T, int N>
struct alignas(sizeof(T) * N) Vec {
  T v[N];
};

// The forward's global operands of one step for RB rows: the projection x·kernel of the four
// gates of unit j, and whether the step is real.
template <class T, int RB>
__device__ __forceinline__ void load_fwd_step(const LstmPersistentFwdArgs<T>& p, int t, int64_t b0,
                                              int j, const bool (&valid)[RB], T (&pre)[RB][4],
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
    lstm_persistent_fwd_kernel(LstmPersistentFwdArgs<T> p) {
  EMBER_DYNAMIC_SHARED(unsigned char, smem_raw, 128);
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
  load_fwd_step<T, RB>(p, time_of(p, 0), b0, j, valid, pre, real);
  // Every CTA of the cluster has started and holds its slice before anyone writes into its
  // shared memory.
  cluster.sync();

  for (int s = 0; s < nt; ++s) {
    const int t = time_of(p, s);
    // Next step's projection and mask, in flight while this step's dot products run. Zeroed
    // so the last step (which loads none) leaves nothing indeterminate for the compiler to
    // warn about; they are read only when s + 1 < nt.
    T pre_next[RB][4] = {};
    bool real_next[RB] = {};
    if (s + 1 < nt) load_fwd_step<T, RB>(p, time_of(p, s + 1), b0, j, valid, pre_next, real_next);

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
        // (x·W + h·R) + bias, as in the other paths (their gemm adds h·R into x·W first).
        const LstmGates<T> z{pre[r][0] + acc[r][0] + bias[0], pre[r][1] + acc[r][1] + bias[1],
                             pre[r][2] + acc[r][2] + bias[2], pre[r][3] + acc[r][3] + bias[3]};
        const LstmGates<T> act = lstm_cell_forward<T>(z, c[r], h[r]);
        T* g = p.gates + row * ng + j;
        g[0] = act.i;
        g[nh] = act.f;
        g[2 * nh] = act.g;
        g[3 * nh] = act.o;
        ov = h[r];
      } else {
        // Masked step: h and c carry over; the output repeats h or is 0.
        ov = lstm_masked_output(h[r], p.zero_output_for_mask);
      }
      if (p.return_sequences) {
        const int pos = out_pos(p, s);
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
  T a[RB][4];  // activations i, f, g, o
  T cn[RB];    // c after the step
  T cp[RB];    // c before it (0 at the first step)
  T go[RB];    // gradient of the step's output (0 when it has none)
  bool real[RB];
};

template <class T, int RB>
__device__ __forceinline__ void load_bwd_step(const LstmPersistentBwdArgs<T>& p, int s, int64_t b0,
                                              int j, const bool (&valid)[RB], BwdStep<T, RB>& d) {
  const int nh = p.hidden, nt = p.steps;
  const int t = time_of(p, s);
  const int tp = s > 0 ? time_of(p, s - 1) : -1;
  const bool has_go = p.return_sequences || s == nt - 1;
  const int pos = out_pos(p, s);
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
    lstm_persistent_bwd_kernel(LstmPersistentBwdArgs<T> p) {
  EMBER_DYNAMIC_SHARED(unsigned char, smem_raw, 128);
  cg::cluster_group cluster = cg::this_cluster();
  const int nh = p.hidden, ng = 4 * nh, nt = p.steps, hc = p.units, bt = p.batch_tile;
  const int rank = static_cast<int>(cluster.block_rank());
  const int ncta = static_cast<int>(cluster.num_blocks());
  const int j0 = rank * hc;
  const int own = max(0, min(hc, nh - j0));
  T* rs = reinterpret_cast<T*>(smem_raw);             // [H][Hc][4]: R[j0+jl, q*H + k]
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
    const int t = time_of(p, s);
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

    // This step's pre-activation gradients (zeros at masked and absent rows), zeroed by the
    // initializer: with the cell call below, a zeroing loop trips GCC's -Wuninitialized at -O3.
    T dgs[RB][4] = {};
#pragma unroll
    for (int r = 0; r < RB; ++r) {
      if (!valid[r]) continue;
      T dhv = dh[r];
      if (s < nt - 1) {
        const T rec = (acc[r][0] + acc[r][1]) + (acc[r][2] + acc[r][3]);
        dhv += p.h_scale ? rec * hs[r] : rec;
      }
      if (!cur.real[r]) {
        // The output was the carried h (or a constant 0); the state passes through.
        lstm_masked_backward(cur.go[r], p.zero_output_for_mask, dhv);
        dh[r] = dhv;
      } else {
        const LstmGates<T> act{cur.a[r][0], cur.a[r][1], cur.a[r][2], cur.a[r][3]};
        const LstmGates<T> d =
            lstm_cell_backward<T>(act, cur.cn[r], cur.cp[r], cur.go[r], dhv, dc[r]);
        dgs[r][0] = d.i;
        dgs[r][1] = d.f;
        dgs[r][2] = d.g;
        dgs[r][3] = d.o;
        dh[r] = dhv;
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

// ---- launching --------------------------------------------------------------------------------

void set_smem(const void* kernel, int64_t bytes) {
  EMBER_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(bytes)));
}

// The launch configuration of one call (the occupancy query's; launch() passes the same grid,
// block, cluster and shared memory to launch_kernel); `attr` must outlive the query.
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
    case 1:
      f(std::integral_constant<int, 1>{});
      break;
    case 2:
      f(std::integral_constant<int, 2>{});
      break;
    case 4:
      f(std::integral_constant<int, 4>{});
      break;
    default:
      EMBER_CHECK_ARG(false, "lstm (persistent): rows per thread " << rb);
  }
}

// Launches kernel_for(rb), the instantiation for the plan's rows per thread, with `args`: the
// grid and clusters of launch_config, through the project's one launch helper.
template <class Args, class KernelFor>
void launch(const LstmPersistentPlan& plan, int64_t smem, cudaStream_t stream, const Args& args,
            KernelFor kernel_for) {
  with_rows(plan.rows_per_thread, [&](auto rb) {
    void (*kernel)(Args) = kernel_for(rb);
    set_smem(reinterpret_cast<const void*>(kernel), smem);
    const unsigned cluster = static_cast<unsigned>(plan.cluster);
    launch_kernel(KernelFor::kName, __FILE__, __LINE__, kernel,
                  dim3(cluster, static_cast<unsigned>(plan.tiles), 1),
                  dim3(static_cast<unsigned>(plan.threads), 1, 1), dim3(cluster, 1, 1),
                  static_cast<size_t>(smem), stream, args);
  });
}

// Clusters of kernel_for(rb) that fit on the current device at once (0: cannot launch).
template <class KernelFor>
int max_clusters(const LstmPersistentPlan& plan, int64_t smem, KernelFor kernel_for) {
  int clusters = 0;
  with_rows(plan.rows_per_thread, [&](auto rb) {
    const void* fn = reinterpret_cast<const void*>(kernel_for(rb));
    set_smem(fn, smem);
    cudaLaunchAttribute attr[1];
    const cudaLaunchConfig_t lc = launch_config(plan, smem, 1, nullptr, attr);
    EMBER_CUDA_CHECK(cudaOccupancyMaxActiveClusters(&clusters, fn, &lc));
  });
  return clusters;
}

// The kernels' instantiations for rb = std::integral_constant<int, RB>.
template <class T>
struct FwdKernel {
  static constexpr const char* kName = "lstm_persistent_fwd_kernel";
  template <class Rb>
  auto operator()(Rb) const {
    return &lstm_persistent_fwd_kernel<T, Rb::value>;
  }
};
template <class T>
struct BwdKernel {
  static constexpr const char* kName = "lstm_persistent_bwd_kernel";
  template <class Rb>
  auto operator()(Rb) const {
    return &lstm_persistent_bwd_kernel<T, Rb::value>;
  }
};

}  // namespace

template <class T>
void launch_lstm_persistent_forward(const LstmPersistentFwdArgs<T>& args,
                                    const LstmPersistentPlan& plan, cudaStream_t stream) {
  launch(plan, plan.smem_forward, stream, args, FwdKernel<T>{});
  EMBER_CUDA_CHECK_LAUNCH("lstm_persistent_fwd_kernel");
}

template <class T>
void launch_lstm_persistent_backward(const LstmPersistentBwdArgs<T>& args,
                                     const LstmPersistentPlan& plan, cudaStream_t stream) {
  launch(plan, plan.smem_backward, stream, args, BwdKernel<T>{});
  EMBER_CUDA_CHECK_LAUNCH("lstm_persistent_bwd_kernel");
}

template <class T>
int lstm_persistent_max_clusters(const LstmPersistentPlan& plan, bool backward) {
  return backward ? max_clusters(plan, plan.smem_backward, BwdKernel<T>{})
                  : max_clusters(plan, plan.smem_forward, FwdKernel<T>{});
}

#define EMBER_INSTANTIATE_LSTM_PERSISTENT_KERNELS(T)                                         \
  template void launch_lstm_persistent_forward<T>(const LstmPersistentFwdArgs<T>&,           \
                                                  const LstmPersistentPlan&, cudaStream_t);  \
  template void launch_lstm_persistent_backward<T>(const LstmPersistentBwdArgs<T>&,          \
                                                   const LstmPersistentPlan&, cudaStream_t); \
  template int lstm_persistent_max_clusters<T>(const LstmPersistentPlan&, bool);
EMBER_INSTANTIATE_LSTM_PERSISTENT_KERNELS(float)
EMBER_INSTANTIATE_LSTM_PERSISTENT_KERNELS(double)
#undef EMBER_INSTANTIATE_LSTM_PERSISTENT_KERNELS

}  // namespace ember::cuda
