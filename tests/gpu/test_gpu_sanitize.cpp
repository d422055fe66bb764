// The [sanitize] cases: every kind of kernel once, at small shapes, for compute-sanitizer's
// memcheck and racecheck (scripts/gpu_check.sh runs `ember_gpu_tests "[sanitize]"` under each;
// the sanitizers slow kernels 10-100x, so the whole suite would not fit one device call, and
// the out-of-memory test's deliberate 1 PiB cudaMalloc stays out). Each case is a real parity
// check through the same helpers as the full suite: embedding (vector and scalar gathers,
// sorted backward), mask_zero, Dropout and SpatialDropout1D, dense and the activations, both
// cross-entropy losses with masks and weights, fused SGD/Adam (bit for bit with the CPU) and
// global-norm clipping, the fused and the persistent LSTM (clusters of 1, 2, 4 and 8 CTAs),
// Bidirectional with fused, persistent and cuDNN directions on two streams, and cuDNN's LSTM.
// Shapes are [B,T,C] with H = units, as in the other GPU tests; tolerances as theirs.
#include <catch2/catch.hpp>

#include <vector>

#include "engine/core/rng.h"
#include "layers/functional.h"
#include "optim/clip.h"
#include "optim/optimizer.h"
#include "tests/support/gpu_test_util.h"
#include "tests/support/lstm_test_util.h"

using namespace ember;
using namespace ember::test;

namespace {

// ids in [1, V) after a pre-padded run of 0 in each row.
Tensor small_ids(int64_t batch, int64_t steps, int32_t vocab, uint64_t seed) {
  return pre_padded_ids(batch, steps, 1, vocab, 1, seed);
}

}  // namespace

TEST_CASE("sanitize: embedding, mask_zero, dropout, dense and activations", "[gpu][sanitize]") {
  for (int64_t dim : {8, 5}) {  // E % 4 == 0: vector gathers; odd: scalar
    INFO("embedding E=" << dim);
    const Tensor ids = small_ids(3, 9, 13, 1 + dim);
    const Tensor w = random_uniform(Shape{13, dim}, DType::kFloat64, -0.05, 0.05, 2 + dim);
    DeviceFn f = [&](const std::vector<ag::Var>& v, Device) { return fn::embedding(v[0], ids); };
    EMBER_CHECK_PARITY(f, {w}, {true}, gpu_f32_tol(20));
  }
  {
    const Tensor ids = small_ids(4, 7, 9, 3);
    const NonzeroMasks m = nonzero_masks(ids);
    CHECK(bitwise_equal(m.gpu, m.cpu));
  }
  const Tensor x = random_uniform(Shape{2, 5, 7}, DType::kFloat64, -2, 2, 4);
  DeviceFn drop = [](const std::vector<ag::Var>& v, Device) {
    return fn::dropout(v[0], 0.3, 77, dropout_offset(1, 2, 0));
  };
  EMBER_CHECK_PARITY(drop, {x}, {true}, gpu_f32_tol(1));
  DeviceFn spatial = [](const std::vector<ag::Var>& v, Device) {
    return fn::spatial_dropout1d(v[0], 0.3, 77, dropout_offset(1, 3, 0));
  };
  EMBER_CHECK_PARITY(spatial, {x}, {true}, gpu_f32_tol(1));
  const std::vector<Tensor> dense_in{random_uniform(Shape{3, 4, 5}, DType::kFloat64, -1, 1, 5),
                                     random_uniform(Shape{5, 3}, DType::kFloat64, -1, 1, 6),
                                     random_uniform(Shape{3}, DType::kFloat64, -1, 1, 7)};
  DeviceFn dense = [](const std::vector<ag::Var>& v, Device) {
    return fn::activation(fn::dense(v[0], v[1], v[2]), fn::Activation::kSoftmax);
  };
  EMBER_CHECK_PARITY(dense, dense_in, {true, true, true}, gpu_f32_tol(20));
  DeviceFn sigmoid = [](const std::vector<ag::Var>& v, Device) {
    return fn::activation(v[0], fn::Activation::kSigmoid);
  };
  EMBER_CHECK_PARITY(sigmoid, {x}, {true}, gpu_f32_tol(4));
}

