// The GPU kernel benchmark's pieces (bench/gpu_kernels.cpp: roofs, embedding, dropout;
// bench/gpu_kernels_gates.cpp: the LSTM gate kernels; bench/gpu_kernels_lstm.cpp: whole LSTM
// layers per implementation). Shapes are the seed models' (configs/seed*.yaml): B batch,
// T maxlen, C LSTM input, H units, E embedding, V vocab. CUDA builds only.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "bench/gpu_bench_util.h"

namespace ember::bench {

// One LSTM layer of a seed model, with the options that change its work.
struct SeedLstm {
  std::string name;  // "seed001_model_b", "seed003_igbo_bilstm/1", ...
  int64_t b, t, c, h;
  bool bidirectional = false, return_sequences = false, mask = false;
  double dropout = 0.0, recurrent_dropout = 0.0;
};
std::vector<SeedLstm> seed_lstms();

// Everything a case needs: where to run, how long, the roofs, the report.
struct Env {
  int device = 0;
  cudaStream_t stream = nullptr;
  GpuTimer* timer = nullptr;
  Report* report = nullptr;
  Roofs roofs;
  int warmup = 5, reps = 50;              // kernels
  int layer_warmup = 2, layer_reps = 10;  // whole LSTM layers
  std::vector<std::string> impls{"fused", "cudnn", "persistent"};
};

// Real lengths of a masked seed row (1 + (7919 b + 13) mod T, rows pre-padded), the formula
// of bench_seed_step.cpp and seed_models.py.
int64_t row_length(int64_t b, int64_t t);

// Microseconds per cluster barrier (bench/cluster_barrier.cu): `iters` cluster.sync() calls of
// one cluster of `cluster` CTAs, each after a DSMEM store. 0 on devices older than sm_90.
double cluster_barrier_us(int device, int cluster, int iters, cudaStream_t stream);

// {"B": 64, "T": 370, ...}: a result line's shape object.
nlohmann::json shape_of(std::initializer_list<std::pair<const char*, double>> dims);
// A copy of a host tensor on device 0.
Tensor dev_copy(const Tensor& host);

// The fused gate kernels, forward and backward, at one seed LSTM's shape
// (gpu_kernels_gates.cpp).
void gate_cases(Env& env, const SeedLstm& s);

// Whole LSTM layers (LSTM or Bidirectional over fn::lstm) forward and forward+backward, per
// implementation name, validated against the CPU float64 reference first. Each line also gets
// the layer's floor: the larger of T cluster barriers per pass (a recurrence cannot take fewer
// steps; the two directions of a Bidirectional run concurrently) and its gemm FLOPs at the
// measured SGEMM rate, and measured / floor.
void lstm_layer_cases(Env& env, const SeedLstm& s);

}  // namespace ember::bench
