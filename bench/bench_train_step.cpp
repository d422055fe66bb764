// Times one CPU training step (forward, backward, Adam) of seed 001's Model B shapes: batch 64,
// maxlen 370, Embedding(6000,128), SpatialDropout1D .25, LSTM(100, dropout .5), Dropout .5,
// Dense(1, sigmoid). Setup and warm-up stay outside the timed steps. Prints ms/step (median,
// min) and one JSON line. Usage: bench_train_step [steps=5] [threads=0 (EMBER_NUM_THREADS, else all
// cores)].
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/bench_common.h"
#include "engine/config/config.h"
#include "engine/core/device.h"
#include "engine/core/parallel.h"
#include "engine/parse/load_config.h"
#include "layers/builder.h"
#include "layers/functional.h"
#include "optim/optimizer.h"
#include "tests/support/test_util.h"

using namespace ember;

static const char* kModelB = R"(
name: bench_model_b
seed: 1
sequence: {maxlen: 370}
model:
  - Embedding: {input_dim: 6000, output_dim: 128}
  - SpatialDropout1D: {rate: 0.25}
  - LSTM: {units: 100, dropout: 0.5}
  - Dropout: {rate: 0.5}
  - Dense: {units: 1, activation: sigmoid}
train: {loss: binary_crossentropy, optimizer: adam, batch_size: 64}
)";

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 5;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  tune_host_allocator();
  par::set_num_threads(threads);
  Config cfg = parse_config(kModelB, "bench_model_b.yaml");
  Model model = build_model(cfg, DType::kFloat32);
  auto opt = make_optimizer(cfg.train.optimizer);
  std::vector<ag::Var*> params = model.parameters();
  const int64_t batch = 64, maxlen = 370;
  Tensor tokens = test::random_ints({batch, maxlen}, 1, 6000, 11);
  Tensor y = Tensor::empty({batch}, DType::kFloat32);
  for (int64_t i = 0; i < batch; ++i) y.data<float>()[i] = static_cast<float>(i % 2);

  std::vector<double> ms;
  for (int s = 0; s < steps + 1; ++s) {  // step 0 is warm-up
    auto t0 = std::chrono::steady_clock::now();
    RunContext ctx{true, cfg.seed, static_cast<uint64_t>(s)};
    LayerIO out = model.forward(tokens, ctx);
    ag::Var loss = fn::binary_crossentropy(out.x, y, Tensor(), Tensor(), false);
    for (ag::Var* p : params) p->zero_grad();
    loss.backward();
    opt->step(params);
    double t =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (s > 0) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2], best = ms.front();
  std::printf(
      "Model B CPU training step (B=64, T=370, E=128, H=100): median %.1f ms, min %.1f ms"
      " over %d steps, %u hardware threads\n",
      median, best, steps, std::thread::hardware_concurrency());
  std::printf(
      "{\"bench\":\"train_step\",\"model\":\"seed001_model_b\",\"device\":\"cpu\","
      "\"cpu\":\"%s\",\"commit\":\"%s\",\"batch\":64,\"maxlen\":370,\"embedding\":128,"
      "\"units\":100,\"steps\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f,\"hw_threads\":%u,"
      "\"threads\":%d}\n",
      bench::cpu_model().c_str(), bench::git_commit().c_str(), steps, median, best,
      std::thread::hardware_concurrency(), par::num_threads());
  return 0;
}
