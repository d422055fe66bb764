// Times one training step (forward, loss, backward, optimizer) of ANY config's model, built
// by the engine's builder exactly as `ember train` builds it, on synthetic data of the
// config's shapes: tokens [B,T] int32 (B = train.batch_size, T = sequence.maxlen, ids in
// [1,V)), labels [B] (0/1, or class ids b % K). The Ember half of the Ember-vs-PyTorch step
// benchmark (bench/pytorch/seed_models.py prints the same JSON keys). A step is what the
// trainer does per batch, minus its mid-step loss read: the host batch is uploaded by the ops
// inside the step, and on CUDA the device is synchronized after the optimizer so the wall
// time covers all queued work. Readable line on stderr, one JSON line on stdout. --profile adds
// a per-op table of the timed steps on stderr and a "profile" array to the JSON line
// (engine/core/op_profile.h; for the CPU: on CUDA an op's time is its launch, not its run).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#ifdef EMBER_HAVE_CUDA
#include <cuda_runtime.h>
#include <cudnn.h>
#endif

#include <nlohmann/json.hpp>

#include "bench/bench_common.h"
#include "bench/profile_report.h"
#include "engine/config/config.h"
#include "engine/core/device.h"
#include "engine/core/op_profile.h"
#include "engine/core/parallel.h"
#include "engine/core/rng.h"
#include "engine/parse/load_config.h"
#include "layers/builder.h"
#include "layers/functional.h"
#include "optim/optimizer.h"

using namespace ember;
using json = nlohmann::json;

namespace {

struct Args {
  std::string config, device = "cpu", lstm_impl;
  int steps = 10, warmup = 3, threads = 0;
  bool epoch = false, profile = false;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(
      stderr,
      "bench_seed_step: %s\nusage: bench_seed_step --config FILE [--device cpu|cuda] "
      "[--steps N=10] [--warmup W=3] [--threads K=0 (EMBER_NUM_THREADS, else all cores)] [--epoch] "
      "[--lstm-impl auto|fused|cudnn|...] [--profile]\n",
      why);
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + k).c_str());
      return argv[++i];
    };
    if (k == "--config")
      a.config = val();
    else if (k == "--device")
      a.device = val();
    else if (k == "--steps")
      a.steps = std::atoi(val().c_str());
    else if (k == "--warmup")
      a.warmup = std::atoi(val().c_str());
    else if (k == "--threads")
      a.threads = std::atoi(val().c_str());
    else if (k == "--lstm-impl")
      a.lstm_impl = val();
    else if (k == "--epoch")
      a.epoch = true;
    else if (k == "--profile")
      a.profile = true;
    else
      usage(("unknown argument " + k).c_str());
  }
  if (a.config.empty()) usage("--config is required");
  if (a.device != "cpu" && a.device != "cuda") usage("--device must be cpu or cuda");
  if (a.steps < 1 || a.warmup < 0) usage("--steps must be >= 1 and --warmup >= 0");
  return a;
}

// Training rows of one epoch per seed config (after its validation split), for --epoch; the
// same table as bench/seed_table.py's train_rows.
int64_t train_rows(const std::string& name) {
  if (name.rfind("seed001_", 0) == 0) return 20000;
  if (name == "seed004_imdb_lstm") return 32000;
  if (name == "seed002_twitter_bilstm") return 21976;
  if (name == "seed000_sentiment140_lstm") return 80000;
  if (name == "seed003_igbo_bilstm") return 10192;
  return 0;
}

// Real lengths of the synthetic rows of a mask_zero model: 1 + (7919 b + 13) mod T (the formula
// of bench/seed_table.py's lengths_for). Rows are pre-padded with id 0, as the seeds'
// pad_sequences.
int64_t row_length(int64_t b, int64_t maxlen) {
  return 1 + (7919 * b + 13) % maxlen;
}

