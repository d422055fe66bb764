// fn::global_max_pool1d over kernels/pooling.h: x [B,T,C] -> [B,C]. The backward needs only
// the argmax [B,C] (int32), not x, so that is all the node keeps: the gradient goes to the
// first maximal step of each (b, c), as the kernel's contract says.
#include "kernels/pooling_dispatch.h"
#include "layers/functional.h"

namespace ember::fn {

Var global_max_pool1d(const Var& x) {
  EMBER_CHECK_ARG(x.defined(), "global_max_pool1d: input is undefined");
  const Tensor& xv = x.value();
  const kern::Exec ex = kern::Exec::of(xv, "global_max_pool1d", "input");
  EMBER_CHECK_ARG(xv.ndim() == 3 && xv.size(1) >= 1,
                  "global_max_pool1d: input must be [B,T,C] with T >= 1, got " << xv.shape().str());
  const int64_t batch = xv.size(0), steps = xv.size(1), channels = xv.size(2);
  return dispatch_float(xv.dtype(), "global_max_pool1d", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(Shape{batch, channels}, xv.dtype(), ex.device);
    Tensor argmax = Tensor::empty(Shape{batch, channels}, DType::kInt32, ex.device);
    kern::global_max_pool1d_forward<T>(ex, xv.data<T>(), y.data<T>(), argmax.data<int32_t>(), batch,
                                       steps, channels);
    return ag::record1("global_max_pool1d", {x}, y,
                       [argmax, batch, steps, channels, ex](const std::vector<const Tensor*>& d_out,
                                                            ag::GradInputs& d_in) {
                         Tensor* d_x = d_in.get(0);
                         if (!d_x || !d_out[0]) return;
                         kern::global_max_pool1d_backward<T>(ex, d_out[0]->data<T>(),
                                                             argmax.data<int32_t>(), d_x->data<T>(),
                                                             batch, steps, channels);
                       });
  });
}

}  // namespace ember::fn
