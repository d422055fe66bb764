// CPU loops for tensor_ops.h, and the dispatch to engine/cuda/tensor_ops.h for CUDA tensors.
#include "engine/core/tensor_ops.h"

#include <cmath>

#ifdef EMBER_HAVE_CUDA
#include <cuda_runtime.h>

#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "engine/cuda/tensor_ops.h"
#endif

namespace ember {

namespace {
#ifdef EMBER_HAVE_CUDA
cudaStream_t stream_of(const Tensor& t) { return cuda::Context::get(t.device().index).stream(); }
#endif
}  // namespace

void add_inplace(Tensor& dst, const Tensor& src) { axpy_inplace(dst, 1.0, src); }

void axpy_inplace(Tensor& dst, double a, const Tensor& x) {
  check_same_shape(dst, x, "axpy_inplace");
  EMBER_CHECK_ARG(dst.device() == x.device(),
                  "axpy_inplace: " << dst.str() << " and " << x.str() << " are on different devices");
#ifdef EMBER_HAVE_CUDA
  if (!dst.device().is_cpu()) {
    dispatch_float(dst.dtype(), "axpy_inplace", [&](auto tag) {
      using T = decltype(tag);
      cuda::axpy<T>(dst.data<T>(), static_cast<T>(a), x.data<T>(), dst.numel(), stream_of(dst));
    });
    return;
  }
#endif
  dispatch_float(dst.dtype(), "axpy_inplace", [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T* s = x.data<T>();
    const T ta = static_cast<T>(a);
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] += ta * s[i];
  });
}

void scale_inplace(Tensor& dst, double a) {
#ifdef EMBER_HAVE_CUDA
  if (!dst.device().is_cpu()) {
    dispatch_float(dst.dtype(), "scale_inplace", [&](auto tag) {
      using T = decltype(tag);
      cuda::scale<T>(dst.data<T>(), static_cast<T>(a), dst.numel(), stream_of(dst));
    });
    return;
  }
#endif
  dispatch_float(dst.dtype(), "scale_inplace", [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T ta = static_cast<T>(a);
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] *= ta;
  });
}

double sum_squares(const Tensor& t) {
#ifdef EMBER_HAVE_CUDA
  if (!t.device().is_cpu()) {
    Tensor scratch = Tensor::empty({cuda::kSumSquaresBlocks + 1}, DType::kFloat64, t.device());
    double* p = scratch.data<double>();
    dispatch_float(t.dtype(), "sum_squares", [&](auto tag) {
      using T = decltype(tag);
      cuda::sum_squares<T>(t.data<T>(), t.numel(), p, p + cuda::kSumSquaresBlocks, stream_of(t));
    });
    double out = 0;
    EMBER_CUDA_CHECK(cudaMemcpyAsync(&out, p + cuda::kSumSquaresBlocks, sizeof(double),
                                     cudaMemcpyDeviceToHost, stream_of(t)));
    EMBER_CUDA_CHECK(cudaStreamSynchronize(stream_of(t)));
    return out;
  }
#endif
  return dispatch_float(t.dtype(), "sum_squares", [&](auto tag) {
    using T = decltype(tag);
    const T* d = t.data<T>();
    double s = 0;
    for (int64_t i = 0, n = t.numel(); i < n; ++i) s += static_cast<double>(d[i]) * d[i];
    return s;
  });
}

double max_abs_diff(const Tensor& a_in, const Tensor& b_in) {
  EMBER_CHECK_ARG(a_in.shape() == b_in.shape(), "max_abs_diff: " << a_in.str() << " vs " << b_in.str());
  const Tensor a = a_in.to(Device::cpu()), b = b_in.to(Device::cpu());
  double m = 0;
  for (int64_t i = 0, n = a.numel(); i < n; ++i) m = std::fmax(m, std::fabs(a.item(i) - b.item(i)));
  return m;
}

bool all_finite(const Tensor& t_in) {
  const Tensor t = t_in.to(Device::cpu());  // a diagnostic: one copy is fine
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (!std::isfinite(t.item(i))) return false;
  return true;
}

}  // namespace ember
