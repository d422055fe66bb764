// The persistent LSTM for Hopper (sm_90): ref::lstm_forward / lstm_backward's contract
// (kernels/lstm/lstm.h: LstmConfig, LstmSaved with the reference's meaning, gradients accumulated)
// with the whole recurrence in ONE kernel launch per direction instead of a gemm and a gate
// kernel per step. Dims as in lstm.h: B batch, T time, C input, H hidden, G = 4H.
//
// Design. The input projection x·kernel stays one cuBLAS gemm over all B*T rows, and the
// weight gradients stay gemms over all B*T rows after the backward recurrence (as lstm.cu).
// Only the recurrence is persistent. Batch rows are independent, so the grid is
// (N CTAs of one thread-block cluster) x (ceil(B / Bt) batch tiles). CTA r of a cluster owns
// hidden units [r*Hc, min(H, (r+1)*Hc)), Hc = ceil(H/N), with all four gates of each, so the
// pointwise gate math stays in the thread that computed the unit's four dot products. Each CTA
// keeps its slice of recurrent_kernel in shared memory for the whole sequence; every step it
// writes its new values into every CTA's shared buffer through distributed shared memory and
// the cluster meets at ONE barrier (cluster.sync) per step; the buffers are double-buffered,
// so that barrier both publishes step s and frees step s-1's buffer.
//  - forward: R slice Rf[k][jl][q] = R[k, q*H + j0 + jl] ([H][Hc][4]) and the recurrent
//    operand (h * recurrent dropout factor) hbuf[2][H][Bt]; thread (jl, batch group) computes
//    the 4 gates of unit j0+jl for RB rows (4*RB dot products of length H);
//  - backward: R^T slice Rb[k][jl][q] = R[j0 + jl, q*H + k] ([H][Hc][4]) and the step's
//    pre-activation gradients dgbuf[2][H][Bt][4]; thread (jl, group) forms
//    dh[b, j] = sum_g d_gates[b, g] * R[j, g] for its rows, then the gate backward; d_gates
//    also go to global memory [B,T,G] for the weight gradient gemms.
// Shared memory per CTA, E = sizeof(element): forward (4*H*Hc + 2*H*Bt) * E, backward
// (4*H*Hc + 8*H*Bt) * E. E.g. float32 H=128 (N=8, Hc=16, Bt=8): 40 KiB / 64 KiB; H=50 (N=4,
// Hc=13, Bt=8): 13,600 / 23,200 bytes. One plan serves both directions (the backward's budget).
//
// Plan (lstm_persistent_plan, plain host arithmetic): N = the smallest power of two with
// N*16 >= H, at most 8 (the portable cluster size); Bt = 8 (4 when B <= 4), doubled up to 32
// while ceil(B/Bt)*N exceeds the SM count, then halved while the backward's shared memory
// exceeds the device's opt-in limit (227 KB on H100) or the block would pass 256 threads;
// RB = the smallest of 1, 2, 4 keeping Hc*Bt/RB <= 256 threads. A shape that still does not
// fit (float32: H above about 310; float64: about 205) is refused with the reason.
//
// Per-step floor (estimates, not yet measured on hardware): one cluster barrier plus DSMEM
// stores (a few hundred ns) and H dependent iterations of a shared-memory FMA loop per thread
// (RB=1: ~6 instructions per iteration, so ~0.4 us at H=128), against the fused path's gemm +
// kernel launch per step. The forward and backward loops prefetch the next step's global
// operands so that their latency overlaps the dot products.
//
// Numerics and determinism: activations as lstm_gates.cu (expf/tanhf, exp/tanh); every sum in
// a fixed order (each dot product sequential in k; the backward's four gate partials summed
// pairwise), no atomics: results repeat bit for bit. They differ from the fused path in the
// last bits (different summation order than cuBLAS). float32 and float64 both run here (no
// fallback); float64 needs twice the shared memory, so it is refused at a smaller H.
// Dropout factors come from cuda::dropout_factors: bit-identical to the reference's.
#pragma once

#include <cstdint>
#include <string>

#include "kernels/lstm/lstm.h"

