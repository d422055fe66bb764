// fn::dropout and fn::spatial_dropout1d over kernels/dropout.h. Nothing is saved for the
// backward but (rate, seed, offset, index base): the mask is a pure function of them and is
// redrawn, which costs one Philox evaluation per element instead of a mask tensor in memory. CUDA
// inputs run the cuda:: kernels on the device's context stream; they draw the same masks.
#include "kernels/dropout.h"
#include "layers/functional.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#endif

namespace ember::fn {

namespace {

void check_dropout_args(const Var& x, double rate, const char* op) {
  EMBER_CHECK_ARG(x.defined(), op << ": input is undefined");
#ifndef EMBER_HAVE_CUDA
  EMBER_CHECK_ARG(x.value().device().is_cpu(), op << ": input " << x.value().str()
                                                  << " is on a CUDA device, but this build has "
                                                     "no CUDA support");
#endif
  EMBER_CHECK_ARG(rate >= 0.0 && rate <= 1.0,
                  op << ": rate " << rate << " is not in [0, 1] (input " << x.value().str() << ")");
}

#ifdef EMBER_HAVE_CUDA
cudaStream_t stream_of(Device dev) { return cuda::Context::get(dev.index).stream(); }
#endif

}  // namespace

Var dropout(const Var& x, double rate, uint64_t seed, uint64_t offset, uint64_t base) {
  check_dropout_args(x, rate, "dropout");
  const Tensor& xv = x.value();
  const int64_t n = xv.numel();
#ifdef EMBER_HAVE_CUDA
  if (!xv.device().is_cpu()) {
    const Device dev = xv.device();
    return dispatch_float(xv.dtype(), "dropout", [&](auto tag) {
      using T = decltype(tag);
      Tensor y = Tensor::empty(xv.shape(), xv.dtype(), dev);
      cuda::dropout_forward<T>(xv.data<T>(), y.data<T>(), n, rate, seed, offset, stream_of(dev),
                               base);
      return ag::record1("dropout", {x}, y,
                         [n, rate, seed, offset, base, dev](const std::vector<const Tensor*>& d_out,
                                                            ag::GradInputs& d_in) {
                           Tensor* d_x = d_in.get(0);
                           if (!d_x || !d_out[0]) return;
                           cuda::dropout_backward<T>(d_out[0]->data<T>(), d_x->data<T>(), n, rate,
                                                     seed, offset, stream_of(dev), base);
                         });
    });
  }
#endif
  return dispatch_float(xv.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype());
    ref::dropout_forward<T>(xv.data<T>(), y.data<T>(), n, rate, seed, offset, base);
    return ag::record1("dropout", {x}, y,
                       [n, rate, seed, offset, base](const std::vector<const Tensor*>& d_out,
                                                     ag::GradInputs& d_in) {
                         Tensor* d_x = d_in.get(0);
                         if (!d_x || !d_out[0]) return;
                         ref::dropout_backward<T>(d_out[0]->data<T>(), d_x->data<T>(), n, rate,
                                                  seed, offset, base);
                       });
  });
}

Var spatial_dropout1d(const Var& x, double rate, uint64_t seed, uint64_t offset, uint64_t base) {
  check_dropout_args(x, rate, "spatial_dropout1d");
  const Tensor& xv = x.value();
  EMBER_CHECK_ARG(xv.ndim() == 3,
                  "spatial_dropout1d: input must be [B,T,C], got " << xv.shape().str());
  const int64_t batch = xv.size(0), steps = xv.size(1), channels = xv.size(2);
#ifdef EMBER_HAVE_CUDA
  if (!xv.device().is_cpu()) {
    const Device dev = xv.device();
    return dispatch_float(xv.dtype(), "spatial_dropout1d", [&](auto tag) {
      using T = decltype(tag);
      Tensor y = Tensor::empty(xv.shape(), xv.dtype(), dev);
      cuda::spatial_dropout1d_forward<T>(xv.data<T>(), y.data<T>(), batch, steps, channels, rate,
                                         seed, offset, stream_of(dev), base);
      return ag::record1("spatial_dropout1d", {x}, y,
                         [batch, steps, channels, rate, seed, offset, base, dev](
                             const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                           Tensor* d_x = d_in.get(0);
                           if (!d_x || !d_out[0]) return;
                           cuda::spatial_dropout1d_backward<T>(d_out[0]->data<T>(), d_x->data<T>(),
                                                               batch, steps, channels, rate, seed,
                                                               offset, stream_of(dev), base);
                         });
    });
  }
#endif
  return dispatch_float(xv.dtype(), "spatial_dropout1d", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype());
    ref::spatial_dropout1d_forward<T>(xv.data<T>(), y.data<T>(), batch, steps, channels, rate, seed,
                                      offset, base);
    return ag::record1("spatial_dropout1d", {x}, y,
                       [batch, steps, channels, rate, seed, offset, base](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* d_x = d_in.get(0);
                         if (!d_x || !d_out[0]) return;
                         ref::spatial_dropout1d_backward<T>(d_out[0]->data<T>(), d_x->data<T>(),
                                                            batch, steps, channels, rate, seed,
                                                            offset, base);
                       });
  });
}

}  // namespace ember::fn
