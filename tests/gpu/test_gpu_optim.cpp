// Fused GPU optimizers against the CPU ones: SGD (plain, momentum, nesterov) and Adam over
// parameter lists of odd sizes (1 element, 7, 33x17, a million; 5003 on the CUDA emulator,
// where a million-element tensor is checked by one case of its own), float32 and float64, more
// than one launch's worth of tensors (40 params), and params without gradients; three steps
// with fresh gradients each. The fused kernels round every operation separately, as the CPU loops
// do, so params and optimizer state must equal the CPU's bit for bit. Clipping: global and
// per-tensor norms on the device against the CPU (order of summation differs: float64
// tolerance 1e-12 relative; clipped float32 gradients within the float32 row of the table),
// bitwise repeatable; state() returns host copies and load_state() continues on the device.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "optim/clip.h"
#include "optim/optimizer.h"
#include "tests/support/gpu_test_util.h"

using namespace ember;
using namespace ember::test;

namespace {

struct Params {
  std::vector<ag::Var> vars;
  std::vector<ag::Var*> ptrs() {
    std::vector<ag::Var*> p;
    for (ag::Var& v : vars) p.push_back(&v);
    return p;
  }
};

// More elements than the update kernels' grid (2048 blocks of 256 threads), so their
// grid-stride loops take a second lap.
constexpr int64_t kBeyondOneGrid = 1000003;
// The sweep's largest tensor: kBeyondOneGrid on a GPU. On the emulator a launch costs a fiber
// per CUDA thread and every tensor of a launch gets the largest one's blocks, so the sweep uses
// 5003 (20 blocks, an odd tail) and the second lap is checked once, by its own test case.
constexpr int64_t kLargest = kEmulated ? 5003 : kBeyondOneGrid;

std::vector<Shape> shapes(int count) {
  const Shape base[] = {Shape{1}, Shape{7}, Shape{33, 17}, Shape{kLargest}, Shape{3, 5, 2}};
  std::vector<Shape> out;
  for (int i = 0; i < count; ++i) out.push_back(i == 3 ? base[3] : base[i % 5 == 3 ? 4 : i % 5]);
  return out;
}

// The same random params on the cpu and on the gpu, of the given shapes.
void make_params(DType dt, const std::vector<Shape>& param_shapes, Params* cpu, Params* gpu,
                 uint64_t seed) {
  int i = 0;
  for (const Shape& s : param_shapes) {
    Tensor v = random_uniform(s, dt, -1, 1, seed + static_cast<uint64_t>(i++));
    cpu->vars.emplace_back(v.clone(), true);
    gpu->vars.emplace_back(to_device(v), true);
  }
}

// Fresh gradients for step `step` (param 2 gets none when skip_one).
void set_grads(Params* cpu, Params* gpu, DType dt, int step, bool skip_one) {
  for (size_t i = 0; i < cpu->vars.size(); ++i) {
    if (skip_one && i == 2) {
      cpu->vars[i].zero_grad();
      gpu->vars[i].zero_grad();
      continue;
    }
    Tensor g = random_uniform(cpu->vars[i].shape(), dt, -3, 3, 1000 * (step + 1) + i);
    cpu->vars[i].mutable_grad() = g.clone();
    gpu->vars[i].mutable_grad() = to_device(g);
  }
}

OptimizerConfig config(OptimizerKind name, double lr) {
  OptimizerConfig c;
  c.name = name;
  c.learning_rate = lr;
  return c;
}

void make_params(DType dt, int count, Params* cpu, Params* gpu, uint64_t seed) {
  make_params(dt, shapes(count), cpu, gpu, seed);
}

void expect_same_run(const OptimizerConfig& cfg, DType dt, const std::vector<Shape>& param_shapes,
                     bool skip_one) {
  INFO(optimizer_name(cfg.name) << " momentum " << cfg.momentum << " nesterov " << cfg.nesterov
                                << " " << dtype_name(dt) << " params " << param_shapes.size()
                                << " skip " << skip_one << " global_clipnorm "
                                << cfg.global_clipnorm.value_or(0) << " clipnorm "
                                << cfg.clipnorm.value_or(0));
  Params cpu, gpu;
  make_params(dt, param_shapes, &cpu, &gpu, 42);
  auto opt_cpu = make_optimizer(cfg);
  auto opt_gpu = make_optimizer(cfg);
  for (int step = 0; step < 3; ++step) {
    set_grads(&cpu, &gpu, dt, step, skip_one);
    opt_cpu->step(cpu.ptrs());
    opt_gpu->step(gpu.ptrs());
  }
  const bool clipping = cfg.global_clipnorm || cfg.clipnorm;
  for (size_t i = 0; i < cpu.vars.size(); ++i) {
    INFO("param " << i);
    const Tensor got = to_host(gpu.vars[i].value());
    if (clipping) {  // the norm's summation order differs, so the clipped grads may by an ulp
      EMBER_EXPECT_CLOSE(got, cpu.vars[i].value(), tolerance(dt));
    } else {
      CHECK(bitwise_equal(got, cpu.vars[i].value()));
    }
  }
  const auto s_cpu = opt_cpu->state();
  const auto s_gpu = opt_gpu->state();
  REQUIRE(s_cpu.size() == s_gpu.size());
  for (size_t k = 0; k < s_cpu.size(); ++k) {
    INFO("state " << s_cpu[k].first);
    CHECK(s_gpu[k].first == s_cpu[k].first);
    CHECK(s_gpu[k].second.device().is_cpu());
    if (!clipping) CHECK(bitwise_equal(s_gpu[k].second, s_cpu[k].second));
  }
}

void expect_same_run(const OptimizerConfig& cfg, DType dt, int count, bool skip_one) {
  expect_same_run(cfg, dt, shapes(count), skip_one);
}

}  // namespace

