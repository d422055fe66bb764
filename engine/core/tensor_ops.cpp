// tensor_ops.h over engine/core/tensor_ops_dispatch.h, which holds the CPU loops and the switch to
// engine/cuda/tensor_ops.h for CUDA tensors: one body per op.
#include "engine/core/tensor_ops.h"

#include <cmath>

#include "engine/core/tensor_ops_dispatch.h"

namespace ember {

void add_inplace(Tensor& dst, const Tensor& src) {
  axpy_inplace(dst, 1.0, src);
}

void axpy_inplace(Tensor& dst, double a, const Tensor& x) {
  check_same_shape(dst, x, "axpy_inplace");
  EMBER_CHECK_ARG(dst.device() == x.device(), "axpy_inplace: " << dst.str() << " and " << x.str()
                                                               << " are on different devices");
  const kern::Exec ex = kern::Exec::of(dst.device());
  dispatch_float(dst.dtype(), "axpy_inplace", [&](auto tag) {
    using T = decltype(tag);
    kern::axpy<T>(ex, dst.data<T>(), static_cast<T>(a), x.data<T>(), dst.numel());
  });
}

void scale_inplace(Tensor& dst, double a) {
  const kern::Exec ex = kern::Exec::of(dst.device());
  dispatch_float(dst.dtype(), "scale_inplace", [&](auto tag) {
    using T = decltype(tag);
    kern::scale<T>(ex, dst.data<T>(), static_cast<T>(a), dst.numel());
  });
}

double sum_squares(const Tensor& t) {
  const kern::Exec ex = kern::Exec::of(t.device());
  const int64_t scratch_n = kern::sum_squares_scratch(ex);
  Tensor scratch =
      scratch_n > 0 ? Tensor::empty({scratch_n}, DType::kFloat64, t.device()) : Tensor();
  double* p = scratch.defined() ? scratch.data<double>() : nullptr;
  return dispatch_float(t.dtype(), "sum_squares", [&](auto tag) {
    using T = decltype(tag);
    return kern::sum_squares<T>(ex, t.data<T>(), t.numel(), p);
  });
}

double max_abs_diff(const Tensor& a_in, const Tensor& b_in) {
  EMBER_CHECK_ARG(a_in.shape() == b_in.shape(),
                  "max_abs_diff: " << a_in.str() << " vs " << b_in.str());
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
