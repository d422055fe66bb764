// The LSTM on the GPU against the CPU reference (kernels/lstm_ref.cpp, float64):
//  - the fused kernels (kernels/lstm_gates.cu, lstm.cu) through fn::lstm and check_parity
//    (float32 and float64 on the GPU, each run twice and compared bitwise), at awkward shapes
//    (B=1, T=1, C/H of 1, 3, 5, 37, 65, 129), masks pre- and post-padded, holed and fully
//    masked rows, go_backwards, reverse_outputs, zero_output_for_mask, return_sequences both
//    ways, with and without bias, dropout and recurrent_dropout in training;
//  - the same launchers called directly: gradients accumulate into non-zero buffers, the saved
//    dropout factors equal the reference's bit for bit (same Philox draw), and so do the saved
//    cell states and recurrent operands within tolerance;
//  - cuDNN (kernels/cudnn_rnn.cpp) against the reference under every mask (sequences are
//    compacted) and against the fused path on identical weights;
//  - Bidirectional, whose two directions run on two streams, against the CPU, with fused and
//    with cuDNN directions; the implementation choice and its errors.
// Tolerances: float64 uses the table's float64 row. float32: each output sums C + H products
// per step and the error compounds over the recurrence, each weight gradient sums B*T rows;
// the table's float32 row is scaled by 50 for the small shapes (atol 5e-4), by 200 for the
// B*T = 3840-row case.
#include <catch2/catch.hpp>

#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "engine/cuda/context.h"
#include "engine/rng.h"
#include "kernels/cudnn_rnn.h"
#include "kernels/lstm.h"
#include "layers/bidirectional.h"
#include "layers/functional.h"
#include "layers/lstm.h"
#include "tests/gpu/gpu_test_util.h"

using namespace ember;
using namespace ember::test;
using Catch::Matchers::Contains;

namespace {

enum class MaskKind { kNone, kPost, kPre, kMixed };

const char* mask_name(MaskKind m) {
  switch (m) {
    case MaskKind::kNone: return "none";
    case MaskKind::kPost: return "post-padded";
    case MaskKind::kPre: return "pre-padded";
    case MaskKind::kMixed: return "mixed";
  }
  return "?";
}

// Host [B,T] uint8. Post/pre: sample b has 1 + (5b + 2) % T real steps at the end/start, and
// with B > 2 the last sample is fully masked. Mixed cycles through full, pre-padded,
// post-padded, holes (every other step) and fully masked.
Tensor make_mask(MaskKind kind, int64_t nb, int64_t nt) {
  if (kind == MaskKind::kNone) return Tensor();
  Tensor m = Tensor::zeros(Shape{nb, nt}, DType::kUInt8);
  uint8_t* p = m.data<uint8_t>();
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t len = (nb > 2 && b == nb - 1) ? 0 : 1 + (5 * b + 2) % nt;
    for (int64_t t = 0; t < nt; ++t) {
      bool real = false;
      switch (kind) {
        case MaskKind::kPost: real = t < len; break;
        case MaskKind::kPre: real = t >= nt - len; break;
        case MaskKind::kMixed:
          switch (b % 5) {
            case 0: real = true; break;
            case 1: real = t >= nt / 2; break;
            case 2: real = t < (nt + 1) / 2; break;
            case 3: real = t % 2 == 0; break;
            default: real = false; break;
          }
          break;
        case MaskKind::kNone: break;
      }
      p[b * nt + t] = real;
    }
  }
  return m;
}

struct LstmCase {
  int64_t b, t, c, h;
  MaskKind mask = MaskKind::kNone;
  bool seq = false, back = false, rev = false, zero = false, bias = true;
  double drop = 0.0, rdrop = 0.0;
  double kernel_range = 0.6;