void device_sync(const Device& dev) {
#ifdef EMBER_HAVE_CUDA
  if (!dev.is_cpu()) {
    if (cudaDeviceSynchronize() != cudaSuccess)
      throw std::runtime_error("cudaDeviceSynchronize failed");
  }
#else
  (void)dev;
#endif
}

double percentile(const std::vector<double>& sorted, double q) {  // nearest rank
  const size_t n = sorted.size();
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(n)));
  i = std::min(n - 1, i == 0 ? 0 : i - 1);
  return sorted[i];
}

double round3(double v) {
  return std::round(v * 1000.0) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  tune_host_allocator();
  par::set_num_threads(args.threads);

  json line = {{"framework", "ember"}, {"config", args.config}};
  try {
    Config cfg = load_config(args.config);
    line["model"] = cfg.name;
    // One implementation for every LSTM (a Bidirectional's two included), when asked for.
    std::vector<std::string> notes;
    for (LayerConfig& lc : cfg.model) {
      LstmOptions* o = std::get_if<LstmOptions>(&lc.options);
      if (auto* bo = std::get_if<BidirectionalOptions>(&lc.options)) o = &bo->layer;
      if (!o) continue;
      if (!args.lstm_impl.empty()) o->implementation = fn::parse_lstm_impl(args.lstm_impl);
      if (o->recurrent_dropout > 0)
        notes.push_back(lc.type + "(" + std::to_string(o->units) + ") applies recurrent_dropout " +
                        std::to_string(o->recurrent_dropout).substr(0, 4) +
                        " (pytorch's nn.LSTM cannot)");
    }
    const auto* emb =
        cfg.model.empty() ? nullptr : std::get_if<EmbeddingOptions>(&cfg.model[0].options);
    if (!emb) throw std::runtime_error("the first layer must be an Embedding");
    const int64_t batch = cfg.train.batch_size, maxlen = cfg.sequence.maxlen;
    const int64_t vocab = emb->input_dim;
    line["batch"] = batch;
    line["maxlen"] = maxlen;

    const Device dev = resolve_device(args.device);
    Model model = build_model(cfg, DType::kFloat32);
    model.to(dev);
    auto opt = make_optimizer(cfg.train.optimizer);
    std::vector<ag::Var*> params = model.parameters();
    const int64_t classes = model.output_shape().back();
    const bool binary = cfg.train.loss.name == Loss::kBinaryCrossentropy;

    // The batch, on the host like the trainer's (the ops upload it inside the step).
    Tensor tokens = Tensor::empty({batch, maxlen}, DType::kInt32);
    int32_t* ids = tokens.data<int32_t>();
    for (int64_t i = 0; i < batch * maxlen; ++i)
      ids[i] = 1 + static_cast<int32_t>(philox_bits(11, 0x5eed, static_cast<uint64_t>(i)) %
                                        static_cast<uint64_t>(vocab - 1));
    if (emb->mask_zero) {
      for (int64_t b = 0; b < batch; ++b)
        std::fill(ids + b * maxlen, ids + (b + 1) * maxlen - row_length(b, maxlen), 0);
      notes.push_back("mask_zero: rows pre-padded with 0; lengths 1+(7919b+13)%T");
    }
    Tensor y = Tensor::empty({batch}, binary ? DType::kFloat32 : DType::kInt32);
    for (int64_t b = 0; b < batch; ++b) {
      if (binary)
        y.data<float>()[b] = static_cast<float>(b % 2);
      else
        y.data<int32_t>()[b] = static_cast<int32_t>(b % classes);
    }
    // Balanced class weights of balanced labels are all 1; passed anyway, as the trainer does.
    Tensor sw;
    if (!cfg.train.class_weight.empty() || !cfg.train.class_weights.empty())
      sw = Tensor::full({batch}, DType::kFloat32, 1.0);

    auto step = [&](uint64_t s) {
      op_profile::mark();  // the first op's forward starts with the step (a no-op unprofiled)
      RunContext ctx{/*training=*/true, cfg.seed, s};
      LayerIO out = model.forward(tokens, ctx);
      // The trainer's batch_loss: a per-step output carries its mask; a probability loss on a
      // sigmoid/softmax output is taken from the logits.
      const Tensor mask = out.x.value().ndim() == 3 ? out.mask : Tensor();
      const bool use_logits = !cfg.train.loss.from_logits && out.logits.defined();
      const ag::Var& pred = use_logits ? out.logits : out.x;
      const bool logits = cfg.train.loss.from_logits || use_logits;
      ag::Var loss = binary ? fn::binary_crossentropy(pred, y, sw, mask, logits)
                            : fn::sparse_categorical_crossentropy(pred, y, sw, mask, logits);
      for (ag::Var* p : params) p->zero_grad();
      loss.backward();
      {
        op_profile::Scope section("optimizer");
        opt->step(params);
      }
      device_sync(dev);
    };

    const int64_t rows = train_rows(cfg.name);
    if (args.epoch && rows == 0) throw std::runtime_error("--epoch: no row count for " + cfg.name);
    const int64_t steps = args.epoch ? (rows + batch - 1) / batch : args.steps;
    uint64_t s = 0;
    for (int w = 0; w < args.warmup; ++w) step(s++);
    std::vector<double> ms;
    if (args.profile) op_profile::enable();  // the timed steps only, not the warm-up
    for (int64_t i = 0; i < steps; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      step(s++);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    op_profile::enable(false);
    double total = 0;
    for (double v : ms) total += v;
    if (args.profile) {
      line["profile"] = bench::profile_report(op_profile::snapshot(), steps, total / steps);
      line["profile_step_ms_mean"] = round3(total / steps);
    }
    std::sort(ms.begin(), ms.end());

    // The LSTM kernels that ran: the CPU always runs the reference; on CUDA "auto" is fused.
    std::string effective = args.lstm_impl.empty() ? "auto" : args.lstm_impl;
    if (dev.is_cpu())
      effective = "reference";
    else if (effective == "auto")
      effective = "fused (auto)";
    line["device"] = args.device;
    line["device_name"] = dev.is_cpu() ? bench::cpu_model() : cuda_device_name(dev.index);
    line["step_ms_median"] = round3(percentile(ms, 0.5));
    line["step_ms_p10"] = round3(percentile(ms, 0.1));
    line["step_ms_p90"] = round3(percentile(ms, 0.9));
    line["threads"] = par::num_threads();
    line["torch_version"] = nullptr;
    line["cudnn_version"] = nullptr;  // the linked cuDNN, when the step ran on the GPU
#ifdef EMBER_HAVE_CUDA
    if (!dev.is_cpu()) line["cudnn_version"] = static_cast<int64_t>(cudnnGetVersion());
#endif
    line["steps"] = steps;
    line["warmup"] = args.warmup;
    line["lstm_impl"] = effective;
    line["commit"] = bench::git_commit();
    double load[1] = {0};
    if (getloadavg(load, 1) == 1) line["loadavg"] = std::round(load[0] * 100) / 100;
    line["notes"] = notes;
    if (args.epoch) line["epoch_s"] = std::round(total / 10.0) / 100.0;
    std::fprintf(
        stderr,
        "ember %s on %s (%s LSTM): median %.1f ms/step (p10 %.1f, p90 %.1f) over %lld steps\n",
        cfg.name.c_str(), line["device_name"].get<std::string>().c_str(), effective.c_str(),
        percentile(ms, 0.5), percentile(ms, 0.1), percentile(ms, 0.9),
        static_cast<long long>(steps));
    std::printf("%s\n", line.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    // A JSON line still, so a sweep's table shows why this one has no number.
    line["device"] = args.device;
    line["lstm_impl"] = args.lstm_impl.empty() ? "auto" : args.lstm_impl;
    line["error"] = e.what();
    std::fprintf(stderr, "bench_seed_step: %s\n", e.what());
    std::printf("%s\n", line.dump().c_str());
    return 3;
  }
}
