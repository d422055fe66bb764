// The fused LSTM gate kernels of the GPU kernel benchmark (bench/gpu_kernels.cpp runs them):
// one forward and one backward gate launch per time step at each seed LSTM's shape, as
// kernels/lstm/lstm.cu issues them, validated first against the contract of
// kernels/lstm/lstm.h evaluated on the host in double. Dims: B batch, T time, H units, G = 4H.
#include <cmath>
#include <vector>

#include "bench/gpu_kernels.h"
#include "engine/core/device.h"
#include "engine/cuda/check.h"
#include "kernels/lstm/lstm.h"
#include "tests/support/test_util.h"

using json = nlohmann::json;

namespace ember::bench {

namespace {
double sigm(double a) {
  return 1.0 / (1.0 + std::exp(-a));
}

}  // namespace

void gate_cases(Env& env, const SeedLstm& s) {
  const int64_t nb = s.b, nt = s.t, nh = s.h, ng = 4 * nh, bh = nb * nh;
  const Device dev = Device::cuda(env.device);
  // Per-sequence buffers in the fused path's layout: [B,T,G] / [B,T,H] by original time.
  Tensor pre = test::random_uniform({nb, nt, ng}, DType::kFloat32, -2, 2, 41);
  Tensor bias = test::random_uniform({ng}, DType::kFloat32, -0.5, 0.5, 42);
  Tensor h0 = test::random_uniform({nb, nh}, DType::kFloat32, -0.9, 0.9, 43);
  Tensor c0 = test::random_uniform({nb, nh}, DType::kFloat32, -2, 2, 44);
  Tensor gates_d = dev_copy(pre), bias_d = dev_copy(bias), h_d = dev_copy(h0), c_d = dev_copy(c0);
  Tensor out_d = Tensor::zeros({nb, nt, nh}, DType::kFloat32, dev);
  Tensor csave_d = Tensor::zeros({nb, nt, nh}, DType::kFloat32, dev);
  Tensor hp_d = Tensor::zeros({nb, nt, nh}, DType::kFloat32, dev);
  Tensor mask = Tensor::zeros({nb, nt}, DType::kUInt8);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t t = 0; t < nt; ++t)
      mask.data<uint8_t>()[b * nt + t] = !s.mask || t >= nt - row_length(b, nt);
  Tensor mask_d = dev_copy(mask);
  auto fwd_args = [&](int64_t t) {  // what lstm.cu passes at step t (training, no rec. dropout)
    cuda::LstmGatesForwardArgs<float> a;
    a.batch = nb;
    a.hidden = nh;
    a.gates = gates_d.data<float>() + t * ng;
    a.ld_gates = nt * ng;
    a.bias = bias_d.data<float>();
    if (s.mask) a.mask = mask_d.data<uint8_t>() + t, a.ld_mask = nt;
    a.h = h_d.data<float>();
    a.c = c_d.data<float>();
    if (s.return_sequences || t == nt - 1) a.out = out_d.data<float>() + t * nh, a.ld_out = nt * nh;
    a.c_save = csave_d.data<float>() + t * nh;
    a.ld_c_save = nt * nh;
    if (t + 1 < nt) a.h_next = hp_d.data<float>() + (t + 1) * nh, a.ld_h_next = nt * nh;
    return a;
  };
  // Validate step t = nt/2 against the contract, evaluated in double on the host.
  const int64_t tv = nt / 2;
  cuda::lstm_gates_forward<float>(fwd_args(tv), env.stream);
  Tensor g_got = gates_d.to(Device::cpu());  // a synchronous copy: after the launch
  Tensor h_got = h_d.to(Device::cpu()), c_got = c_d.to(Device::cpu());
  Tensor g_ref = pre.to(DType::kFloat64), h_ref = h0.to(DType::kFloat64),
         c_ref = c0.to(DType::kFloat64);
  for (int64_t b = 0; b < nb; ++b) {
    if (!mask.data<uint8_t>()[b * nt + tv]) continue;  // carried: h, c and gates unchanged
    double* a = g_ref.data<double>() + (b * nt + tv) * ng;
    const float* bi = bias.data<float>();
    for (int64_t j = 0; j < nh; ++j) {
      const double i = sigm(a[j] + bi[j]), f = sigm(a[nh + j] + bi[nh + j]),
                   g = std::tanh(a[2 * nh + j] + bi[2 * nh + j]),
                   o = sigm(a[3 * nh + j] + bi[3 * nh + j]);
      a[j] = i, a[nh + j] = f, a[2 * nh + j] = g, a[3 * nh + j] = o;
      double& c = c_ref.data<double>()[b * nh + j];
      c = f * c + i * g;
      h_ref.data<double>()[b * nh + j] = o * std::tanh(c);
    }
  }
  const ErrStats fe =
      worst(worst(compare(g_got, g_ref), compare(h_got, h_ref)), compare(c_got, c_ref));
  auto fwd_seq = [&] {
    for (int64_t t = 0; t < nt; ++t) cuda::lstm_gates_forward<float>(fwd_args(t), env.stream);
  };
  const json shape = shape_of({{"B", double(nb)},
                               {"T", double(nt)},
                               {"H", double(nh)},
                               {"mask", double(s.mask)},
                               {"return_sequences", double(s.return_sequences)}});
  auto per_step = [&](Timing t) {
    t.median_us /= nt, t.p10_us /= nt, t.p90_us /= nt;
    return t;
  };
  // Per launch: gates read and written, h and c read and written, c_save and h_next written,
  // the output row (with return_sequences), bias.
  const double fbytes = 4.0 * (bh * (8 + 4 + 2 + (s.return_sequences ? 1 : 0)) + ng);
  json lf = result_line("lstm_gates", s.name, "fwd/step", shape,
                        per_step(env.timer->time(fwd_seq, 2, std::max(5, env.reps / 5))), fbytes, 0,
                        env.roofs);
  add_validation(lf, fe, 1e-5);
  env.report->add(lf);