  std::string str() const {
    std::string s = "B" + std::to_string(b) + " T" + std::to_string(t) + " C" +
                    std::to_string(c) + " H" + std::to_string(h) + " mask " + mask_name(mask);
    if (seq) s += " return_sequences";
    if (back) s += " go_backwards";
    if (rev) s += " reverse_outputs";
    if (zero) s += " zero_output_for_mask";
    if (!bias) s += " no-bias";
    if (drop > 0) s += " dropout " + std::to_string(drop);
    if (rdrop > 0) s += " recurrent_dropout " + std::to_string(rdrop);
    return s;
  }
  fn::LstmCall call(fn::LstmImpl impl) const {
    fn::LstmCall k;
    k.return_sequences = seq;
    k.go_backwards = back;
    k.reverse_outputs = rev;
    k.zero_output_for_mask = zero;
    k.training = true;
    k.dropout = drop;
    k.recurrent_dropout = rdrop;
    k.seed = 1337;
    k.offset = dropout_offset(7, 2, 0);
    k.implementation = impl;
    return k;
  }
  LstmConfig config() const {
    LstmConfig cfg;
    cfg.batch = b;
    cfg.steps = t;
    cfg.input = c;
    cfg.hidden = h;
    cfg.return_sequences = seq;
    cfg.go_backwards = back;
    cfg.reverse_outputs = rev;
    cfg.zero_output_for_mask = zero;
    cfg.dropout = drop;
    cfg.recurrent_dropout = rdrop;
    cfg.seed = 1337;
    cfg.offset = dropout_offset(7, 2, 0);
    return cfg;
  }
};

// The sweep: awkward sizes first, then every option on small ones, then one larger shape.
std::vector<LstmCase> cases() {
  std::vector<LstmCase> v;
  auto add = [&](LstmCase c) { v.push_back(c); };
  add({1, 1, 1, 1});
  add({1, 1, 5, 3, MaskKind::kNone, true, false, false, false, /*bias=*/false});
  add({1, 4, 3, 5, MaskKind::kPost, true});
  add({3, 7, 5, 3, MaskKind::kPost, true});
  add({3, 7, 5, 3, MaskKind::kPre, false});
  add({5, 6, 37, 3, MaskKind::kMixed, false});
  add({5, 5, 3, 37, MaskKind::kMixed, true, false, false, /*zero=*/true});
  add({4, 6, 5, 3, MaskKind::kPre, true, /*back=*/true, /*rev=*/true});
  add({4, 6, 5, 3, MaskKind::kPost, true, /*back=*/true, /*rev=*/false, /*zero=*/true});
  add({5, 6, 5, 3, MaskKind::kMixed, false, /*back=*/true});
  add({6, 8, 7, 5, MaskKind::kMixed, true, false, false, false, true, 0.3, 0.25});
  add({2, 9, 4, 6, MaskKind::kNone, true, true, true, false, true, 0.5, 0.0});
  add({3, 5, 6, 4, MaskKind::kPost, false, false, false, false, false, 0.0, 0.4});
  add({5, 7, 4, 4, MaskKind::kMixed, false, true, false, true, true, 0.2, 0.2});
  add({33, 3, 129, 65, MaskKind::kPost, false, false, false, false, true, 0.1, 0.0});
  LstmCase big{32, 120, 128, 100, MaskKind::kMixed, true, false, false, false, true, 0.2, 0.2};
  big.kernel_range = 0.15;
  add(big);
  return v;
}

bool is_big(const LstmCase& c) { return c.b * c.t > 1000; }
Tolerance tol32_for(const LstmCase& c) { return gpu_f32_tol(is_big(c) ? 200 : 50); }

// x, kernel, recurrent_kernel[, bias] as host float64 tensors.
std::vector<Tensor> lstm_inputs(const LstmCase& c, uint64_t seed) {
  std::vector<Tensor> in{
      random_uniform(Shape{c.b, c.t, c.c}, DType::kFloat64, -1.0, 1.0, seed),
      random_uniform(Shape{c.c, 4 * c.h}, DType::kFloat64, -c.kernel_range, c.kernel_range,
                     seed + 1),
      random_uniform(Shape{c.h, 4 * c.h}, DType::kFloat64, -0.5, 0.5, seed + 2)};
  if (c.bias) in.push_back(random_uniform(Shape{4 * c.h}, DType::kFloat64, -0.5, 0.5, seed + 3));
  return in;
}

Tensor mask_on(const Tensor& mask, Device dev) {
  return mask.defined() && !dev.is_cpu() ? to_device(mask, dev.index) : mask;
}

DeviceFn lstm_fn(const LstmCase& c, const Tensor& mask, fn::LstmImpl impl) {
  return [c, mask, impl](const std::vector<ag::Var>& v, Device dev) {
    return fn::lstm(v[0], v[1], v[2], v.size() > 3 ? v[3] : ag::Var(), mask_on(mask, dev),
                    c.call(impl));
  };
}

}  // namespace

