// Host half of the persistent LSTM (kernels/lstm/lstm_persistent.h), compiled in every build: the
// plan (cluster size N, units per CTA Hc, batch tile Bt, rows per thread RB, shared memory per
// CTA) is plain arithmetic on LstmConfig and a few device limits, so CPU tests can check it;
// lstm_persistent_supported adds the device queries, which live in lstm_persistent.cu and are
// reached only in CUDA builds with a visible device. Every refusal is a reason string.
#include "kernels/lstm/lstm_persistent.h"

#include <algorithm>
#include <sstream>

#include "engine/core/device.h"
#include "engine/cuda/index.h"

namespace ember::cuda {

namespace {

// Dynamic shared memory of one CTA, in elements: the R slice [H][Hc][4] plus the double-
// buffered exchange buffer, [2][H][Bt] (forward, h) or [2][H][Bt][4] (backward, d_gates).
int64_t smem_forward_elems(int64_t nh, int64_t hc, int64_t bt) {
  return 4 * nh * hc + 2 * nh * bt;
}
int64_t smem_backward_elems(int64_t nh, int64_t hc, int64_t bt) {
  return 4 * nh * hc + 8 * nh * bt;
}

}  // namespace

std::string lstm_persistent_plan(const LstmConfig& cfg, int elem_bytes,
                                 const LstmPersistentDevice& dev, LstmPersistentPlan* plan) {
  std::ostringstream why;
  if (cfg.batch < 1 || cfg.steps < 1 || cfg.input < 1 || cfg.hidden < 1) {
    why << "needs B, T, C, H >= 1, got B=" << cfg.batch << " T=" << cfg.steps << " C=" << cfg.input
        << " H=" << cfg.hidden;
    return why.str();
  }
  if (elem_bytes != 4 && elem_bytes != 8) {
    why << "runs float32 and float64 only (got " << elem_bytes << "-byte elements)";
    return why.str();
  }
  if (dev.compute_major < 9) {
    why << "needs compute capability 9.0 or newer (thread-block clusters and distributed "
           "shared memory); the device is "
        << dev.compute_major << ".x";
    return why.str();
  }
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden;
  // cuBLAS takes int sizes for the projection and weight-gradient gemms.
  if (nb * nt * std::max(nc, 4 * nh) >= (int64_t{1} << 31)) {
    why << "needs B*T*max(C,4H) < 2^31, got B=" << nb << " T=" << nt << " C=" << nc << " H=" << nh;
    return why.str();
  }

  // Cluster size: about kLstmPersistentUnitsTarget units per CTA, a power of two (so the grid
  // and cluster shapes stay the common, well-trodden ones), at most the portable 8.
  int64_t n = 1;
  while (n < kLstmPersistentMaxCluster && n * kLstmPersistentUnitsTarget < nh) n *= 2;
  const int64_t hc = ceil_div(nh, n);
  const int64_t elem = elem_bytes;

  // Batch tile: small tiles give more clusters (more SMs at work, shorter steps); grow the tile
  // only when the clusters would not fit on the device at once.
  int64_t bt = nb <= 4 ? 4 : 8;
  while (bt < 32 && ceil_div(nb, bt) * n > dev.sm_count) bt *= 2;
  auto too_big = [&](int64_t tile) {
    return smem_backward_elems(nh, hc, tile) * elem > dev.max_smem_per_block ||
           hc * tile / 4 > kLstmPersistentMaxThreads;
  };
  while (bt > 4 && too_big(bt)) bt /= 2;
  const int64_t need = smem_backward_elems(nh, hc, bt) * elem;
  if (need > dev.max_smem_per_block) {
    why << "H=" << nh << " does not fit: a cluster of " << n << " CTAs with " << hc
        << " units each needs " << need << " bytes of shared memory per CTA (recurrent_kernel "
        << "slice + exchange buffers, " << elem_bytes << "-byte elements, batch tile " << bt
        << "), the device allows " << dev.max_smem_per_block;
    return why.str();
  }
  if (hc * bt / 4 > kLstmPersistentMaxThreads) {
    why << "H=" << nh << " needs " << hc * bt / 4 << " threads per CTA, more than "
        << kLstmPersistentMaxThreads;
    return why.str();
  }
  int64_t rb = 1;
  while (rb < 4 && hc * bt / rb > kLstmPersistentMaxThreads) rb *= 2;
  const int64_t tiles = ceil_div(nb, bt);
  if (tiles > 65535) {  // gridDim.y
    why << "B=" << nb << " needs " << tiles << " batch tiles, more than 65535";
    return why.str();
  }
  if (plan) {
    plan->cluster = static_cast<int>(n);
    plan->units = static_cast<int>(hc);
    plan->batch_tile = static_cast<int>(bt);
    plan->rows_per_thread = static_cast<int>(rb);
    plan->threads = static_cast<int>(hc * bt / rb);
    plan->tiles = tiles;
    plan->smem_forward = smem_forward_elems(nh, hc, bt) * elem;
    plan->smem_backward = need;
  }
  return "";
}

bool lstm_persistent_supported(const LstmConfig& cfg, DType dt, std::string* why, int device) {
  std::string reason;
  if (dt != DType::kFloat32 && dt != DType::kFloat64) {
    reason = std::string("runs float32 and float64 only, got ") + dtype_name(dt);
  } else {
#ifndef EMBER_HAVE_CUDA
    (void)cfg;
    (void)device;
    reason = "this build has no CUDA support (the persistent LSTM is a CUDA kernel)";
#else
    if (cuda_device_count() == 0)
      reason = "no CUDA device is visible";
    else
      reason = lstm_persistent_device_check(cfg, dt, device);
#endif
  }
  if (why) *why = reason;
  return reason.empty();
}

}  // namespace ember::cuda
