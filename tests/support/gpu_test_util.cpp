// See gpu_test_util.h.
#include "tests/support/gpu_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "engine/core/check.h"
#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "kernels/embedding.h"

namespace ember::test {

Tensor to_device(const Tensor& host, int device) {
  EMBER_CHECK_ARG(host.defined(), "to_device: undefined tensor");
  Tensor h = host;
  if (!host.device().is_cpu()) h = to_host(host);
  Tensor d = Tensor::empty(h.shape(), h.dtype(), Device::cuda(device));
  d.copy_from(h);
  sync_device(device);
  return d;
}

Tensor to_host(const Tensor& dev) {
  EMBER_CHECK_ARG(dev.defined(), "to_host: undefined tensor");
  if (dev.device().is_cpu()) return dev.clone();
  sync_device(dev.device().index);
  Tensor h = Tensor::empty(dev.shape(), dev.dtype());
  h.copy_from(dev);
  return h;
}

Tensor to_device_as(const Tensor& host, DType dt, int device) {
  Tensor h = host.device().is_cpu() ? host : to_host(host);
  if (h.dtype() != dt && (h.dtype() == DType::kFloat32 || h.dtype() == DType::kFloat64))
    h = h.to(dt);
  return to_device(h, device);
}

Tensor to_host_f64(const Tensor& t) {
  Tensor h = to_host(t);
  return h.dtype() == DType::kFloat64 ? h : h.to(DType::kFloat64);
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  Tensor ha = to_host(a), hb = to_host(b);
  return std::memcmp(ha.raw(), hb.raw(), ha.nbytes()) == 0;
}

void sync_device(int device) {
  EMBER_CUDA_CHECK(cudaSetDevice(device));
  EMBER_CUDA_CHECK(cudaStreamSynchronize(cuda::Context::get(device).stream()));
}

Tolerance gpu_f32_tol(double scale) {
  Tolerance t = tolerance(DType::kFloat32);
  return {t.atol * scale, t.rtol * scale};
}

Tolerance gpu_f64_tol() {
  return tolerance(DType::kFloat64);
}

namespace {

Tensor as_dtype(const Tensor& host, DType dt) {
  const bool is_float = host.dtype() == DType::kFloat32 || host.dtype() == DType::kFloat64;
  return is_float && host.dtype() != dt ? host.to(dt) : host;
}

ParityStats g_last_parity;

// Folds got (host float64) against ref into s's row k; NaN counts as an infinite error.
void add_diff(const Tensor& got, const Tensor& ref, int k, ParityStats* s) {
  if (got.numel() != ref.numel()) {  // compare() reports the shapes
    s->max_abs[k] = s->max_rel[k] = INFINITY;
    return;
  }
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double d = std::fabs(got.data<double>()[i] - ref.data<double>()[i]);
    diff = std::max(diff, std::isnan(d) ? INFINITY : d);
    scale = std::max(scale, std::fabs(ref.data<double>()[i]));
  }
  s->max_abs[k] = std::max(s->max_abs[k], diff);
  s->max_rel[k] = std::max(s->max_rel[k], diff / std::max(scale, 1e-30));
}

}  // namespace

ParityStats last_parity_stats() {
  return g_last_parity;
}

void print_parity(const std::string& name, const ParityStats& s) {
  for (int k = 0; k < 2; ++k)
    std::printf("parity %s [%s]: max_abs=%.3g max_rel=%.3g\n", name.c_str(),
                k == 0 ? "float32" : "float64", s.max_abs[k], s.max_rel[k]);
}

OpRun run_op(const DeviceFn& f, const std::vector<Tensor>& inputs,
             const std::vector<bool>& requires_grad, DType dt, Device dev, const Tensor& seed) {
  std::vector<ag::Var> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor v = as_dtype(inputs[i], dt);
    if (!dev.is_cpu()) v = to_device(v, dev.index);
    leaves.emplace_back(v, i < requires_grad.size() && requires_grad[i]);
  }
  ag::Var out = f(leaves, dev);
  OpRun run;
  run.out = to_host(out.value());
  if (out.requires_grad()) {
    Tensor s = as_dtype(seed, dt);
    if (!dev.is_cpu()) s = to_device(s, dev.index);
    out.backward(s);
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Tensor& g = leaves[i].grad();
    run.grads.push_back(g.defined() ? to_host(g) : Tensor::zeros(inputs[i].shape(), dt));
  }
  if (!dev.is_cpu()) sync_device(dev.index);
  return run;
}

