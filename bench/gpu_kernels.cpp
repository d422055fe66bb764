// GPU kernel benchmark: first the device's roofs (cudaMemcpy device-to-device bandwidth on a
// 1 GiB buffer, cuBLAS SGEMM 8192^3 in FP32), then at the seed models' shapes the embedding
// forward/backward, Dropout and SpatialDropout1D forward/backward, the fused LSTM gate kernels
// (gpu_kernels_gates.cpp: one launch per time step, as kernels/lstm/lstm.cu issues them) and
// whole LSTM layers per implementation (gpu_kernels_lstm.cpp). Every case first validates against
// the CPU reference (kernels/*_ref.cpp, or for the gate kernels the contract of kernels/lstm/lstm.h
// evaluated on the host in double), then times with CUDA events after warm-up (median of N, L2
// flushed before each repetition). Usage: gpu_kernels [--out FILE.jsonl] [--commit HASH] [--quick]
// [--filter NAME[,NAME...]] (only the cases whose name contains one of them; the roofs always
// run); exit status 1 when a case mismatches or fails (an "error" line: a launch, allocation
// or library call that threw), 77 without a device.
// Dims: B batch, T time, C channels, E embedding, V vocab.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "bench/gpu_kernels.h"
#include "engine/core/device.h"
#include "engine/core/rng.h"
#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/lstm/lstm.h"
#include "tests/support/test_util.h"

using namespace ember;
using namespace ember::bench;
using json = nlohmann::json;

namespace ember::bench {

int64_t row_length(int64_t b, int64_t t) {
  return 1 + (7919 * b + 13) % t;
}

json shape_of(std::initializer_list<std::pair<const char*, double>> dims) {
  json j = json::object();
  for (auto& [k, v] : dims) j[k] = v;
  return j;
}

Tensor dev_copy(const Tensor& host) {
  return host.to(Device::cuda(0));
}

std::vector<SeedLstm> seed_lstms() {
  // {name, B, T, C, H, bidirectional, return_sequences, mask, dropout, recurrent_dropout}
  return {
      {"seed001_model_a", 64, 370, 128, 60, false, true},
      {"seed001_model_b", 64, 370, 128, 100, false, false, false, 0.5},
      {"seed001_model_c", 128, 370, 128, 75, true, true},
      {"seed001_model_d", 16, 370, 64, 50, false, true},
      {"seed002_twitter_bilstm", 32, 40, 100, 128, true, false},
      {"seed000_sentiment140_lstm", 64, 100, 128, 64, false, false, false, 0.2, 0.2},
      // The same without recurrent_dropout, which cuDNN (and PyTorch) cannot run.
      {"seed000 no-rec-dropout", 64, 100, 128, 64, false, false, false, 0.2, 0.0},
      {"seed003_igbo_bilstm/1", 32, 68, 20, 64, true, true, true, 0.2, 0.2},
      {"seed003/1 no-rec-dropout", 32, 68, 20, 64, true, true, true, 0.2, 0.0},
      {"seed003_igbo_bilstm/2", 32, 68, 128, 32, true, false, true},
      {"seed004_imdb_lstm", 64, 100, 128, 128, false, false},
  };
}

}  // namespace ember::bench

namespace {

// Runs one case; an exception becomes an "error" line so the sweep goes on.
template <class F>
void guarded(Env& env, const std::string& group, const std::string& name, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    env.report->add({{"group", group},
                     {"case", name},
                     {"impl", "-"},
                     {"status", "error"},
                     {"reason", e.what()}});
  }
}

// ---- roofs ----------------------------------------------------------------------------------