TEST_CASE("GPU fused LSTM matches the CPU reference under every option", "[gpu][lstm]") {
  uint64_t seed = 500;
  for (const LstmCase& c : cases()) {
    INFO(c.str());
    const std::vector<Tensor> in = lstm_inputs(c, seed += 10);
    const Tensor mask = make_mask(c.mask, c.b, c.t);
    const DeviceFn f = lstm_fn(c, mask, fn::LstmImpl::kFused);
    EMBER_CHECK_PARITY(f, in, std::vector<bool>(in.size(), true), tol32_for(c));
    if (is_big(c)) continue;
    // Only some gradients asked for: the others' work is skipped, the rest unchanged.
    std::vector<bool> only_x(in.size(), false), only_w(in.size(), true);
    only_x[0] = true;
    only_w[0] = false;
    EMBER_CHECK_PARITY(f, in, only_x, tol32_for(c));
    EMBER_CHECK_PARITY(f, in, only_w, tol32_for(c));
  }
}

namespace {

// The launchers called directly in dtype T, against ref:: in the same dtype: gradients start
// from non-zero values (they accumulate), and the saved tensors are compared too.
template <class T>
void check_launchers(const LstmCase& c, uint64_t seed) {
  const DType dt = dtype_of<T>();
  const LstmConfig cfg = c.config();
  std::vector<Tensor> in = lstm_inputs(c, seed);
  for (Tensor& t : in) t = t.to(dt);
  const Tensor mask = make_mask(c.mask, c.b, c.t);
  const Shape os = c.seq ? Shape{c.b, c.t, c.h} : Shape{c.b, c.h};
  const Tensor d_out = random_uniform(os, dt, -1.0, 1.0, seed + 5);
  std::vector<Tensor> g0;  // initial gradient values: x, kernel, recurrent, bias
  for (size_t i = 0; i < 4; ++i) {
    const Shape s = i < 3 ? in[i].shape() : Shape{4 * c.h};
    g0.push_back(random_uniform(s, dt, -1.0, 1.0, seed + 6 + i));
  }
  auto ptr = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
  const Tensor no_bias;
  const Tensor& bias = c.bias ? in[3] : no_bias;

  // CPU reference in T.
  Tensor r_out = Tensor::empty(os, dt);
  LstmSaved r_saved;
  ref::lstm_forward<T>(cfg, ptr(in[0]), ptr(in[1]), ptr(in[2]), ptr(bias),
                       mask.defined() ? mask.data<uint8_t>() : nullptr, r_out.data<T>(),
                       &r_saved);
  std::vector<Tensor> r_g;
  for (const Tensor& g : g0) r_g.push_back(g.clone());
  ref::lstm_backward<T>(cfg, ptr(in[0]), ptr(in[1]), ptr(in[2]),
                        mask.defined() ? mask.data<uint8_t>() : nullptr, r_saved, ptr(d_out),
                        ptr(r_g[0]), ptr(r_g[1]), ptr(r_g[2]), c.bias ? ptr(r_g[3]) : nullptr);

  // GPU.
  std::vector<Tensor> d_in;
  for (const Tensor& t : in) d_in.push_back(to_device(t));
  const Tensor d_mask = mask.defined() ? to_device(mask) : Tensor();
  const Tensor& d_bias = c.bias ? d_in[3] : no_bias;
  const cuda::LstmRun run{0, cuda::Context::get(0).stream(), nullptr};
  Tensor g_out = Tensor::empty(os, dt, Device::cuda(0));
  LstmSaved g_saved;
  cuda::lstm_forward<T>(cfg, ptr(d_in[0]), ptr(d_in[1]), ptr(d_in[2]), ptr(d_bias),
                        d_mask.defined() ? d_mask.data<uint8_t>() : nullptr, g_out.data<T>(),
                        &g_saved, run);
  std::vector<Tensor> g_g;
  for (const Tensor& g : g0) g_g.push_back(to_device(g));
  const Tensor g_dout = to_device(d_out);
  cuda::lstm_backward<T>(cfg, ptr(d_in[0]), ptr(d_in[1]), ptr(d_in[2]),
                         d_mask.defined() ? d_mask.data<uint8_t>() : nullptr, g_saved,
                         ptr(g_dout), ptr(g_g[0]), ptr(g_g[1]), ptr(g_g[2]),
                         c.bias ? ptr(g_g[3]) : nullptr, run);
  sync_device(0);

  const Tolerance tol = dt == DType::kFloat64 ? gpu_f64_tol() : tol32_for(c);
  INFO(dtype_name(dt));
  EMBER_EXPECT_CLOSE(to_host(g_out), r_out, tol);
  const char* names[] = {"d_x", "d_kernel", "d_recurrent_kernel", "d_bias"};
  for (size_t i = 0; i < (c.bias ? 4u : 3u); ++i) {
    INFO(names[i]);
    EMBER_EXPECT_CLOSE(to_host(g_g[i]), r_g[i], tol);
  }
  if (!c.bias) CHECK(bitwise_equal(g_g[3], g0[3]));  // untouched
  // Saved state: same meaning as the reference's. The dropout factors are the same Philox
  // draws, rounded once on the host: bit for bit.
  EMBER_EXPECT_CLOSE(to_host(g_saved.c), r_saved.c, tol);
  EMBER_EXPECT_CLOSE(to_host(g_saved.h_prev), r_saved.h_prev, tol);
  REQUIRE(g_saved.x_scale.defined() == r_saved.x_scale.defined());
  REQUIRE(g_saved.h_scale.defined() == r_saved.h_scale.defined());
  if (r_saved.x_scale.defined()) CHECK(bitwise_equal(g_saved.x_scale, r_saved.x_scale));
  if (r_saved.h_scale.defined()) CHECK(bitwise_equal(g_saved.h_scale, r_saved.h_scale));
}

}  // namespace

