// Kernels for optim/fused_update.h. Per-launch tensor lists travel by value in the kernel
// parameters (a few hundred bytes), so a step needs no host-to-device copy of pointers.
// Arithmetic goes through common.cuh's *_rn (the __*_rn intrinsics), which nvcc never contracts
// into FMAs: the result then rounds exactly as the CPU reference's separate operations do.
#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "optim/fused_update.h"

namespace ember::cuda {

namespace {

template <class T>
struct UpdateList {
  ParamSlices<T> t[kMaxTensorsPerLaunch];
  int count;
};

template <class T>
struct ConstList {
  const T* ptr[kMaxTensorsPerLaunch];
  int64_t n[kMaxTensorsPerLaunch];
  int64_t slot[kMaxTensorsPerLaunch];
  int count;
};

template <class T>
struct MutList {
  T* ptr[kMaxTensorsPerLaunch];
  int64_t n[kMaxTensorsPerLaunch];
  int count;
};

// Momentum (template): velocity exists; Nesterov: look ahead along the new velocity.
template <class T, bool Momentum, bool Nesterov>
__global__ void sgd_update_kernel(UpdateList<T> list, T lr, T momentum) {
  const ParamSlices<T> s = list.t[blockIdx.y];
  for (int64_t i = global_thread_index(); i < s.n; i += grid_stride()) {
    const T g = s.g[i];
    if constexpr (!Momentum) {
      s.p[i] = sub_rn(s.p[i], mul_rn(lr, g));
    } else {
      const T v = sub_rn(mul_rn(momentum, s.slot_a[i]), mul_rn(lr, g));
      s.slot_a[i] = v;
      s.p[i] = add_rn(s.p[i], Nesterov ? sub_rn(mul_rn(momentum, v), mul_rn(lr, g)) : v);
    }
  }
}

template <class T>
__global__ void adam_update_kernel(UpdateList<T> list, T alpha, T one_minus_b1, T one_minus_b2,
                                   T epsilon) {
  const ParamSlices<T> s = list.t[blockIdx.y];
  for (int64_t i = global_thread_index(); i < s.n; i += grid_stride()) {
    const T g = s.g[i];
    const T m = add_rn(s.slot_a[i], mul_rn(sub_rn(g, s.slot_a[i]), one_minus_b1));
    const T v = add_rn(s.slot_b[i], mul_rn(sub_rn(mul_rn(g, g), s.slot_b[i]), one_minus_b2));
    s.slot_a[i] = m;
    s.slot_b[i] = v;
    s.p[i] = sub_rn(s.p[i], div_rn(mul_rn(alpha, m), add_rn(sqrt_rn(v), epsilon)));
  }
}

template <class T>
__global__ void __launch_bounds__(kBlockThreads)
    sum_squares_partials_kernel(ConstList<T> list, double* __restrict__ partials) {
  EMBER_SHARED(double, scratch, kBlockThreads / kWarp);
  const T* x = list.ptr[blockIdx.y];
  const int64_t n = list.n[blockIdx.y];
  double acc = 0.0;
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) {
    const double v = static_cast<double>(x[i]);
    acc += v * v;
  }
  acc = block_sum<kBlockThreads>(acc, scratch);
  if (threadIdx.x == 0) partials[list.slot[blockIdx.y] * kNormBlocks + blockIdx.x] = acc;
}

__global__ void __launch_bounds__(kBlockThreads)
    norm_and_clip_scale_kernel(const double* __restrict__ partials, int64_t count, double clip_norm,
                               bool global, double* __restrict__ out) {
  EMBER_SHARED(double, scratch, kBlockThreads / kWarp);
  double acc = 0.0;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) acc += partials[j];
  const double norm = sqrt(block_sum<kBlockThreads>(acc, scratch));
  if (threadIdx.x != 0) return;
  out[0] = norm;
  if (global) {
    out[1] = isfinite(norm) ? clip_norm / fmax(norm, clip_norm) : nan("");
  } else {
    out[1] = norm > clip_norm ? clip_norm / norm : 1.0;
  }
}

template <class T>
__global__ void scale_by_device_scalar_kernel(MutList<T> list, const double* __restrict__ scale) {
  const double s = *scale;
  if (s == 1.0) return;
  const T ts = static_cast<T>(s);
  T* x = list.ptr[blockIdx.y];
  const int64_t n = list.n[blockIdx.y];
  for (int64_t i = global_thread_index(); i < n; i += grid_stride()) x[i] = mul_rn(x[i], ts);
}

// Blocks along x for tensors of up to max_n elements (blockIdx.y picks the tensor).
unsigned update_blocks(int64_t max_n) {
  return grid_for(max_n, kBlockThreads, 2048);
}

template <class T>
void check_list(const ParamSlices<T>* tensors, int count, const char* op) {
  EMBER_CHECK_ARG(count >= 0 && (count == 0 || tensors), op << ": bad tensor list");
  for (int i = 0; i < count; ++i)
    EMBER_CHECK_ARG(tensors[i].n >= 0 && (tensors[i].n == 0 || (tensors[i].p && tensors[i].g)),
                    op << ": tensor " << i << " has null pointers or a negative size");
}

}  // namespace

