// fn::lstm: the autograd op over kernels/lstm/lstm.h. Inputs x [B,T,C], kernel [C,4H],
// recurrent_kernel [H,4H], bias [4H] (optional: an undefined Var is left out of the node's
// inputs, since the graph needs every input to be a real Var). The forward saves activations
// only when a gradient will be needed; the backward skips gradients nobody asked for.
// CPU tensors run the reference; CUDA tensors run call.implementation (auto = fused, cudnn,
// persistent, or the reference through host copies), the forward on the main stream or, for a
// Bidirectional's second direction, on the side stream; the backward on the main stream.
// 'persistent' is checked against the device first (lstm_persistent_supported), so a shape
// it cannot run fails with the layer's shape and the reason rather than inside a launcher.
#include <memory>
#include <vector>

#include "kernels/lstm/lstm_dispatch.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

namespace ember::fn {

LstmImpl parse_lstm_impl(const std::string& name) {
  if (name == "auto") return LstmImpl::kAuto;
  if (name == "reference") return LstmImpl::kReference;
  if (name == "fused") return LstmImpl::kFused;
  if (name == "cudnn") return LstmImpl::kCudnn;
  if (name == "persistent") return LstmImpl::kPersistent;
  EMBER_CHECK_ARG(false, "LSTM: unknown implementation '"
                             << name << "'; known: auto, reference, fused, cudnn, persistent");
  return LstmImpl::kAuto;  // unreachable
}

const char* lstm_impl_name(LstmImpl impl) {
  switch (impl) {
    case LstmImpl::kAuto:
      return "auto";
    case LstmImpl::kReference:
      return "reference";
    case LstmImpl::kFused:
      return "fused";
    case LstmImpl::kCudnn:
      return "cudnn";
    case LstmImpl::kPersistent:
      return "persistent";
  }
  return "?";
}

namespace {

// The reference on the host: CPU tensors, or CUDA tensors through host copies (kReference).
Var lstm_reference(const std::vector<Var>& inputs, bool has_bias, const Tensor& mask,
                   const LstmConfig& cfg, const Shape& out_shape, bool needs_grad) {
  const Device dev = inputs[0].value().device();
  auto host = [](const Tensor& t) { return t.defined() ? t.to(Device::cpu()) : t; };
  const Tensor xv = host(inputs[0].value());
  const Tensor kv = host(inputs[1].value());
  const Tensor rv = host(inputs[2].value());
  const Tensor bv = has_bias ? host(inputs[3].value()) : Tensor();
  const Tensor mv = host(mask);
  const DType dt = xv.dtype();
  Tensor out = Tensor::empty(out_shape, dt);
  auto saved = std::make_shared<LstmSaved>();
  dispatch_float(dt, "lstm", [&](auto tag) {
    using T = decltype(tag);
    ref::lstm_forward<T>(cfg, xv.data<T>(), kv.data<T>(), rv.data<T>(),
                         bv.defined() ? bv.data<T>() : nullptr,
                         mv.defined() ? mv.data<uint8_t>() : nullptr, out.data<T>(),
                         needs_grad ? saved.get() : nullptr);
  });
  if (!dev.is_cpu()) out = out.to(dev);
  if (!needs_grad) return Var(out);

  return ag::record1(
      "lstm", inputs, out,
      [cfg, saved, xv, kv, rv, mv, has_bias, dev](const std::vector<const Tensor*>& d_out,
                                                  ag::GradInputs& d_in) {
        if (!d_out[0]) return;
        // On the host the accumulators are used as they are; for a device, the gradients are
        // computed into host copies of them and copied back.
        std::vector<Tensor*> dev_grads(4, nullptr);
        std::vector<Tensor> grads(4);
        for (size_t i = 0; i < (has_bias ? 4u : 3u); ++i) {
          dev_grads[i] = d_in.get(i);
          if (dev_grads[i])
            grads[i] = dev.is_cpu() ? *dev_grads[i] : dev_grads[i]->to(Device::cpu());
        }
        const Tensor g = dev.is_cpu() ? *d_out[0] : d_out[0]->to(Device::cpu());
        dispatch_float(xv.dtype(), "lstm backward", [&](auto tag) {
          using T = decltype(tag);
          auto ptr = [&](size_t i) { return grads[i].defined() ? grads[i].data<T>() : nullptr; };
          ref::lstm_backward<T>(cfg, xv.data<T>(), kv.data<T>(), rv.data<T>(),
                                mv.defined() ? mv.data<uint8_t>() : nullptr, *saved, g.data<T>(),
                                ptr(0), ptr(1), ptr(2), ptr(3));
        });
        if (!dev.is_cpu())
          for (size_t i = 0; i < 4; ++i)
            if (dev_grads[i]) dev_grads[i]->copy_from(grads[i]);
      });
}

// The fused kernels, cuDNN or the persistent kernels on CUDA tensors
// (kernels/lstm/lstm_dispatch.h).
Var lstm_device(const std::vector<Var>& inputs, bool has_bias, const Tensor& mask,
                const LstmConfig& cfg, const LstmCall& call, const Shape& out_shape,
                bool needs_grad) {
  const Tensor& xv = inputs[0].value();
  const Tensor& kv = inputs[1].value();
  const Tensor& rv = inputs[2].value();
  const Tensor bv = has_bias ? inputs[3].value() : Tensor();
  const Device dev = xv.device();
  const LstmImpl impl = call.implementation;
  kern::lstm_device_check(kern::Exec{dev, nullptr}, impl, cfg, xv.dtype());
  const kern::Exec main = kern::Exec::of(dev);
  const bool side = call.side_stream_keep_alive != nullptr;
  const kern::Exec ex = side ? kern::Exec::side(dev) : main;
  // The side stream starts after everything the main stream has queued (x, the mask, and the
  // last users of any cached block this call is handed).
  if (side) kern::join(ex, main);

  Tensor out = Tensor::empty(out_shape, xv.dtype(), dev);
  auto saved = std::make_shared<kern::LstmDeviceSaved>();
  dispatch_float(xv.dtype(), "lstm", [&](auto tag) {
    using T = decltype(tag);
    kern::lstm_device_forward<T>(ex, impl, cfg, xv.data<T>(), kv.data<T>(), rv.data<T>(),
                                 bv.defined() ? bv.data<T>() : nullptr,
                                 mask.defined() ? mask.data<uint8_t>() : nullptr, out.data<T>(),
                                 needs_grad ? saved.get() : nullptr, call.side_stream_keep_alive);
  });
  if (!needs_grad) return Var(out);
  // Saved tensors written on the side stream are released after the backward, on the main
  // stream, which the caller's join has ordered after the side stream's work.

  return ag::record1("lstm", inputs, out,
                     [cfg, saved, impl, xv, kv, rv, mask, has_bias, main](
                         const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                       if (!d_out[0]) return;
                       Tensor* d_x = d_in.get(0);
                       Tensor* d_k = d_in.get(1);
                       Tensor* d_r = d_in.get(2);
                       Tensor* d_b = has_bias ? d_in.get(3) : nullptr;
                       dispatch_float(xv.dtype(), "lstm backward", [&](auto tag) {
                         using T = decltype(tag);
                         auto ptr = [](Tensor* t) { return t ? t->data<T>() : nullptr; };
                         kern::lstm_device_backward<T>(
                             main, impl, cfg, xv.data<T>(), kv.data<T>(), rv.data<T>(),
                             mask.defined() ? mask.data<uint8_t>() : nullptr, *saved,
                             d_out[0]->data<T>(), ptr(d_x), ptr(d_k), ptr(d_r), ptr(d_b));
                       });
                     });
}

}  // namespace

Var lstm(const Var& x, const Var& kernel, const Var& recurrent_kernel, const Var& bias,
         const Tensor& mask_in, const LstmCall& call) {
  EMBER_CHECK_ARG(x.defined() && kernel.defined() && recurrent_kernel.defined(),
                  "lstm: x, kernel and recurrent_kernel must be defined");
  const Tensor& xv = x.value();
  const Tensor& kv = kernel.value();
  const Tensor& rv = recurrent_kernel.value();
  detail::check_same_device(xv, kv, "lstm", "x", "kernel");
  detail::check_same_device(xv, rv, "lstm", "x", "recurrent_kernel");
  if (bias.defined()) detail::check_same_device(xv, bias.value(), "lstm", "x", "bias");
  EMBER_CHECK_ARG(xv.device().is_cpu() || kern::cuda_built(),
                  "lstm: x " << xv.str()
                             << " is on a CUDA device, but this build has no CUDA "
                                "support");
  EMBER_CHECK_ARG(xv.ndim() == 3, "lstm: x must be [B,T,C], got " << xv.shape().str());
  EMBER_CHECK_ARG(rv.ndim() == 2 && rv.size(1) == 4 * rv.size(0),
                  "lstm: recurrent_kernel must be [H,4H], got " << rv.shape().str());
  const int64_t nb = xv.size(0), nt = xv.size(1), nc = xv.size(2), nh = rv.size(0);
  const DType dt = xv.dtype();
  check_tensor(kv, dt, Shape{nc, 4 * nh}, "lstm: kernel (expected [C,4H] for x [B,T,C])");
  check_tensor(rv, dt, Shape{nh, 4 * nh}, "lstm: recurrent_kernel");
  if (bias.defined()) check_tensor(bias.value(), dt, Shape{4 * nh}, "lstm: bias");
  if (mask_in.defined())
    check_tensor(mask_in, DType::kUInt8, Shape{nb, nt}, "lstm: mask (expected [B,T] for x)");
  // A host mask beside device tensors is copied over (the mask is small).
  const Tensor mask = detail::to_device(mask_in, xv.device());

  LstmConfig cfg;
  cfg.batch = nb;
  cfg.steps = nt;
  cfg.input = nc;
  cfg.hidden = nh;
  cfg.return_sequences = call.return_sequences;
  cfg.go_backwards = call.go_backwards;
  cfg.reverse_outputs = call.reverse_outputs;
  cfg.zero_output_for_mask = call.zero_output_for_mask;
  cfg.dropout = call.training ? call.dropout : 0.0;
  cfg.recurrent_dropout = call.training ? call.recurrent_dropout : 0.0;
  cfg.seed = call.seed;
  cfg.offset = call.offset;
  cfg.first_row = call.first_row;

  std::vector<Var> inputs{x, kernel, recurrent_kernel};
  if (bias.defined()) inputs.push_back(bias);
  bool needs_grad = false;
  if (ag::grad_enabled())
    for (const Var& v : inputs) needs_grad = needs_grad || v.requires_grad();

  const Shape out_shape = call.return_sequences ? Shape{nb, nt, nh} : Shape{nb, nh};
  if (!xv.device().is_cpu() && call.implementation != LstmImpl::kReference)
    return lstm_device(inputs, bias.defined(), mask, cfg, call, out_shape, needs_grad);
  return lstm_reference(inputs, bias.defined(), mask, cfg, out_shape, needs_grad);
}

}  // namespace ember::fn
