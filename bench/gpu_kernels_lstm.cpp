// Whole LSTM layers on the GPU, per implementation name: the Keras LSTM or Bidirectional layer
// (layers/lstm.h, layers/bidirectional.h) over fn::lstm, built with implementation = "fused",
// "cudnn", "persistent", ... exactly as a config names it. An implementation the engine rules
// out before launching anything is recorded as skipped with the engine's own reason: the layer
// refuses the case's options (cuDNN and recurrent_dropout), or the persistent planner
// (lstm_persistent_plan) finds that the shape does not fit the device. Anything that fails
// after that, a launch included, is an error and makes gpu_kernels exit non-zero. Each is
// validated against the CPU reference in float64 (same float32-rounded inputs, Keras-initialised
// weights, same dropout draws), then timed: a training forward (activations
// saved) and forward+backward, CUDA events, median of N. Shapes: x [B,T,C], output [B,T,D*H]
// or [B,D*H] (D = 2 for Bidirectional); FLOPs count the gemms: forward D*(2BTC*4H +
// 2B(T-1)H*4H), backward twice that.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bench/gpu_kernels.h"
#include "engine/cuda/check.h"
#include "kernels/lstm/cudnn_rnn.h"
#include "kernels/lstm/lstm_persistent.h"
#include "layers/bidirectional.h"
#include "layers/lstm.h"
#include "tests/support/gpu_test_util.h"

namespace ember::bench {

namespace {

using json = nlohmann::json;

std::unique_ptr<Layer> make_lstm_layer(const SeedLstm& s, const std::string& impl) {
  LstmOptions o;
  o.units = s.h;
  o.return_sequences = s.return_sequences;
  o.dropout = s.dropout;
  o.recurrent_dropout = s.recurrent_dropout;
  o.implementation = fn::parse_lstm_impl(impl);
  std::unique_ptr<Layer> layer;
  if (s.bidirectional) {
    BidirectionalOptions b;
    b.layer = o;
    layer = std::make_unique<Bidirectional>(b);
  } else {
    layer = std::make_unique<LSTM>(o);
  }
  InitRng rng(1337, 1);
  layer->build({s.t, s.c}, DType::kFloat32, rng);
  layer->index = 1;  // the dropout stream id: the same draws for every implementation
  return layer;
}

// The layer as a function of its leaves {x, params...}: the parameters are swapped for the
// leaves, so the reference and every implementation see the same values. The mask is uploaded
// once, outside: a per-call synchronous upload would serialize the host with the GPU.
test::DeviceFn layer_fn(Layer* layer, const Tensor& host_mask, const Tensor& dev_mask) {
  return [layer, host_mask, dev_mask](const std::vector<ag::Var>& v, Device dev) {
    for (size_t i = 0; i + 1 < v.size(); ++i) layer->params()[i].var = v[i + 1];
    LayerIO in(v[0], dev.is_cpu() ? host_mask : dev_mask);
    const RunContext ctx{/*training=*/true, /*seed=*/1337, /*step=*/7};
    return layer->forward(in, ctx).x;
  };
}

// The floor of `passes` recurrences over `steps` steps doing `flops` of gemm work: a step
// cannot finish before its barrier, nor the work before the SGEMM rate allows.
void add_floor(json& line, int64_t steps, int passes, double flops, const Roofs& roofs,
               const Timing& t) {
  const double barrier_us = double(passes) * double(steps) * roofs.cluster_sync_us;
  const double flops_us = roofs.sgemm_tflops > 0 ? flops / (roofs.sgemm_tflops * 1e12) * 1e6 : 0;
  const double floor_us = std::max(barrier_us, flops_us);
  line["floor_barrier_us"] = barrier_us;
  line["floor_flops_us"] = flops_us;
  line["floor_us"] = floor_us;
  if (floor_us > 0) line["x_floor"] = t.median_us / floor_us;
}

// The engine's own refusal of `impl` for this case, found without launching anything: "" when
// it may run. The layer's constructor checks the options, cuDNN's rule its options, and the
// persistent planner the shape against the device's limits (queried here; a failing query
// throws, which the caller records as an error, not a skip).
std::string planned_refusal(const SeedLstm& s, const std::string& impl, int device) {
  try {
    make_lstm_layer(s, impl);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  LstmConfig cfg;
  cfg.batch = s.b;
  cfg.steps = s.t;
  cfg.input = s.c;
  cfg.hidden = s.h;
  cfg.return_sequences = s.return_sequences;
  cfg.dropout = s.dropout;
  cfg.recurrent_dropout = s.recurrent_dropout;
  if (impl == "cudnn") return cuda::cudnn_lstm_unsupported(cfg);
  if (impl != "persistent") return "";
  cuda::LstmPersistentDevice dev;
  int smem = 0;
  EMBER_CUDA_CHECK(
      cudaDeviceGetAttribute(&dev.compute_major, cudaDevAttrComputeCapabilityMajor, device));
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&dev.sm_count, cudaDevAttrMultiProcessorCount, device));
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  dev.max_smem_per_block = smem;
  return cuda::lstm_persistent_plan(cfg, 4, dev, nullptr);
}

}  // namespace

