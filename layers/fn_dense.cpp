// fn::dense and the activations (fn::activation, parse_activation, activation_name) over
// kernels/dense.h and kernels/activations.h. dense views a [B,T,C] input as [B*T,C] (a
// reshape shares storage, no copy), so one gemm covers every step, as Keras's Dense on 3-D.
// activation saves only its output: every derivative is written in terms of y.
#include <string>

#include "kernels/activations.h"
#include "kernels/dense.h"
#include "layers/functional.h"

namespace ember::fn {

namespace {

void require_cpu(const Tensor& t, const char* op) {
  EMBER_CHECK_ARG(t.device().is_cpu(), "no CUDA kernel yet for " << op << " (" << t.str() << ")");
}

}  // namespace

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
  require_cpu(xv, activation_name(a));
  const int64_t n = xv.numel();
  int64_t classes = 1;
  if (a == Activation::kSoftmax) {
    EMBER_CHECK_ARG(xv.ndim() >= 1 && xv.size(-1) > 0,
                    "softmax: needs a non-empty last axis, got " << xv.shape().str());
    classes = xv.size(-1);
  }
  return dispatch_float(xv.dtype(), activation_name(a), [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype());
    const T* xp = xv.data<T>();
    T* yp = y.data<T>();
    switch (a) {
      case Activation::kRelu:
        ref::relu_forward<T>(xp, yp, n);
        break;
      case Activation::kSigmoid:
        ref::sigmoid_forward<T>(xp, yp, n);
        break;
      case Activation::kTanh:
        ref::tanh_forward<T>(xp, yp, n);
        break;
      case Activation::kSoftmax:
        ref::softmax_forward<T>(xp, yp, n / classes, classes);
        break;
      case Activation::kLinear:
        break;
    }
    // The lambda keeps y alive (shared storage with the output Var's value); nothing else.
    return ag::record1(
        activation_name(a), {x}, y,
        [a, y, n, classes](const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
          Tensor* d_x = d_in.get(0);
          if (!d_x || !d_out[0]) return;
          const T* yv = y.data<T>();
          const T* g = d_out[0]->data<T>();
          T* dx = d_x->data<T>();
          switch (a) {
            case Activation::kRelu:
              ref::relu_backward<T>(yv, g, dx, n);
              break;
            case Activation::kSigmoid:
              ref::sigmoid_backward<T>(yv, g, dx, n);
              break;
            case Activation::kTanh:
              ref::tanh_backward<T>(yv, g, dx, n);
              break;
            case Activation::kSoftmax:
              ref::softmax_backward<T>(yv, g, dx, n / classes, classes);
              break;
            case Activation::kLinear:
              break;
          }
        });
  });
}

Var dense(const Var& x, const Var& kernel, const Var& bias) {
  EMBER_CHECK_ARG(x.defined() && kernel.defined(), "dense: input or kernel is undefined");
  const Tensor& xv = x.value();
  const Tensor& kv = kernel.value();
  require_cpu(xv, "dense");
  require_cpu(kv, "dense");
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
    require_cpu(bv, "dense");
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
    Tensor y = Tensor::empty(out_shape, xv.dtype());
    const bool has_bias = bias.defined();
    ref::dense_forward<T>(xv.data<T>(), kv.data<T>(), has_bias ? bias.value().data<T>() : nullptr,
                          y.data<T>(), rows, in_features, units);
    return ag::record1("dense", inputs, y,
                       [xv, kv, has_bias, rows, in_features, units](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         if (!d_out[0]) return;
                         Tensor* d_x = d_in.get(0);
                         Tensor* d_kernel = d_in.get(1);
                         Tensor* d_bias = has_bias ? d_in.get(2) : nullptr;
                         ref::dense_backward<T>(xv.data<T>(), kv.data<T>(), d_out[0]->data<T>(),
                                                d_x ? d_x->data<T>() : nullptr,
                                                d_kernel ? d_kernel->data<T>() : nullptr,
                                                d_bias ? d_bias->data<T>() : nullptr, rows,
                                                in_features, units);
                       });
  });
}

}  // namespace ember::fn