  // Backward: saved activations in (0,1) / (-1,1), random cell states and incoming gradients.
  Tensor act = test::random_uniform({nb, nt, ng}, DType::kFloat32, 0.02, 0.98, 45);
  for (int64_t r = 0; r < nb * nt; ++r)  // the g gate is a tanh: (-1, 1)
    for (int64_t j = 2 * nh; j < 3 * nh; ++j)
      act.data<float>()[r * ng + j] = 2 * act.data<float>()[r * ng + j] - 1;
  Tensor cs = test::random_uniform({nb, nt, nh}, DType::kFloat32, -2, 2, 46);
  Tensor dout = test::random_uniform({nb, nt, nh}, DType::kFloat32, -1, 1, 47);
  Tensor dh0 = test::random_uniform({nb, nh}, DType::kFloat32, -1, 1, 48);
  Tensor dc0 = test::random_uniform({nb, nh}, DType::kFloat32, -1, 1, 49);
  Tensor act_d = dev_copy(act), cs_d = dev_copy(cs), dout_d = dev_copy(dout), dh_d = dev_copy(dh0),
         dc_d = dev_copy(dc0);
  Tensor dg_d = Tensor::zeros({nb, nt, ng}, DType::kFloat32, dev);
  auto bwd_args = [&](int64_t t) {
    cuda::LstmGatesBackwardArgs<float> a;
    a.batch = nb;
    a.hidden = nh;
    a.gates = act_d.data<float>() + t * ng;
    a.ld_gates = nt * ng;
    a.c_new = cs_d.data<float>() + t * nh;
    a.c_prev = t > 0 ? cs_d.data<float>() + (t - 1) * nh : nullptr;
    a.ld_c = nt * nh;
    if (s.mask) a.mask = mask_d.data<uint8_t>() + t, a.ld_mask = nt;
    if (s.return_sequences || t == nt - 1)
      a.d_out = dout_d.data<float>() + t * nh, a.ld_d_out = nt * nh;
    a.dh = dh_d.data<float>();
    a.dc = dc_d.data<float>();
    a.d_gates = dg_d.data<float>() + t * ng;
    a.ld_d_gates = nt * ng;
    return a;
  };
  cuda::lstm_gates_backward<float>(bwd_args(tv), env.stream);
  Tensor dg_got = dg_d.to(Device::cpu()), dh_got = dh_d.to(Device::cpu()),
         dc_got = dc_d.to(Device::cpu());
  Tensor dg_ref = Tensor::zeros({nb, nt, ng}, DType::kFloat64);
  Tensor dh_ref = dh0.to(DType::kFloat64), dc_ref = dc0.to(DType::kFloat64);
  const bool has_dout = s.return_sequences || tv == nt - 1;
  for (int64_t b = 0; b < nb; ++b) {
    for (int64_t j = 0; j < nh; ++j) {
      double& dh = dh_ref.data<double>()[b * nh + j];
      double& dc = dc_ref.data<double>()[b * nh + j];
      const double go = has_dout ? dout.data<float>()[(b * nt + tv) * nh + j] : 0.0;
      if (!mask.data<uint8_t>()[b * nt + tv]) {  // state passes through; the output was h
        dh += go;
        continue;
      }
      const float* a = act.data<float>() + (b * nt + tv) * ng;
      const double i = a[j], f = a[nh + j], g = a[2 * nh + j], o = a[3 * nh + j];
      const double cn = cs.data<float>()[(b * nt + tv) * nh + j];
      const double cp = tv > 0 ? cs.data<float>()[(b * nt + tv - 1) * nh + j] : 0.0;
      const double d_h = dh + go, tc = std::tanh(cn);
      const double d_c = dc + d_h * o * (1 - tc * tc);  // through h = o tanh(c), plus carried
      double* d = dg_ref.data<double>() + (b * nt + tv) * ng;
      d[j] = d_c * g * i * (1 - i);
      d[nh + j] = d_c * cp * f * (1 - f);
      d[2 * nh + j] = d_c * i * (1 - g * g);
      d[3 * nh + j] = d_h * tc * o * (1 - o);
      dc = d_c * f;  // gradient of c_{t-1}
      dh = 0;        // h_{t-1}'s comes from the recurrent gemm
    }
  }
  const ErrStats be =
      worst(worst(compare(dg_got, dg_ref), compare(dh_got, dh_ref)), compare(dc_got, dc_ref));
  auto bwd_seq = [&] {
    for (int64_t t = nt - 1; t >= 0; --t) cuda::lstm_gates_backward<float>(bwd_args(t), env.stream);
  };
  // Per launch: activations, c_new, c_prev read; dh, dc read and written; d_gates written;
  // the output gradient row (with return_sequences).
  const double bbytes = 4.0 * bh * (4 + 2 + 4 + 4 + (s.return_sequences ? 1 : 0));
  json lb = result_line("lstm_gates", s.name, "bwd/step", shape,
                        per_step(env.timer->time(bwd_seq, 2, std::max(5, env.reps / 5))), bbytes, 0,
                        env.roofs);
  add_validation(lb, be, 1e-5);
  env.report->add(lb);
}

}  // namespace ember::bench
