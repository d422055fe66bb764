// CPU loops for tensor_ops.h.
#include "engine/tensor_ops.h"

#include <cmath>

namespace ember {

namespace {
void require_cpu(const Tensor& t, const char* op) {
  EMBER_CHECK_ARG(t.device().is_cpu(), op << ": CUDA tensors are not supported yet, got "
                                          << t.str());
}
}  // namespace

void add_inplace(Tensor& dst, const Tensor& src) { axpy_inplace(dst, 1.0, src); }

void axpy_inplace(Tensor& dst, double a, const Tensor& x) {
  check_same_shape(dst, x, "axpy_inplace");
  require_cpu(dst, "axpy_inplace");
  dispatch_float(dst.dtype(), "axpy_inplace", [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T* s = x.data<T>();
    const T ta = static_cast<T>(a);
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] += ta * s[i];
  });
}

void scale_inplace(Tensor& dst, double a) {
  require_cpu(dst, "scale_inplace");
  dispatch_float(dst.dtype(), "scale_inplace", [&](auto tag) {
    using T = decltype(tag);
    T* d = dst.data<T>();
    const T ta = static_cast<T>(a);
    for (int64_t i = 0, n = dst.numel(); i < n; ++i) d[i] *= ta;
  });
}

double sum_squares(const Tensor& t) {
  require_cpu(t, "sum_squares");
  return dispatch_float(t.dtype(), "sum_squares", [&](auto tag) {
    using T = decltype(tag);
    const T* d = t.data<T>();
    double s = 0;
    for (int64_t i = 0, n = t.numel(); i < n; ++i) s += static_cast<double>(d[i]) * d[i];
    return s;
  });
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  EMBER_CHECK_ARG(a.shape() == b.shape(), "max_abs_diff: " << a.str() << " vs " << b.str());
  double m = 0;
  for (int64_t i = 0, n = a.numel(); i < n; ++i) m = std::fmax(m, std::fabs(a.item(i) - b.item(i)));
  return m;
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0, n = t.numel(); i < n; ++i)
    if (!std::isfinite(t.item(i))) return false;
  return true;
}

}  // namespace ember
