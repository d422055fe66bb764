// fn::dense and the activations (fn::activation, parse_activation, activation_name) over
// kernels/dense.h and kernels/activations.h. dense views a [B,T,C] input as [B*T,C] (a
// reshape shares storage, no copy), so one gemm covers every step, as Keras's Dense on 3-D.
// activation saves only its output: every derivative is written in terms of y. CUDA inputs
// run the cuda:: launchers (cuBLAS through the device context's handle, bound to its stream).
#include <string>

#include "kernels/activations.h"
#include "kernels/dense.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#endif

namespace ember::fn {

namespace {

void require_supported(const Tensor& t, const char* op) {
#ifdef EMBER_HAVE_CUDA
  (void)t;
  (void)op;
#else
  EMBER_CHECK_ARG(t.device().is_cpu(), op << ": " << t.str() << " is on a CUDA device, but this "
                                                               "build has no CUDA support");
#endif
}

#ifdef EMBER_HAVE_CUDA
Var activation_cuda(const Var& x, Activation a, int64_t n, int64_t classes) {
  const Tensor& xv = x.value();
  const Device dev = xv.device();
  return dispatch_float(xv.dtype(), activation_name(a), [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(xv.shape(), xv.dtype(), dev);
    const T* xp = xv.data<T>();
    T* yp = y.data<T>();
    cudaStream_t stream = cuda::Context::get(dev.index).stream();
    switch (a) {
      case Activation::kRelu:
        cuda::relu_forward<T>(xp, yp, n, stream);
        break;
      case Activation::kSigmoid:
        cuda::sigmoid_forward<T>(xp, yp, n, stream);
        break;
      case Activation::kTanh:
        cuda::tanh_forward<T>(xp, yp, n, stream);
        break;
      case Activation::kSoftmax:
        cuda::softmax_forward<T>(xp, yp, n / classes, classes, stream);
        break;
      case Activation::kLinear:
        break;
    }
    return ag::record1(
        activation_name(a), {x}, y,
        [a, y, n, classes, dev](const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
          Tensor* d_x = d_in.get(0);
          if (!d_x || !d_out[0]) return;
          const T* yv = y.data<T>();
          const T* g = d_out[0]->data<T>();
          T* dx = d_x->data<T>();
          cudaStream_t s = cuda::Context::get(dev.index).stream();
          switch (a) {
            case Activation::kRelu:
              cuda::relu_backward<T>(yv, g, dx, n, s);
              break;
            case Activation::kSigmoid:
              cuda::sigmoid_backward<T>(yv, g, dx, n, s);
              break;
            case Activation::kTanh:
              cuda::tanh_backward<T>(yv, g, dx, n, s);
              break;
            case Activation::kSoftmax:
              cuda::softmax_backward<T>(yv, g, dx, n / classes, classes, s);
              break;
            case Activation::kLinear:
              break;
          }
        });
  });
}
#endif

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
  require_supported(xv, activation_name(a));
  const int64_t n = xv.numel();
  int64_t classes = 1;
  if (a == Activation::kSoftmax) {
    EMBER_CHECK_ARG(xv.ndim() >= 1 && xv.size(-1) > 0,
                    "softmax: needs a non-empty last axis, got " << xv.shape().str());
    classes = xv.size(-1);
  }
#ifdef EMBER_HAVE_CUDA
  if (!xv.device().is_cpu()) return activation_cuda(x, a, n, classes);
#endif
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
  require_supported(xv, "dense");
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

#ifdef EMBER_HAVE_CUDA
  if (!xv.device().is_cpu()) {
    const Device dev = xv.device();
    return dispatch_float(xv.dtype(), "dense", [&](auto tag) {
      using T = decltype(tag);
      Tensor y = Tensor::empty(out_shape, xv.dtype(), dev);
      const bool has_bias = bias.defined();
      cuda::Context& ctx = cuda::Context::get(dev.index);
      cuda::dense_forward<T>(ctx.cublas(), xv.data<T>(), kv.data<T>(),
                             has_bias ? bias.value().data<T>() : nullptr, y.data<T>(), rows,
                             in_features, units, ctx.stream());
      return ag::record1(
          "dense", inputs, y,
          [xv, kv, has_bias, rows, in_features, units, dev](
              const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
            if (!d_out[0]) return;
            Tensor* d_x = d_in.get(0);
            Tensor* d_kernel = d_in.get(1);
            Tensor* d_bias = has_bias ? d_in.get(2) : nullptr;
            const size_t bytes = d_bias ? cuda::dense_backward_workspace_bytes(rows, units) : 0;
            Tensor ws = d_bias ? detail::scratch(bytes, dev) : Tensor();
            cuda::Context& c = cuda::Context::get(dev.index);
            cuda::dense_backward<T>(c.cublas(), xv.data<T>(), kv.data<T>(), d_out[0]->data<T>(),
                                    d_x ? d_x->data<T>() : nullptr,
                                    d_kernel ? d_kernel->data<T>() : nullptr,
                                    d_bias ? d_bias->data<T>() : nullptr, rows, in_features,
                                    units, ws.raw(), bytes, c.stream());
          });
    });
  }
#endif
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