void copy_roof(Env& env) {
  const int64_t n = int64_t(1) << 30;
  Tensor src = Tensor::empty({n}, DType::kUInt8, Device::cuda(env.device));
  Tensor dst = Tensor::empty({n}, DType::kUInt8, Device::cuda(env.device));
  EMBER_CUDA_CHECK(cudaMemsetAsync(src.raw(), 0x5a, n, env.stream));
  EMBER_CUDA_CHECK(cudaMemsetAsync(dst.raw(), 0, n, env.stream));
  auto op = [&] {
    EMBER_CUDA_CHECK(
        cudaMemcpyAsync(dst.raw(), src.raw(), n, cudaMemcpyDeviceToDevice, env.stream));
  };
  // Validation: the first and last MiB arrived.
  op();
  EMBER_CUDA_CHECK(cudaStreamSynchronize(env.stream));
  std::vector<uint8_t> head(1 << 20), tail(1 << 20);
  EMBER_CUDA_CHECK(cudaMemcpy(head.data(), dst.raw(), head.size(), cudaMemcpyDeviceToHost));
  EMBER_CUDA_CHECK(cudaMemcpy(tail.data(), static_cast<uint8_t*>(dst.raw()) + n - tail.size(),
                              tail.size(), cudaMemcpyDeviceToHost));
  double bad = 0;
  for (size_t i = 0; i < head.size(); ++i) bad += (head[i] != 0x5a) + (tail[i] != 0x5a);
  const Timing t = env.timer->time(op, 3, 20, /*flush=*/false);
  env.roofs.copy_gbps = 2.0 * static_cast<double>(n) / (t.median_us * 1e-6) * 1e-9;
  json line =
      result_line("roof", "memcpy D2D 1 GiB", "cudaMemcpy", shape_of({{"bytes", double(n)}}), t,
                  2.0 * static_cast<double>(n), 0, env.roofs);
  add_validation(line, {bad, bad}, 0.0);
  env.report->add(line);
}

void sgemm_roof(Env& env) {
  const int n = 8192;
  const size_t nn = static_cast<size_t>(n) * n;
  // xorshift fills: 2 x 67M values, too many for the Philox test fill to be quick.
  std::vector<float> a(nn), b(nn);
  uint64_t s = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return static_cast<float>(static_cast<double>(s >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  };
  for (float& v : a) v = next();
  for (float& v : b) v = next();
  const Device dev = Device::cuda(env.device);
  Tensor da = Tensor::empty({n, n}, DType::kFloat32, dev),
         db = Tensor::empty({n, n}, DType::kFloat32, dev),
         dc = Tensor::empty({n, n}, DType::kFloat32, dev);
  EMBER_CUDA_CHECK(cudaMemcpy(da.raw(), a.data(), nn * 4, cudaMemcpyHostToDevice));
  EMBER_CUDA_CHECK(cudaMemcpy(db.raw(), b.data(), nn * 4, cudaMemcpyHostToDevice));
  cublasHandle_t h = nullptr;
  EMBER_CUBLAS_CHECK(cublasCreate(&h));
  EMBER_CUBLAS_CHECK(cublasSetStream(h, env.stream));
  // Plain FP32 (no TF32 tensor cores): the math Ember's own gemms use.
  EMBER_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
  const float one = 1.f, zero = 0.f;
  // Column-major C = A·B on the buffers; element (i,j) of C is sum_k a[k*n+i] * b[j*n+k].
  auto op = [&] {
    EMBER_CUBLAS_CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, da.data<float>(), n,
                                   db.data<float>(), n, &zero, dc.data<float>(), n));
  };
  op();
  EMBER_CUDA_CHECK(cudaStreamSynchronize(env.stream));
  std::vector<float> c(nn);
  EMBER_CUDA_CHECK(cudaMemcpy(c.data(), dc.raw(), nn * 4, cudaMemcpyDeviceToHost));
  double max_abs = 0, scale = 0;
  for (int p = 0; p < 64; ++p) {
    const size_t i = (p * 2654435761u) % n, j = (p * 40503u + 7) % n;
    double ref = 0;
    for (int k = 0; k < n; ++k) ref += double(a[size_t(k) * n + i]) * double(b[j * n + k]);
    scale = std::max(scale, std::fabs(ref));
    max_abs = std::max(max_abs, std::fabs(double(c[j * n + i]) - ref));
  }
  const Timing t = env.timer->time(op, 2, 10, /*flush=*/false);
  EMBER_CUBLAS_CHECK(cublasDestroy(h));
  const double flops = 2.0 * double(n) * n * n;
  env.roofs.sgemm_tflops = flops / (t.median_us * 1e-6) * 1e-12;
  json line = result_line("roof", "cublasSgemm 8192^3 FP32", "cublas",
                          shape_of({{"M", n}, {"N", n}, {"K", n}}), t, 0, flops, env.roofs);
  add_validation(line, {max_abs, max_abs / std::max(scale, 1e-30)}, 1e-4);
  env.report->add(line);
}