TEST_CASE("sanitize: cross-entropy losses with masks and weights", "[gpu][sanitize]") {
  const int64_t nb = 4, nt = 5, nk = 3;
  const Tensor weights = random_uniform(Shape{nb}, DType::kFloat64, 0, 2, 11);
  Tensor mask = random_ints(Shape{nb, nt}, 0, 2, 12).to(DType::kFloat64);
  mask.data<double>()[0] = 1.0;
  const Tensor y_bin = random_ints(Shape{nb}, 0, 2, 13).to(DType::kFloat64);
  const Tensor y_cat = random_ints(Shape{nb}, 0, static_cast<int32_t>(nk), 14);
  for (bool logits : {false, true}) {
    INFO("logits " << logits);
    const Tensor p = random_uniform(Shape{nb, nt, 1}, DType::kFloat64, logits ? -6 : 0.01,
                                    logits ? 6 : 0.99, 15);
    DeviceFn bce = [&](const std::vector<ag::Var>& v, Device dev) {
      const DType dt = v[0].value().dtype();
      const bool gpu = !dev.is_cpu();
      return fn::binary_crossentropy(v[0], gpu ? to_device_as(y_bin, dt) : y_bin,
                                     gpu ? to_device_as(weights, dt) : weights, mask, logits);
    };
    EMBER_CHECK_PARITY(bce, {p}, {true}, gpu_f32_tol(10));
    const Tensor q = random_uniform(Shape{nb, nt, nk}, DType::kFloat64, -3, 3, 16);
    DeviceFn scce = [&](const std::vector<ag::Var>& v, Device) {
      const ag::Var pred = logits ? v[0] : fn::activation(v[0], fn::Activation::kSoftmax);
      return fn::sparse_categorical_crossentropy(pred, y_cat, Tensor(), mask, logits);
    };
    EMBER_CHECK_PARITY(scce, {q}, {true}, gpu_f32_tol(10));
  }
}

TEST_CASE("sanitize: fused SGD and Adam steps and global-norm clipping", "[gpu][sanitize]") {
  for (OptimizerKind name : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    INFO(optimizer_name(name));
    OptimizerConfig cfg;
    cfg.name = name;
    cfg.learning_rate = 0.01;
    cfg.momentum = 0.9;
    cfg.nesterov = true;
    std::vector<ag::Var> cpu, gpu;
    int i = 0;
    for (const Shape& s : {Shape{1}, Shape{7}, Shape{5, 3}}) {
      const Tensor v = random_uniform(s, DType::kFloat32, -1, 1, 20 + i++);
      cpu.emplace_back(v.clone(), true);
      gpu.emplace_back(to_device(v), true);
    }
    auto opt_cpu = make_optimizer(cfg), opt_gpu = make_optimizer(cfg);
    for (int step = 0; step < 2; ++step) {
      std::vector<ag::Var*> pc, pg;
      for (size_t k = 0; k < cpu.size(); ++k) {
        const Tensor g = random_uniform(cpu[k].shape(), DType::kFloat32, -3, 3, 100 * step + k);
        cpu[k].mutable_grad() = g.clone();
        gpu[k].mutable_grad() = to_device(g);
        pc.push_back(&cpu[k]);
        pg.push_back(&gpu[k]);
      }
      CHECK(clip_by_global_norm(pg, 1e9) == Approx(clip_by_global_norm(pc, 1e9)).epsilon(1e-6));
      opt_cpu->step(pc);
      opt_gpu->step(pg);
    }
    for (size_t k = 0; k < cpu.size(); ++k) CHECK(bitwise_equal(gpu[k].value(), cpu[k].value()));
  }
}

TEST_CASE("sanitize: fused and persistent LSTM, clusters of 1, 2, 4 and 8", "[gpu][sanitize]") {
  // Field order: b, t, c, h, mask, seq, back, rev, zero, bias, drop, rdrop.
  const LstmCase fused{3, 5, 4, 6, MaskKind::kMixed, true, false, false, false, true, 0.2, 0.2};
  check_lstm_parity(fused, 7100, fn::LstmImpl::kFused);
  const LstmCase persistent[] = {
      {2, 3, 3, 5, MaskKind::kPost, true},                                          // 1 CTA
      {3, 4, 5, 17, MaskKind::kMixed, false, true, false, true, true, 0.2, 0.3},    // 2
      {5, 3, 4, 37, MaskKind::kPre, true, false, true, false, true, 0.1, 0.0},      // 4
      {2, 3, 4, 65, MaskKind::kNone, true, false, false, false, false, 0.0, 0.2}};  // 8
  uint64_t seed = 7200;
  for (const LstmCase& c : persistent) {
    INFO(c.str());
    check_lstm_parity(c, seed += 10, fn::LstmImpl::kPersistent);
  }
}

TEST_CASE("sanitize: Bidirectional with fused and persistent directions", "[gpu][sanitize]") {
  check_bidirectional({true, "concat", "fused", 0.1, MaskKind::kMixed, 9}, 7300);
  check_bidirectional({false, "sum", "persistent", 0.2, MaskKind::kPost, 17}, 7310);
}

TEST_CASE("sanitize: cuDNN LSTM and Bidirectional with cuDNN directions",
          "[gpu][sanitize][cudnn]") {
  const LstmCase c{3, 5, 4, 6, MaskKind::kMixed, true, false, false, false, true, 0.2, 0.0};
  const std::vector<Tensor> in = lstm_inputs(c, 7400);
  const DeviceFn f = lstm_fn(c, make_mask(c.mask, c.b, c.t), fn::LstmImpl::kCudnn);
  EMBER_CHECK_PARITY(f, in, std::vector<bool>(in.size(), true), tol32_for(c));
  check_bidirectional({true, "concat", "cudnn", 0.0, MaskKind::kMixed, 9}, 7410);
}
