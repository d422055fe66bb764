// See update_dispatch.h. The CPU halves are the loops Sgd, Adam and clip.cpp always ran, now
// spread over the CPU thread pool; the CUDA halves the fused launches they made, moved here
// unchanged.
#include "optim/update_dispatch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/core/parallel.h"
#include "engine/core/tensor_ops.h"
#include "optim/adam.h"
#include "optim/sgd.h"

namespace ember::kern {

namespace {

// f(s, begin, end) over every listed tensor, each cut into contiguous ranges spread over the
// pool (engine/core/parallel.h). The updates are element-wise, so the split changes no bits.
template <class T, class F>
void for_each_range(const std::vector<ParamSlices<T>>& list, const F& f) {
  for (const ParamSlices<T>& s : list)
    par::parallel_ranges(s.n, par::kGrain, [&](int64_t begin, int64_t end) { f(s, begin, end); });
}

template <class T>
void sgd_host(const std::vector<ParamSlices<T>>& list, double lr, double momentum, bool nesterov) {
  for_each_range(list, [&](const ParamSlices<T>& s, int64_t i, int64_t end) {
    ref::sgd_update<T>(s.p + i, s.g + i, s.slot_a ? s.slot_a + i : nullptr, end - i,
                       static_cast<T>(lr), static_cast<T>(momentum), nesterov);
  });
}

template <class T>
void adam_host(const std::vector<ParamSlices<T>>& list, double alpha, double beta_1, double beta_2,
               double epsilon) {
  for_each_range(list, [&](const ParamSlices<T>& s, int64_t i, int64_t end) {
    ref::adam_update<T>(s.p + i, s.g + i, s.slot_a + i, s.slot_b + i, end - i,
                        static_cast<T>(alpha), static_cast<T>(beta_1), static_cast<T>(beta_2),
                        static_cast<T>(epsilon));
  });
}

// {norm, factor} on the host, as clip.cpp computed them for CPU gradients.
Tensor host_norm(const std::vector<Tensor*>& grads, double clip_norm, bool global, bool apply) {
  double sum = 0.0;
  for (Tensor* g : grads) sum += sum_squares(*g);
  const double norm = std::sqrt(sum);
  double factor = 1.0;
  if (global)
    factor = std::isfinite(norm) ? clip_norm / std::fmax(norm, clip_norm)
                                 : std::numeric_limits<double>::quiet_NaN();
  else if (norm > clip_norm)
    factor = clip_norm / norm;
  if (apply && factor != 1.0)  // nothing to clip: skip a pass over every gradient
    for (Tensor* g : grads) scale_inplace(*g, factor);
  Tensor out = Tensor::empty(Shape{2}, DType::kFloat64);
  out.data<double>()[0] = norm;
  out.data<double>()[1] = factor;
  return out;
}

#ifdef EMBER_HAVE_CUDA
Tensor device_norm(const Exec& ex, const std::vector<Tensor*>& grads, double clip_norm, bool global,
                   bool apply) {
  const int64_t count = static_cast<int64_t>(grads.size());
  Tensor partials = Tensor::empty(Shape{count * cuda::kNormBlocks}, DType::kFloat64, ex.device);
  Tensor out = Tensor::empty(Shape{2}, DType::kFloat64, ex.device);
  // float32 tensors take the first slots, float64 the rest, each group in list order.
  std::vector<float*> f32;
  std::vector<double*> f64;
  std::vector<int64_t> n32, n64;
  for (Tensor* g : grads) {
    dispatch_float(g->dtype(), "clip", [&](auto tag) {
      using T = decltype(tag);
      if constexpr (std::is_same_v<T, float>) {
        f32.push_back(g->data<float>());
        n32.push_back(g->numel());
      } else {
        f64.push_back(g->data<double>());
        n64.push_back(g->numel());
      }
    });
  }
  const int c32 = static_cast<int>(f32.size()), c64 = static_cast<int>(f64.size());
  double* p = partials.data<double>();
  cudaStream_t stream = ex.stream;
  if (c32) cuda::sum_squares_partials<float>(f32.data(), n32.data(), c32, 0, p, stream);
  if (c64) cuda::sum_squares_partials<double>(f64.data(), n64.data(), c64, c32, p, stream);
  cuda::norm_and_clip_scale(p, count, clip_norm, global, out.data<double>(), stream);
  if (apply) {
    const double* factor = out.data<double>() + 1;
    if (c32) cuda::scale_by_device_scalar<float>(f32.data(), n32.data(), c32, factor, stream);
    if (c64) cuda::scale_by_device_scalar<double>(f64.data(), n64.data(), c64, factor, stream);
  }
  return out;
}
#endif

}  // namespace

void UpdateList::add(const char* op, Tensor& p, const Tensor& g, Tensor* a, Tensor* b) {
  dispatch_float(p.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    const ParamSlices<T> s{p.data<T>(), g.data<T>(), a ? a->data<T>() : nullptr,
                           b ? b->data<T>() : nullptr, p.numel()};
    if constexpr (std::is_same_v<T, float>)
      f32.push_back(s);
    else
      f64.push_back(s);
  });
}

void sgd_update(const Exec& ex, const UpdateList& list, double lr, double momentum, bool nesterov) {
  const auto& [f32, f64] = list;
  EMBER_BACKEND(
      ex, sgd_host(f32, lr, momentum, nesterov);
      sgd_host(f64, lr, momentum, nesterov),
      cuda::sgd_update<float>(f32.data(), static_cast<int>(f32.size()), static_cast<float>(lr),
                              static_cast<float>(momentum), nesterov, ex.stream);
      cuda::sgd_update<double>(f64.data(), static_cast<int>(f64.size()), lr, momentum, nesterov,
                               ex.stream));
}

void adam_update(const Exec& ex, const UpdateList& list, double alpha, double beta_1, double beta_2,
                 double epsilon) {
  const auto& [f32, f64] = list;
  EMBER_BACKEND(
      ex, adam_host(f32, alpha, beta_1, beta_2, epsilon);
      adam_host(f64, alpha, beta_1, beta_2, epsilon),
      cuda::adam_update<float>(f32.data(), static_cast<int>(f32.size()), static_cast<float>(alpha),
                               static_cast<float>(beta_1), static_cast<float>(beta_2),
                               static_cast<float>(epsilon), ex.stream);
      cuda::adam_update<double>(f64.data(), static_cast<int>(f64.size()), alpha, beta_1, beta_2,
                                epsilon, ex.stream));
}

Tensor norm_and_clip(const Exec& ex, const std::vector<Tensor*>& grads, double clip_norm,
                     bool global, bool apply) {
  Tensor out;
  EMBER_BACKEND(ex, out = host_norm(grads, clip_norm, global, apply),
                out = device_norm(ex, grads, clip_norm, global, apply));
  return out;
}

}  // namespace ember::kern