TEST_CASE("GPU fused launchers accumulate and save what the reference saves, dropout bit for bit",
          "[gpu][lstm]") {
  uint64_t seed = 900;
  for (const LstmCase& c : cases()) {
    INFO(c.str());
    check_launchers<double>(c, seed += 20);
    check_launchers<float>(c, seed);
  }
}

TEST_CASE("GPU cuDNN LSTM matches the CPU reference and the fused path", "[gpu][lstm][cudnn]") {
  uint64_t seed = 1500;
  for (LstmCase c : cases()) {
    c.rdrop = 0.0;  // cuDNN has no recurrent dropout
    INFO(c.str());
    const std::vector<Tensor> in = lstm_inputs(c, seed += 10);
    const Tensor mask = make_mask(c.mask, c.b, c.t);
    const DeviceFn cudnn = lstm_fn(c, mask, fn::LstmImpl::kCudnn);
    EMBER_CHECK_PARITY(cudnn, in, std::vector<bool>(in.size(), true), tol32_for(c));
    // Against the fused path on identical (float32-rounded) weights, both in float32.
    std::vector<Tensor> rounded;
    for (const Tensor& t : in) rounded.push_back(t.to(DType::kFloat32));
    const Shape os = c.seq ? Shape{c.b, c.t, c.h} : Shape{c.b, c.h};
    const Tensor w = random_uniform(os, DType::kFloat32, -1.0, 1.0, seed + 7);
    const std::vector<bool> all(in.size(), true);
    const OpRun a = run_op(cudnn, rounded, all, DType::kFloat32, Device::cuda(0), w);
    const OpRun b = run_op(lstm_fn(c, mask, fn::LstmImpl::kFused), rounded, all,
                           DType::kFloat32, Device::cuda(0), w);
    EMBER_EXPECT_CLOSE(a.out, b.out, tol32_for(c));
    for (size_t i = 0; i < in.size(); ++i) {
      INFO("gradient of input " << i);
      EMBER_EXPECT_CLOSE(a.grads[i], b.grads[i], tol32_for(c));
    }
  }
}

