// fn::lstm: the autograd op over kernels/lstm.h. Inputs x [B,T,C], kernel [C,4H],
// recurrent_kernel [H,4H], bias [4H] (optional: an undefined Var is left out of the node's
// inputs, since the graph needs every input to be a real Var). The forward saves activations
// only when a gradient will be needed; the backward skips gradients nobody asked for.
#include <memory>
#include <vector>

#include "kernels/lstm.h"
#include "layers/functional.h"

namespace ember::fn {

Var lstm(const Var& x, const Var& kernel, const Var& recurrent_kernel, const Var& bias,
         const Tensor& mask, const LstmCall& call) {
  EMBER_CHECK_ARG(x.defined() && kernel.defined() && recurrent_kernel.defined(),
                  "lstm: x, kernel and recurrent_kernel must be defined");
  const Tensor& xv = x.value();
  const Tensor& kv = kernel.value();
  const Tensor& rv = recurrent_kernel.value();
  EMBER_CHECK_ARG(xv.device().is_cpu() && kv.device().is_cpu() && rv.device().is_cpu() &&
                      (!bias.defined() || bias.value().device().is_cpu()) &&
                      (!mask.defined() || mask.device().is_cpu()),
                  "no CUDA kernel yet for lstm (x is " << xv.str() << ")");
  EMBER_CHECK_ARG(xv.ndim() == 3, "lstm: x must be [B,T,C], got " << xv.shape().str());
  EMBER_CHECK_ARG(rv.ndim() == 2 && rv.size(1) == 4 * rv.size(0),
                  "lstm: recurrent_kernel must be [H,4H], got " << rv.shape().str());
  const int64_t nb = xv.size(0), nt = xv.size(1), nc = xv.size(2), nh = rv.size(0);
  const DType dt = xv.dtype();
  check_tensor(kv, dt, Shape{nc, 4 * nh}, "lstm: kernel (expected [C,4H] for x [B,T,C])");
  check_tensor(rv, dt, Shape{nh, 4 * nh}, "lstm: recurrent_kernel");
  if (bias.defined()) check_tensor(bias.value(), dt, Shape{4 * nh}, "lstm: bias");
  if (mask.defined())
    check_tensor(mask, DType::kUInt8, Shape{nb, nt}, "lstm: mask (expected [B,T] for x)");

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

  std::vector<Var> inputs{x, kernel, recurrent_kernel};
  if (bias.defined()) inputs.push_back(bias);
  bool needs_grad = false;
  if (ag::grad_enabled())
    for (const Var& v : inputs) needs_grad = needs_grad || v.requires_grad();

  const Shape out_shape = call.return_sequences ? Shape{nb, nt, nh} : Shape{nb, nh};
  Tensor out = Tensor::empty(out_shape, dt);
  auto saved = std::make_shared<LstmSaved>();
  dispatch_float(dt, "lstm", [&](auto tag) {
    using T = decltype(tag);
    ref::lstm_forward<T>(cfg, xv.data<T>(), kv.data<T>(), rv.data<T>(),
                         bias.defined() ? bias.value().data<T>() : nullptr,
                         mask.defined() ? mask.data<uint8_t>() : nullptr, out.data<T>(),
                         needs_grad ? saved.get() : nullptr);
  });
  if (!needs_grad) return Var(out);

  const bool has_bias = bias.defined();
  return ag::record1(
      "lstm", inputs, out,
      [cfg, saved, xv, kv, rv, mask, has_bias](const std::vector<const Tensor*>& d_out,
                                               ag::GradInputs& d_in) {
        Tensor* d_x = d_in.get(0);
        Tensor* d_k = d_in.get(1);
        Tensor* d_r = d_in.get(2);
        Tensor* d_b = has_bias ? d_in.get(3) : nullptr;
        dispatch_float(xv.dtype(), "lstm backward", [&](auto tag) {
          using T = decltype(tag);
          ref::lstm_backward<T>(cfg, xv.data<T>(), kv.data<T>(), rv.data<T>(),
                                mask.defined() ? mask.data<uint8_t>() : nullptr, *saved,
                                d_out[0]->data<T>(), d_x ? d_x->data<T>() : nullptr,
                                d_k ? d_k->data<T>() : nullptr, d_r ? d_r->data<T>() : nullptr,
                                d_b ? d_b->data<T>() : nullptr);
        });
      });
}

}  // namespace ember::fn