// ---- embedding ------------------------------------------------------------------------------

struct EmbShape {
  std::string name;
  int64_t b, t, e, v;
};

void embedding_cases(Env& env, const EmbShape& s) {
  const int64_t n = s.b * s.t;
  // ids: rows pre-padded with 0 (the seeds' pad_sequences) to row_length(), then ids in [1,V):
  // the backward's long run of id 0 is part of the real work.
  Tensor ids = test::random_ints({s.b, s.t}, 1, static_cast<int32_t>(s.v), 21);
  for (int64_t b = 0; b < s.b; ++b)
    for (int64_t t = 0; t < s.t - row_length(b, s.t); ++t) ids.data<int32_t>()[b * s.t + t] = 0;
  const std::set<int32_t> unique(ids.data<int32_t>(), ids.data<int32_t>() + n);
  Tensor w = test::random_uniform({s.v, s.e}, DType::kFloat32, -0.05, 0.05, 22);
  Tensor d_out = test::random_uniform({s.b, s.t, s.e}, DType::kFloat32, -1, 1, 23);
  Tensor ids_d = dev_copy(ids), w_d = dev_copy(w), d_out_d = dev_copy(d_out);
  Tensor out_d = Tensor::empty({s.b, s.t, s.e}, DType::kFloat32, Device::cuda(env.device));
  const json shape = shape_of({{"B", double(s.b)},
                               {"T", double(s.t)},
                               {"E", double(s.e)},
                               {"V", double(s.v)},
                               {"unique_ids", double(unique.size())}});
  auto fwd = [&] {
    cuda::embedding_forward<float>(w_d.data<float>(), ids_d.data<int32_t>(), out_d.data<float>(),
                                   s.b, s.t, s.v, s.e, env.stream);
  };
  fwd();
  Tensor out_ref = Tensor::empty({s.b, s.t, s.e}, DType::kFloat32);
  ref::embedding_forward<float>(w.data<float>(), ids.data<int32_t>(), out_ref.data<float>(), s.b,
                                s.t, s.v, s.e);
  const ErrStats fe = compare(out_d, out_ref);
  const double fbytes = 4.0 * n + 2.0 * 4.0 * n * s.e;
  json lf = result_line("embedding", s.name, "fwd", shape,
                        env.timer->time(fwd, env.warmup, env.reps), fbytes, 0, env.roofs);
  add_validation(lf, fe, 0.0);  // a gather: exact
  env.report->add(lf);

  const size_t ws_bytes = cuda::embedding_backward_workspace_bytes(s.b, s.t, s.v, s.e);
  Tensor ws =
      Tensor::empty({static_cast<int64_t>(ws_bytes)}, DType::kUInt8, Device::cuda(env.device));
  Tensor dw_d = Tensor::zeros({s.v, s.e}, DType::kFloat32, Device::cuda(env.device));
  auto bwd = [&] {
    cuda::embedding_backward<float>(d_out_d.data<float>(), ids_d.data<int32_t>(),
                                    dw_d.data<float>(), s.b, s.t, s.v, s.e, ws.raw(), ws_bytes,
                                    env.stream);
  };
  bwd();
  Tensor dw_ref = Tensor::zeros({s.v, s.e}, DType::kFloat32);
  ref::embedding_backward<float>(d_out.data<float>(), ids.data<int32_t>(), dw_ref.data<float>(),
                                 s.b, s.t, s.v, s.e);
  const ErrStats be = compare(dw_d, dw_ref);
  // Useful bytes: d_out and ids read once, each touched row of d_weight read and written.
  const double bbytes = 4.0 * n * s.e + 4.0 * n + 2.0 * 4.0 * unique.size() * s.e;
  json lb = result_line("embedding", s.name, "bwd", shape,
                        env.timer->time(bwd, env.warmup, env.reps), bbytes, 0, env.roofs);
  add_validation(lb, be, 1e-6);  // both sum in double, then round once
  env.report->add(lb);
}

