// fn::dropout and fn::spatial_dropout1d over kernels/dropout.h. Nothing is saved for the
// backward but (rate, seed, offset, index base): the mask is a pure function of them and is
// redrawn, which costs one Philox evaluation per element instead of a mask tensor in memory. CUDA
// inputs run the cuda:: kernels on the device's context stream; they draw the same masks.
#include "kernels/dropout_dispatch.h"
#include "layers/functional.h"

namespace ember::fn {

namespace {

kern::Exec check_dropout_args(const Var& x, double rate, const char* op) {
  EMBER_CHECK_ARG(x.defined(), op << ": input is undefined");
  const kern::Exec ex = kern::Exec::of(x.value(), op, "input");
  EMBER_CHECK_ARG(rate >= 0.0 && rate <= 1.0,
                  op << ": rate " << rate << " is not in [0, 1] (input " << x.value().str() << ")");
  return ex;
}

}  // namespace

Var dropout(const Var& x, double rate, uint64_t seed, uint64_t offset, uint64_t base) {
  const kern::Exec ex = check_dropout_args(x, rate, "dropout");
  const Tensor& xv = x.value();
  const int64_t n = xv.numel();
  return dispatch_float(xv.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype(), ex.device);
    kern::dropout_forward<T>(ex, xv.data<T>(), y.data<T>(), n, rate, seed, offset, base);
    return ag::record1("dropout", {x}, y,
                       [n, rate, seed, offset, base, ex](const std::vector<const Tensor*>& d_out,
                                                         ag::GradInputs& d_in) {
                         Tensor* d_x = d_in.get(0);
                         if (!d_x || !d_out[0]) return;
                         kern::dropout_backward<T>(ex, d_out[0]->data<T>(), d_x->data<T>(), n, rate,
                                                   seed, offset, base);
                       });
  });
}

Var spatial_dropout1d(const Var& x, double rate, uint64_t seed, uint64_t offset, uint64_t base) {
  const kern::Exec ex = check_dropout_args(x, rate, "spatial_dropout1d");
  const Tensor& xv = x.value();
  EMBER_CHECK_ARG(xv.ndim() == 3,
                  "spatial_dropout1d: input must be [B,T,C], got " << xv.shape().str());
  const int64_t batch = xv.size(0), steps = xv.size(1), channels = xv.size(2);
  return dispatch_float(xv.dtype(), "spatial_dropout1d", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype(), ex.device);
    kern::spatial_dropout1d_forward<T>(ex, xv.data<T>(), y.data<T>(), batch, steps, channels, rate,
                                       seed, offset, base);
    return ag::record1("spatial_dropout1d", {x}, y,
                       [batch, steps, channels, rate, seed, offset, base, ex](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* d_x = d_in.get(0);
                         if (!d_x || !d_out[0]) return;
                         kern::spatial_dropout1d_backward<T>(ex, d_out[0]->data<T>(),
                                                             d_x->data<T>(), batch, steps, channels,
                                                             rate, seed, offset, base);
                       });
  });
}

}  // namespace ember::fn