template <class T>
void sgd_update(const ParamSlices<T>* tensors, int count, T lr, T momentum, bool nesterov,
                cudaStream_t stream) {
  check_list(tensors, count, "cuda::sgd_update");
  for (int first = 0; first < count; first += kMaxTensorsPerLaunch) {
    UpdateList<T> list{};
    int64_t max_n = 0;
    bool with_velocity = false, without_velocity = false;
    for (int i = first; i < count && list.count < kMaxTensorsPerLaunch; ++i) {
      list.t[list.count++] = tensors[i];
      max_n = tensors[i].n > max_n ? tensors[i].n : max_n;
      (tensors[i].slot_a ? with_velocity : without_velocity) = true;
    }
    EMBER_CHECK_ARG(!(with_velocity && without_velocity),
                    "cuda::sgd_update: some tensors have a velocity and some do not");
    if (max_n == 0) continue;
    const dim3 grid(update_blocks(max_n), static_cast<unsigned>(list.count));
    if (!with_velocity)
      EMBER_LAUNCH((sgd_update_kernel<T, false, false>), grid, kBlockThreads, 0, stream, list, lr,
                   momentum);
    else if (nesterov)
      EMBER_LAUNCH((sgd_update_kernel<T, true, true>), grid, kBlockThreads, 0, stream, list, lr,
                   momentum);
    else
      EMBER_LAUNCH((sgd_update_kernel<T, true, false>), grid, kBlockThreads, 0, stream, list, lr,
                   momentum);
    EMBER_CUDA_CHECK_LAUNCH("sgd_update_kernel");
  }
}

template <class T>
void adam_update(const ParamSlices<T>* tensors, int count, T alpha, T beta_1, T beta_2, T epsilon,
                 cudaStream_t stream) {
  check_list(tensors, count, "cuda::adam_update");
  const T one_minus_b1 = T(1) - beta_1, one_minus_b2 = T(1) - beta_2;  // as the reference
  for (int first = 0; first < count; first += kMaxTensorsPerLaunch) {
    UpdateList<T> list{};
    int64_t max_n = 0;
    for (int i = first; i < count && list.count < kMaxTensorsPerLaunch; ++i) {
      EMBER_CHECK_ARG(tensors[i].n == 0 || (tensors[i].slot_a && tensors[i].slot_b),
                      "cuda::adam_update: tensor " << i << " lacks its m or v slot");
      list.t[list.count++] = tensors[i];
      max_n = tensors[i].n > max_n ? tensors[i].n : max_n;
    }
    if (max_n == 0) continue;
    const dim3 grid(update_blocks(max_n), static_cast<unsigned>(list.count));
    EMBER_LAUNCH(adam_update_kernel<T>, grid, kBlockThreads, 0, stream, list, alpha, one_minus_b1,
                 one_minus_b2, epsilon);
    EMBER_CUDA_CHECK_LAUNCH("adam_update_kernel");
  }
}

template <class T>
void sum_squares_partials(const T* const* tensors, const int64_t* sizes, int count,
                          int64_t first_slot, double* partials, cudaStream_t stream) {
  EMBER_CHECK_ARG(count >= 0 && first_slot >= 0, "cuda::sum_squares_partials: bad arguments");
  for (int first = 0; first < count; first += kMaxTensorsPerLaunch) {
    ConstList<T> list{};
    for (int i = first; i < count && list.count < kMaxTensorsPerLaunch; ++i) {
      list.ptr[list.count] = tensors[i];
      list.n[list.count] = sizes[i];
      list.slot[list.count] = first_slot + i;
      ++list.count;
    }
    const dim3 grid(kNormBlocks, static_cast<unsigned>(list.count));
    EMBER_LAUNCH(sum_squares_partials_kernel<T>, grid, kBlockThreads, 0, stream, list, partials);
    EMBER_CUDA_CHECK_LAUNCH("sum_squares_partials_kernel");
  }
}

void norm_and_clip_scale(const double* partials, int64_t slots, double clip_norm, bool global,
                         double* out, cudaStream_t stream) {
  EMBER_CHECK_ARG(slots >= 0 && clip_norm > 0.0,
                  "cuda::norm_and_clip_scale: slots " << slots << ", clip_norm " << clip_norm);
  EMBER_LAUNCH(norm_and_clip_scale_kernel, 1, kBlockThreads, 0, stream, partials,
               slots * kNormBlocks, clip_norm, global, out);
  EMBER_CUDA_CHECK_LAUNCH("norm_and_clip_scale_kernel");
}

template <class T>
void scale_by_device_scalar(T* const* tensors, const int64_t* sizes, int count, const double* scale,
                            cudaStream_t stream) {
  EMBER_CHECK_ARG(count >= 0, "cuda::scale_by_device_scalar: bad count " << count);
  for (int first = 0; first < count; first += kMaxTensorsPerLaunch) {
    MutList<T> list{};
    int64_t max_n = 0;
    for (int i = first; i < count && list.count < kMaxTensorsPerLaunch; ++i) {
      list.ptr[list.count] = tensors[i];
      list.n[list.count] = sizes[i];
      max_n = sizes[i] > max_n ? sizes[i] : max_n;
      ++list.count;
    }
    if (max_n == 0) continue;
    const dim3 grid(update_blocks(max_n), static_cast<unsigned>(list.count));
    EMBER_LAUNCH(scale_by_device_scalar_kernel<T>, grid, kBlockThreads, 0, stream, list, scale);
    EMBER_CUDA_CHECK_LAUNCH("scale_by_device_scalar_kernel");
  }
}

#define EMBER_INSTANTIATE_FUSED_UPDATE(T)                                                       \
  template void sgd_update<T>(const ParamSlices<T>*, int, T, T, bool, cudaStream_t);            \
  template void adam_update<T>(const ParamSlices<T>*, int, T, T, T, T, cudaStream_t);           \
  template void sum_squares_partials<T>(const T* const*, const int64_t*, int, int64_t, double*, \
                                        cudaStream_t);                                          \
  template void scale_by_device_scalar<T>(T* const*, const int64_t*, int, const double*,        \
                                          cudaStream_t);
EMBER_INSTANTIATE_FUSED_UPDATE(float)
EMBER_INSTANTIATE_FUSED_UPDATE(double)
#undef EMBER_INSTANTIATE_FUSED_UPDATE

}  // namespace ember::cuda