void lstm_layer_cases(Env& env, const SeedLstm& s) {
  const int dirs = s.bidirectional ? 2 : 1;
  const json shape = {{"B", s.b},
                      {"T", s.t},
                      {"C", s.c},
                      {"H", s.h},
                      {"bidirectional", s.bidirectional},
                      {"return_sequences", s.return_sequences},
                      {"mask", s.mask},
                      {"dropout", s.dropout},
                      {"recurrent_dropout", s.recurrent_dropout}};
  const double g = 4.0 * s.h;
  const double fwd_flops = dirs * (2.0 * s.b * s.t * s.c * g + 2.0 * s.b * (s.t - 1) * s.h * g);

  // Inputs: x uniform in [-1,1), the Keras-initialised weights (glorot_uniform, orthogonal,
  // unit forget bias) of a reference layer, all float32 values; the backward's seed gradient.
  std::unique_ptr<Layer> ref_layer = make_lstm_layer(s, "auto");
  std::vector<Tensor> inputs{test::random_uniform({s.b, s.t, s.c}, DType::kFloat32, -1, 1, 61)};
  for (const Param& p : ref_layer->params()) inputs.push_back(p.var.value().clone());
  Tensor mask;
  if (s.mask) {
    mask = Tensor::zeros({s.b, s.t}, DType::kUInt8);
    for (int64_t b = 0; b < s.b; ++b)
      for (int64_t t = s.t - row_length(b, s.t); t < s.t; ++t)
        mask.data<uint8_t>()[b * s.t + t] = 1;
  }
  const Tensor mask_d = mask.defined() ? mask.to(Device::cuda(env.device)) : Tensor();
  const Shape out_shape = s.return_sequences ? Shape{s.b, s.t, dirs * s.h} : Shape{s.b, dirs * s.h};
  const Tensor seed_grad = test::random_uniform(out_shape, DType::kFloat32, -1, 1, 62);
  const std::vector<bool> all(inputs.size(), true);

  std::vector<Tensor> inputs64;
  for (const Tensor& t : inputs) inputs64.push_back(t.to(DType::kFloat64));
  const test::OpRun ref =
      test::run_op(layer_fn(ref_layer.get(), mask, mask_d), inputs64, all, DType::kFloat64,
                   Device::cpu(), seed_grad.to(DType::kFloat64));

  for (const std::string& impl : env.impls) {
    auto skip = [&](const std::string& status, const std::string& why) {
      env.report->add({{"group", "lstm_layer"},
                       {"case", s.name},
                       {"impl", impl},
                       {"shape", shape},
                       {"status", status},
                       {"reason", why}});
    };
    std::unique_ptr<Layer> layer;
    ErrStats err;
    try {
      const std::string refusal = planned_refusal(s, impl, env.device);
      if (!refusal.empty()) {
        skip("skipped", refusal);
        continue;
      }
      layer = make_lstm_layer(s, impl);
      const test::OpRun got = test::run_op(layer_fn(layer.get(), mask, mask_d), inputs, all,
                                           DType::kFloat32, Device::cuda(env.device), seed_grad);
      err = compare(got.out, ref.out);
      for (size_t i = 0; i < got.grads.size(); ++i)
        err = worst(err, compare(got.grads[i], ref.grads[i]));
    } catch (const std::exception& e) {  // past the planned refusals: a failure
      skip("error", e.what());
      continue;
    }

    // Timing on device-resident leaves; gradients are zeroed (released) each repetition, as
    // the trainer's zero_grad does, so the backward allocates and fills them as in training.
    const Device dev = Device::cuda(env.device);
    std::vector<ag::Var> leaves;
    for (const Tensor& t : inputs) leaves.emplace_back(t.to(dev), true);
    const Tensor seed_d = seed_grad.to(dev);
    const test::DeviceFn f = layer_fn(layer.get(), mask, mask_d);
    std::vector<Timing> t;
    try {
      t = env.timer->time_stages(
          [&](const std::function<void()>& mark) {
            for (ag::Var& l : leaves) l.zero_grad();
            ag::Var out = f(leaves, dev);
            mark();
            out.backward(seed_d);
          },
          1, env.layer_warmup, env.layer_reps);
    } catch (const std::exception& e) {
      skip("error", e.what());
      continue;
    }
    // 1e-4 of each tensor's scale: the CPU reference in float32 lands within 1e-6 of float64
    // at these shapes (370 steps, weight gradients over B*T rows), so this leaves room for
    // other summation orders while still flagging reduced-precision math (TF32, ~1e-3).
    json lf =
        result_line("lstm_layer", s.name, impl + ":fwd", shape, t[0], 0, fwd_flops, env.roofs);
    add_validation(lf, err, 1e-4);
    add_floor(lf, s.t, 1, fwd_flops, env.roofs, t[0]);
    env.report->add(lf);
    json lb = result_line("lstm_layer", s.name, impl + ":fwd+bwd", shape, t[1], 0, 3 * fwd_flops,
                          env.roofs);
    add_validation(lb, err, 1e-4);
    add_floor(lb, s.t, 2, 3 * fwd_flops, env.roofs, t[1]);
    env.report->add(lb);
  }
}

}  // namespace ember::bench