TEST_CASE("GPU sgd and adam equal the CPU updates bit for bit", "[gpu][optim]") {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    for (int count : {1, 5, 40}) {
      OptimizerConfig plain = config(OptimizerKind::kSgd, 0.05);
      OptimizerConfig momentum = plain;
      momentum.momentum = 0.9;
      OptimizerConfig nesterov = momentum;
      nesterov.nesterov = true;
      OptimizerConfig adam = config(OptimizerKind::kAdam, 0.01);
      OptimizerConfig adam_custom = config(OptimizerKind::kAdam, 0.003);
      adam_custom.beta_1 = 0.8;
      adam_custom.beta_2 = 0.99;
      adam_custom.epsilon = 1e-5;
      for (const OptimizerConfig& c : {plain, momentum, nesterov, adam, adam_custom}) {
        expect_same_run(c, dt, count, false);
        expect_same_run(c, dt, count, true);
      }
    }
  }
}

TEST_CASE("GPU optimizers and clipping on a tensor longer than one grid", "[gpu][optim]") {
  const std::vector<Shape> two{Shape{kBeyondOneGrid}, Shape{7}};
  OptimizerConfig nesterov = config(OptimizerKind::kSgd, 0.05);
  nesterov.momentum = 0.9;
  nesterov.nesterov = true;
  OptimizerConfig clipped = config(OptimizerKind::kAdam, 0.01);
  clipped.global_clipnorm = 1.0;
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    expect_same_run(nesterov, dt, two, false);
    expect_same_run(config(OptimizerKind::kAdam, 0.01), dt, two, true);
    expect_same_run(clipped, dt, two, false);
  }
}

TEST_CASE("GPU clipping matches the CPU and repeats bit for bit", "[gpu][optim]") {
  for (DType dt : {DType::kFloat32, DType::kFloat64}) {
    OptimizerConfig global = config(OptimizerKind::kAdam, 0.01);
    global.global_clipnorm = 1.0;
    OptimizerConfig per_tensor = config(OptimizerKind::kSgd, 0.05);
    per_tensor.momentum = 0.9;
    per_tensor.clipnorm = 0.5;
    OptimizerConfig loose = config(OptimizerKind::kSgd, 0.05);
    loose.global_clipnorm = 1e9;  // never clips: the factor is exactly 1
    for (const OptimizerConfig& c : {global, per_tensor, loose}) expect_same_run(c, dt, 7, true);

    Params cpu, gpu;
    make_params(dt, 7, &cpu, &gpu, 9);
    set_grads(&cpu, &gpu, dt, 0, true);
    const double n_cpu = global_norm(cpu.ptrs());
    CHECK(global_norm(gpu.ptrs()) == Approx(n_cpu).epsilon(1e-12));
    // Clip twice from the same gradients: identical bits.
    std::vector<Tensor> saved;
    for (ag::Var& v : gpu.vars) saved.push_back(v.grad().defined() ? v.grad().clone() : Tensor());
    CHECK(clip_by_global_norm(gpu.ptrs(), 0.5) == Approx(n_cpu).epsilon(1e-12));
    std::vector<Tensor> first;
    for (size_t i = 0; i < gpu.vars.size(); ++i) {
      first.push_back(gpu.vars[i].grad().defined() ? to_host(gpu.vars[i].grad()) : Tensor());
      if (saved[i].defined()) gpu.vars[i].mutable_grad() = saved[i].clone();
    }
    clip_by_global_norm(gpu.ptrs(), 0.5);
    clip_by_global_norm(cpu.ptrs(), 0.5);
    for (size_t i = 0; i < gpu.vars.size(); ++i) {
      if (!first[i].defined()) continue;
      CHECK(bitwise_equal(first[i], gpu.vars[i].grad()));
      EMBER_EXPECT_CLOSE(to_host(gpu.vars[i].grad()), cpu.vars[i].grad(), tolerance(dt));
    }
  }
}

TEST_CASE("GPU optimizer state round-trips through the host", "[gpu][optim]") {
  OptimizerConfig cfg = config(OptimizerKind::kAdam, 0.01);
  Params cpu, gpu;
  make_params(DType::kFloat32, 5, &cpu, &gpu, 3);
  auto a = make_optimizer(cfg);
  auto b = make_optimizer(cfg);
  set_grads(&cpu, &gpu, DType::kFloat32, 0, false);
  a->step(cpu.ptrs());
  b->step(gpu.ptrs());
  auto resumed = make_optimizer(cfg);
  resumed->load_state(b->state());  // host tensors, moved to the device on first use
  for (int step = 1; step < 3; ++step) {
    set_grads(&cpu, &gpu, DType::kFloat32, step, false);
    a->step(cpu.ptrs());
    resumed->step(gpu.ptrs());
  }
  for (size_t i = 0; i < cpu.vars.size(); ++i)
    CHECK(bitwise_equal(to_host(gpu.vars[i].value()), cpu.vars[i].value()));
}

TEST_CASE("GPU optimizer rejects params on different devices", "[gpu][optim]") {
  ag::Var a(random_uniform(Shape{3}, DType::kFloat32, -1, 1, 1), true);
  ag::Var b(to_device(random_uniform(Shape{3}, DType::kFloat32, -1, 1, 2)), true);
  a.mutable_grad() = Tensor::zeros(Shape{3}, DType::kFloat32);
  b.mutable_grad() = Tensor::zeros(Shape{3}, DType::kFloat32, Device::cuda(0));
  auto opt = make_optimizer(config(OptimizerKind::kSgd, 0.1));
  CHECK_THROWS_WITH(opt->step({&a, &b}), Catch::Matchers::Contains("different devices"));
}