namespace ember::cuda {

// Upper bound of threads per CTA; the kernels are compiled with this __launch_bounds__.
constexpr int kLstmPersistentMaxThreads = 256;
// The cluster size aims at this many hidden units per CTA (see the plan above).
constexpr int kLstmPersistentUnitsTarget = 16;
// The portable (guaranteed schedulable) cluster size limit.
constexpr int kLstmPersistentMaxCluster = 8;

// What the plan needs to know about the device (H100 SXM values as defaults).
struct LstmPersistentDevice {
  int compute_major = 9;                    // clusters and DSMEM need 9.0
  int sm_count = 132;                       // multiprocessors
  int64_t max_smem_per_block = 227 * 1024;  // cudaDevAttrMaxSharedMemoryPerBlockOptin
};

// How one call is laid out on the device.
struct LstmPersistentPlan {
  int cluster = 0;           // N: CTAs per cluster, a power of two in [1, 8]
  int units = 0;             // Hc = ceil(H / N) hidden units per CTA (the last may own fewer)
  int batch_tile = 0;        // Bt: batch rows per cluster: 4, 8, 16 or 32
  int rows_per_thread = 0;   // RB: 1, 2 or 4 batch rows per thread
  int threads = 0;           // per CTA: Hc * Bt / RB
  int64_t tiles = 0;         // clusters in the grid: ceil(B / Bt)
  int64_t smem_forward = 0;  // dynamic shared memory per CTA, bytes
  int64_t smem_backward = 0;
};

// "" with *plan filled when the persistent kernels can run cfg with elements of elem_bytes
// (4: float32, 8: float64) on a device like `dev`; else the reason, naming the limit. Plain
// host arithmetic, no CUDA calls: usable (and tested) in every build.
std::string lstm_persistent_plan(const LstmConfig& cfg, int elem_bytes,
                                 const LstmPersistentDevice& dev, LstmPersistentPlan* plan);

// Whether implementation 'persistent' can run cfg in dtype dt on CUDA device `device` (-1:
// the current one). Callable in every build and on machines without a GPU: false with a
// reason in *why (may be null) for a CPU-only build, no visible device, a device older than
// sm_90, a dtype other than float32/float64, or a shape whose slices do not fit in shared
// memory or whose cluster cannot be scheduled. Never throws for these; leaves the current
// device as it found it.
bool lstm_persistent_supported(const LstmConfig& cfg, DType dt, std::string* why, int device = -1);

// ---- CUDA (EMBER_HAVE_CUDA builds only; lstm_persistent.cu, lstm_persistent_kernels.cu) ----

// The device half of lstm_persistent_supported: device limits (queried once per device), the
// plan, then cudaOccupancyMaxActiveClusters for both kernels (cached). "" or the reason.
std::string lstm_persistent_device_check(const LstmConfig& cfg, DType dt, int device);

// cuda::lstm_forward / lstm_backward's contract (kernels/lstm/lstm.h), every pointer in device
// memory of run.device (the current device), queued on run.stream, no host synchronization.
// Forward: dropout factors and the input projection as lstm.cu (both call lstm_forward_start
// of kernels/lstm/lstm_cuda.h), then one persistent kernel for all T steps; `saved` gets the
// reference's tensors (gates are activations at real rows, the projection at masked ones).
// Backward: one persistent kernel for the recurrence (writes d_gates [B,T,G]), then, as
// lstm.cu (lstm_gradients_from_gates), the weight gradients as gemms and d_bias by the
// deterministic column sum. Gradients ACCUMULATE (+=); null ones are skipped. The backward
// accepts the saved tensors of either CUDA forward (they mean the same). Throws
// std::invalid_argument naming the shape and the reason when lstm_persistent_supported is
// false. float and double.
template <class T>
void lstm_persistent_forward(const LstmConfig& cfg, const T* x, const T* kernel,
                             const T* recurrent_kernel, const T* bias, const uint8_t* mask, T* out,
                             LstmSaved* saved, const LstmRun& run);
template <class T>
void lstm_persistent_backward(const LstmConfig& cfg, const T* x, const T* kernel,
                              const T* recurrent_kernel, const uint8_t* mask,
                              const LstmSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                              T* d_recurrent_kernel, T* d_bias, const LstmRun& run);

}  // namespace ember::cuda