// ---- dropout --------------------------------------------------------------------------------

struct DropShape {
  std::string name;
  bool spatial;
  int64_t b, t, c;
  double rate;
};

void dropout_cases(Env& env, const DropShape& s) {
  const int64_t n = s.b * s.t * s.c;
  const uint64_t seed = 1337, offset = dropout_offset(5, 1, 0);
  Tensor x = test::random_uniform({s.b, s.t, s.c}, DType::kFloat32, -1, 1, 31);
  Tensor dy = test::random_uniform({s.b, s.t, s.c}, DType::kFloat32, -1, 1, 32);
  Tensor x_d = dev_copy(x), dy_d = dev_copy(dy);
  Tensor y_d = Tensor::empty({s.b, s.t, s.c}, DType::kFloat32, Device::cuda(env.device));
  Tensor dx_d = Tensor::zeros({s.b, s.t, s.c}, DType::kFloat32, Device::cuda(env.device));
  Tensor y_ref = Tensor::empty({s.b, s.t, s.c}, DType::kFloat32);
  Tensor dx_ref = Tensor::zeros({s.b, s.t, s.c}, DType::kFloat32);
  const std::string op = s.spatial ? "spatial_dropout1d" : "dropout";
  auto fwd = [&] {
    if (s.spatial)
      cuda::spatial_dropout1d_forward<float>(x_d.data<float>(), y_d.data<float>(), s.b, s.t, s.c,
                                             s.rate, seed, offset, env.stream);
    else
      cuda::dropout_forward<float>(x_d.data<float>(), y_d.data<float>(), n, s.rate, seed, offset,
                                   env.stream);
  };
  auto bwd = [&] {
    if (s.spatial)
      cuda::spatial_dropout1d_backward<float>(dy_d.data<float>(), dx_d.data<float>(), s.b, s.t, s.c,
                                              s.rate, seed, offset, env.stream);
    else
      cuda::dropout_backward<float>(dy_d.data<float>(), dx_d.data<float>(), n, s.rate, seed, offset,
                                    env.stream);
  };
  fwd();
  bwd();
  if (s.spatial) {
    ref::spatial_dropout1d_forward<float>(x.data<float>(), y_ref.data<float>(), s.b, s.t, s.c,
                                          s.rate, seed, offset);
    ref::spatial_dropout1d_backward<float>(dy.data<float>(), dx_ref.data<float>(), s.b, s.t, s.c,
                                           s.rate, seed, offset);
  } else {
    ref::dropout_forward<float>(x.data<float>(), y_ref.data<float>(), n, s.rate, seed, offset);
    ref::dropout_backward<float>(dy.data<float>(), dx_ref.data<float>(), n, s.rate, seed, offset);
  }
  const json shape =
      shape_of({{"B", double(s.b)}, {"T", double(s.t)}, {"C", double(s.c)}, {"rate", s.rate}});
  // Same Philox draw and the same rounded scale: the masks must agree bit for bit.
  json lf = result_line(op, s.name, "fwd", shape, env.timer->time(fwd, env.warmup, env.reps),
                        2.0 * 4.0 * n, 0, env.roofs);
  add_validation(lf, compare(y_d, y_ref), 0.0);
  env.report->add(lf);
  const ErrStats be = compare(dx_d, dx_ref);  // before timing: the accumulator then grows
  json lb = result_line(op, s.name, "bwd", shape, env.timer->time(bwd, env.warmup, env.reps),
                        3.0 * 4.0 * n, 0, env.roofs);  // d_y read, d_x read and written
  add_validation(lb, be, 0.0);
  env.report->add(lb);
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path = "gpu_kernels.jsonl", commit;
  bool quick = false;
  std::vector<std::string> filter;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--out" && i + 1 < argc)
      out_path = argv[++i];
    else if (a == "--commit" && i + 1 < argc)
      commit = argv[++i];
    else if (a == "--quick")
      quick = true;
    else if (a == "--filter" && i + 1 < argc) {
      const std::string f = argv[++i];
      for (size_t b = 0, e; b <= f.size(); b = e + 1) {
        e = std::min(f.find(',', b), f.size());
        if (e > b) filter.push_back(f.substr(b, e - b));
      }
    } else {
      std::fprintf(stderr,
                   "usage: gpu_kernels [--out FILE.jsonl] [--commit HASH] [--quick] "
                   "[--filter NAME[,NAME...]]\n");
      return 2;
    }
  }
  auto wanted = [&](const std::string& name) {
    if (filter.empty()) return true;
    for (const std::string& f : filter)
      if (name.find(f) != std::string::npos) return true;
    return false;
  };
  if (cuda_device_count() == 0) {
    std::fprintf(stderr, "gpu_kernels: no CUDA device\n");
    return 77;
  }
  if (commit.empty()) commit = bench::git_commit();
  try {
    EMBER_CUDA_CHECK(cudaSetDevice(0));
    cuda::Context& ctx = cuda::Context::get(0);
    GpuTimer timer(0, ctx.stream());
    Report report(out_path, cuda_device_name(0), commit);
    Env env;
    env.stream = ctx.stream();
    env.timer = &timer;
    env.report = &report;
    if (quick) env.reps = 10, env.layer_reps = 3, env.layer_warmup = 1;
    std::printf("gpu_kernels on %s, commit %s -> %s\n", cuda_device_name(0).c_str(), commit.c_str(),
                out_path.c_str());
    report.header();
    guarded(env, "roof", "memcpy", [&] { copy_roof(env); });
    guarded(env, "roof", "sgemm", [&] { sgemm_roof(env); });
    guarded(env, "roof", "cluster_sync", [&] {
      env.roofs.cluster_sync_us = cluster_barrier_us(0, 8, 100000, env.stream);
      json line = {{"group", "roof"},
                   {"case", "cluster.sync, 8 CTAs"},
                   {"impl", "cg"},
                   {"shape", shape_of({{"cluster", 8}})},
                   {"us_median", env.roofs.cluster_sync_us},
                   {"reps", 100000}};
      env.report->add(line);
    });
    const std::vector<EmbShape> emb = {{"seed000_sentiment140_lstm", 64, 100, 128, 10000},
                                       {"seed001_model_a/b", 64, 370, 128, 6000},
                                       {"seed001_model_c", 128, 370, 128, 6000},
                                       {"seed001_model_d", 16, 370, 64, 6000},
                                       {"seed002_twitter_bilstm", 32, 40, 100, 20000},
                                       {"seed003_igbo_bilstm", 32, 68, 20, 20190},
                                       {"seed004_imdb_lstm", 64, 100, 128, 5000}};
    for (const EmbShape& s : emb)
      if (wanted(s.name)) guarded(env, "embedding", s.name, [&] { embedding_cases(env, s); });
    const std::vector<DropShape> drops = {
        {"seed001_model_b", true, 64, 370, 128, 0.25},
        {"seed000_sentiment140_lstm", true, 64, 100, 128, 0.2},
        {"seed002_twitter_bilstm", true, 32, 40, 100, 0.1},
        {"seed003_igbo_bilstm", false, 32, 68, 20, 0.25},
        {"seed001_model_b (elementwise)", false, 64, 370, 128, 0.25}};
    for (const DropShape& s : drops)
      if (wanted(s.name)) guarded(env, "dropout", s.name, [&] { dropout_cases(env, s); });
    for (const SeedLstm& s : seed_lstms())
      if (wanted(s.name) && s.name.find("no-rec") == std::string::npos)  // gates do not see it
        guarded(env, "lstm_gates", s.name, [&] { gate_cases(env, s); });
    for (const SeedLstm& s : seed_lstms())
      if (wanted(s.name)) guarded(env, "lstm_layer", s.name, [&] { lstm_layer_cases(env, s); });
    std::printf("gpu_kernels: %d mismatching and %d failed case(s); results in %s\n",
                report.mismatches(), report.errors(), out_path.c_str());
    return report.mismatches() || report.errors() ? 1 : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_kernels: %s\n", e.what());
    return 1;
  }
}