std::string check_parity(const DeviceFn& f, const std::vector<Tensor>& inputs,
                         const std::vector<bool>& requires_grad, Tolerance tol32, Tolerance tol64,
                         uint64_t seed) {
  std::vector<Tensor> rounded;
  for (const Tensor& t : inputs) {
    const bool is_float = t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64;
    rounded.push_back(is_float ? t.to(DType::kFloat32).to(DType::kFloat64) : t);
  }
  const Device cpu = Device::cpu(), gpu = Device::cuda(0);
  // The seed gradient needs the output's shape: one no-grad forward on the CPU finds it.
  Shape out_shape;
  {
    ag::NoGradGuard ng;
    std::vector<ag::Var> leaves;
    for (const Tensor& t : rounded) leaves.emplace_back(t, false);
    out_shape = f(leaves, cpu).value().shape();
  }
  const Tensor seed_grad = random_uniform(out_shape, DType::kFloat64, -1.0, 1.0, seed)
                               .to(DType::kFloat32)
                               .to(DType::kFloat64);
  const OpRun ref = run_op(f, rounded, requires_grad, DType::kFloat64, cpu, seed_grad);

  std::ostringstream report;
  g_last_parity = ParityStats();
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    const Tolerance tol = dt == DType::kFloat32 ? tol32 : tol64;
    const int k = dt == DType::kFloat32 ? 0 : 1;
    const OpRun a = run_op(f, rounded, requires_grad, dt, gpu, seed_grad);
    const OpRun b = run_op(f, rounded, requires_grad, dt, gpu, seed_grad);
    const char* name = dtype_name(dt);
    add_diff(a.out.to(DType::kFloat64), ref.out, k, &g_last_parity);
    std::string c = compare(a.out.to(DType::kFloat64), ref.out, tol);
    if (!c.empty()) report << "[" << name << "] forward output vs CPU float64:\n" << c;
    if (!bitwise_equal(a.out, b.out))
      report << "[" << name << "] forward is not bitwise repeatable\n";
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (i >= requires_grad.size() || !requires_grad[i]) continue;
      add_diff(a.grads[i].to(DType::kFloat64), ref.grads[i], k, &g_last_parity);
      c = compare(a.grads[i].to(DType::kFloat64), ref.grads[i], tol);
      if (!c.empty())
        report << "[" << name << "] gradient of input " << i << " vs CPU float64:\n" << c;
      if (!bitwise_equal(a.grads[i], b.grads[i]))
        report << "[" << name << "] gradient of input " << i << " is not bitwise repeatable\n";
    }
  }
  return report.str();
}

Tensor pre_padded_ids(int64_t batch, int64_t steps, int32_t lo, int32_t hi, int64_t pad,
                      uint64_t seed) {
  Tensor ids = random_ints(Shape{batch, steps}, lo, hi, seed);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < pad + b % 3 && t < steps; ++t) ids.data<int32_t>()[b * steps + t] = 0;
  return ids;
}

NonzeroMasks nonzero_masks(const Tensor& ids) {
  NonzeroMasks m;
  m.cpu = Tensor::empty(ids.shape(), DType::kUInt8);
  ref::nonzero_mask(ids.data<int32_t>(), m.cpu.data<uint8_t>(), ids.numel());
  const Tensor ids_dev = to_device(ids);
  m.gpu = Tensor::empty(ids.shape(), DType::kUInt8, ids_dev.device());
  cuda::nonzero_mask(ids_dev.data<int32_t>(), m.gpu.data<uint8_t>(), ids.numel(),
                     cuda::Context::get(0).stream());
  return m;
}

}  // namespace ember::test
