// fn::dense and the activations (fn::activation, parse_activation, activation_name) over
// kernels/dense.h and kernels/activations.h. dense views a [B,T,C] input as [B*T,C] (a
// reshape shares storage, no copy), so one gemm covers every step, as Keras's Dense on 3-D.
// activation saves only its output: every derivative is written in terms of y. CUDA inputs
// run the cuda:: launchers (cuBLAS through the device context's handle, bound to its stream).
#include <string>

#include "kernels/dense_dispatch.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

namespace ember::fn {

Activation parse_activation(const std::string& name) {
  if (name.empty() || name == "linear" || name == "None" || name == "none")
    return Activation::kLinear;
  if (name == "relu") return Activation::kRelu;
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "tanh") return Activation::kTanh;
  if (name == "softmax") return Activation::kSoftmax;
  EMBER_CHECK_ARG(false, "unknown activation '" << name
                                                << "'; known: linear (or None), relu, sigmoid, "
                                                   "tanh, softmax");
  return Activation::kLinear;  // unreachable
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kLinear:
      return "linear";
    case Activation::kRelu:
      return "relu";
    case Activation::kSigmoid:
      return "sigmoid";
    case Activation::kTanh:
      return "tanh";
    case Activation::kSoftmax:
      return "softmax";
  }
  return "?";
}

Var activation(const Var& x, Activation a) {
  EMBER_CHECK_ARG(x.defined(), "activation: input is undefined");
  if (a == Activation::kLinear) return x;  // Keras's linear is the identity: no node
  const Tensor& xv = x.value();
  const kern::Exec ex = kern::Exec::of(xv, activation_name(a), "");
  const int64_t n = xv.numel();
  int64_t classes = 1;
  if (a == Activation::kSoftmax) {
    EMBER_CHECK_ARG(xv.ndim() >= 1 && xv.size(-1) > 0,
                    "softmax: needs a non-empty last axis, got " << xv.shape().str());
    classes = xv.size(-1);
  }
  return dispatch_float(xv.dtype(), activation_name(a), [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype(), ex.device);
    kern::activation_forward<T>(ex, a, xv.data<T>(), y.data<T>(), n, classes);
    // The lambda keeps y alive (shared storage with the output Var's value); nothing else.
    return ag::record1(
        activation_name(a), {x}, y,
        [a, y, n, classes, ex](const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
          Tensor* d_x = d_in.get(0);
          if (!d_x || !d_out[0]) return;
          kern::activation_backward<T>(ex, a, y.data<T>(), d_out[0]->data<T>(), d_x->data<T>(), n,
                                       classes);
        });
  });
}

Var dense(const Var& x, const Var& kernel, const Var& bias) {
  EMBER_CHECK_ARG(x.defined() && kernel.defined(), "dense: input or kernel is undefined");
  const Tensor& xv = x.value();
  const Tensor& kv = kernel.value();
  const kern::Exec ex = kern::Exec::of(xv, "dense", "");
  detail::check_same_device(xv, kv, "dense", "input", "kernel");
  EMBER_CHECK_ARG(xv.ndim() == 2 || xv.ndim() == 3,
                  "dense: input must be [N,C] or [B,T,C], got " << xv.shape().str());
  EMBER_CHECK_ARG(kv.ndim() == 2 && kv.size(0) == xv.size(-1) && kv.size(0) > 0,
                  "dense: kernel " << kv.shape().str() << " does not fit input " << xv.shape().str()
                                   << " (expected [C,U] with C = " << xv.size(-1) << ")");
  EMBER_CHECK_ARG(kv.dtype() == xv.dtype(),
                  "dense: kernel " << kv.str() << " and input " << xv.str() << " differ in dtype");
  const int64_t in_features = kv.size(0), units = kv.size(1);
  const int64_t rows = xv.numel() / in_features;
  if (bias.defined()) {
    const Tensor& bv = bias.value();
    detail::check_same_device(kv, bv, "dense", "kernel", "bias");
    EMBER_CHECK_ARG(bv.ndim() == 1 && bv.size(0) == units && bv.dtype() == kv.dtype(),
                    "dense: bias " << bv.str() << " does not fit kernel " << kv.str()
                                   << " (expected [" << units << "])");
  }
  const Shape out_shape =
      xv.ndim() == 2 ? Shape{rows, units} : Shape{xv.size(0), xv.size(1), units};
  std::vector<Var> inputs{x, kernel};
  if (bias.defined()) inputs.push_back(bias);

  return dispatch_float(xv.dtype(), "dense", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(out_shape, xv.dtype(), ex.device);
    const bool has_bias = bias.defined();
    kern::dense_forward<T>(ex, xv.data<T>(), kv.data<T>(),
                           has_bias ? bias.value().data<T>() : nullptr, y.data<T>(), rows,
                           in_features, units);
    return ag::record1(
        "dense", inputs, y,
        [xv, kv, has_bias, rows, in_features, units, ex](const std::vector<const Tensor*>& d_out,
                                                         ag::GradInputs& d_in) {
          if (!d_out[0]) return;
          Tensor* d_x = d_in.get(0);
          Tensor* d_kernel = d_in.get(1);
          Tensor* d_bias = has_bias ? d_in.get(2) : nullptr;
          // Only the CUDA bias gradient needs scratch (0 bytes on the CPU: none is allocated).
          const size_t bytes = d_bias ? kern::dense_backward_workspace_bytes(ex, rows, units) : 0;
          Tensor ws = d_bias && !ex.cpu() ? detail::scratch(bytes, ex.device) : Tensor();
          kern::dense_backward<T>(
              ex, xv.data<T>(), kv.data<T>(), d_out[0]->data<T>(), d_x ? d_x->data<T>() : nullptr,
              d_kernel ? d_kernel->data<T>() : nullptr, d_bias ? d_bias->data<T>() : nullptr, rows,
              in_features, units, ws.raw(), bytes);
        });
  });
}

}  // namespace ember::fn
