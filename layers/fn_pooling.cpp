// fn::global_max_pool1d over kernels/pooling.h: x [B,T,C] -> [B,C]. The backward needs only
// the argmax [B,C] (int32), not x, so that is all the node keeps: the gradient goes to the
// first maximal step of each (b, c), as the kernel's contract says.
#include "kernels/pooling.h"
#include "layers/functional.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#endif

namespace ember::fn {

Var global_max_pool1d(const Var& x) {
  EMBER_CHECK_ARG(x.defined(), "global_max_pool1d: input is undefined");
  const Tensor& xv = x.value();
#ifndef EMBER_HAVE_CUDA
  EMBER_CHECK_ARG(xv.device().is_cpu(), "global_max_pool1d: input " << xv.str()
                                            << " is on a CUDA device, but this build has no CUDA "
                                               "support");
#endif
  EMBER_CHECK_ARG(xv.ndim() == 3 && xv.size(1) >= 1,
                  "global_max_pool1d: input must be [B,T,C] with T >= 1, got " << xv.shape().str());
  const int64_t batch = xv.size(0), steps = xv.size(1), channels = xv.size(2);
#ifdef EMBER_HAVE_CUDA
  if (!xv.device().is_cpu()) {
    const Device dev = xv.device();
    return dispatch_float(xv.dtype(), "global_max_pool1d", [&](auto tag) {
      using T = decltype(tag);
      Tensor y = Tensor::empty(Shape{batch, channels}, xv.dtype(), dev);
      Tensor argmax = Tensor::empty(Shape{batch, channels}, DType::kInt32, dev);
      cuda::global_max_pool1d_forward<T>(xv.data<T>(), y.data<T>(), argmax.data<int32_t>(), batch,
                                         steps, channels, cuda::Context::get(dev.index).stream());
      return ag::record1("global_max_pool1d", {x}, y,
                         [argmax, batch, steps, channels, dev](
                             const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                           Tensor* d_x = d_in.get(0);
                           if (!d_x || !d_out[0]) return;
                           cuda::global_max_pool1d_backward<T>(
                               d_out[0]->data<T>(), argmax.data<int32_t>(), d_x->data<T>(), batch,
                               steps, channels, cuda::Context::get(dev.index).stream());
                         });
    });
  }
#endif
  return dispatch_float(xv.dtype(), "global_max_pool1d", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(Shape{batch, channels}, xv.dtype());
    Tensor argmax = Tensor::empty(Shape{batch, channels}, DType::kInt32);
    ref::global_max_pool1d_forward<T>(xv.data<T>(), y.data<T>(), argmax.data<int32_t>(), batch,
                                      steps, channels);
    return ag::record1("global_max_pool1d", {x}, y,
                       [argmax, batch, steps, channels](const std::vector<const Tensor*>& d_out,
                                                        ag::GradInputs& d_in) {
                         Tensor* d_x = d_in.get(0);
                         if (!d_x || !d_out[0]) return;
                         ref::global_max_pool1d_backward<T>(d_out[0]->data<T>(),
                                                            argmax.data<int32_t>(), d_x->data<T>(),
                                                            batch, steps, channels);
                       });
  });
}

}  // namespace ember::fn