TEST_CASE("GPU LSTM implementation choice: reference on CUDA, cuDNN's refusals, devices",
          "[gpu][lstm]") {
  const LstmCase c{3, 5, 4, 6, MaskKind::kMixed, true, false, false, false, true, 0.2, 0.3};
  const std::vector<Tensor> in = lstm_inputs(c, 77);
  const Tensor mask = make_mask(c.mask, c.b, c.t);
  // "reference" on CUDA tensors runs the CPU code through host copies: the CPU's results.
  EMBER_CHECK_PARITY(lstm_fn(c, mask, fn::LstmImpl::kReference), in,
                     std::vector<bool>(in.size(), true), gpu_f32_tol(10),
                     Tolerance{0.0, 0.0});
  // cuDNN cannot apply recurrent dropout: an error naming it, only when it would apply.
  std::vector<ag::Var> v;
  for (const Tensor& t : in) v.emplace_back(to_device(t), true);
  fn::LstmCall call = c.call(fn::LstmImpl::kCudnn);
  CHECK_THROWS_AS(fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call), std::invalid_argument);
  CHECK_THROWS_WITH(fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call),
                    Contains("recurrent_dropout") && Contains("cudnn"));
  call.training = false;  // inference: no dropout, cuDNN is fine
  CHECK_NOTHROW(fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call));
  // A host mask beside device tensors is moved over; weights on another device are refused.
  call = c.call(fn::LstmImpl::kFused);
  const Tensor with_host_mask = fn::lstm(v[0], v[1], v[2], v[3], mask, call).value();
  const Tensor with_dev_mask = fn::lstm(v[0], v[1], v[2], v[3], to_device(mask), call).value();
  CHECK(bitwise_equal(with_host_mask, with_dev_mask));
  ag::Var host_kernel(in[1], true);
  CHECK_THROWS_WITH(fn::lstm(v[0], host_kernel, v[2], v[3], mask, call),
                    Contains("lstm") && Contains("cpu") && Contains("cuda:0"));
}

namespace {

BidirectionalOptions bidi_options(int64_t units, bool seq, const std::string& merge,
                                  const std::string& impl, double rdrop) {
  BidirectionalOptions o;
  o.layer.units = units;
  o.layer.return_sequences = seq;
  o.layer.dropout = 0.2;
  o.layer.recurrent_dropout = rdrop;
  o.layer.implementation = impl;
  o.merge_mode = merge;
  return o;
}

}  // namespace

TEST_CASE("GPU Bidirectional (two streams) matches the CPU", "[gpu][lstm][bidirectional]") {
  struct BCase {
    bool seq;
    const char* merge;
    const char* impl;
    double rdrop;
    MaskKind mask;
  };
  const BCase bcases[] = {{true, "concat", "auto", 0.1, MaskKind::kMixed},
                          {false, "concat", "fused", 0.0, MaskKind::kPre},
                          {true, "sum", "fused", 0.2, MaskKind::kPost},
                          {false, "ave", "auto", 0.0, MaskKind::kNone},
                          {true, "concat", "cudnn", 0.0, MaskKind::kMixed},
                          {false, "mul", "cudnn", 0.0, MaskKind::kPost}};
  const int64_t nb = 5, nt = 7, nc = 6, nh = 9;
  uint64_t seed = 2100;
  for (const BCase& bc : bcases) {
    INFO("return_sequences " << bc.seq << " merge " << bc.merge << " implementation "
                             << bc.impl << " recurrent_dropout " << bc.rdrop << " mask "
                             << mask_name(bc.mask));
    Bidirectional layer(bidi_options(nh, bc.seq, bc.merge, bc.impl, bc.rdrop));
    layer.index = 3;
    InitRng rng(seed += 10, 3);
    layer.build({nt, nc}, DType::kFloat64, rng);
    // Leaves: x, then the six parameters; the layer forwards with whatever Vars params() holds.
    std::vector<Tensor> in{random_uniform(Shape{nb, nt, nc}, DType::kFloat64, -1.0, 1.0, seed)};
    for (const Param& p : layer.params()) in.push_back(p.var.value().clone());
    const Tensor mask = make_mask(bc.mask, nb, nt);
    DeviceFn f = [&](const std::vector<ag::Var>& v, Device dev) {
      for (size_t i = 0; i + 1 < v.size(); ++i) layer.params()[i].var = v[i + 1];
      RunContext ctx;
      ctx.training = true;
      ctx.seed = 4242;
      ctx.step = 11;
      return layer.forward(LayerIO(v[0], mask_on(mask, dev)), ctx).x;
    };
    EMBER_CHECK_PARITY(f, in, std::vector<bool>(in.size(), true), gpu_f32_tol(50));
  }
}
