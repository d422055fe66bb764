// Helpers shared by the GPU LSTM tests (tests/support/lstm_test_util.h): cases, inputs, and the
// parity, agreement, launcher and Bidirectional checks both test files run.
#include "tests/support/lstm_test_util.h"

#include <catch2/catch.hpp>

#include "engine/cuda/context.h"
#include "layers/bidirectional.h"
#include "layers/lstm.h"

namespace ember::test {

const char* mask_name(MaskKind m) {
  switch (m) {
    case MaskKind::kNone:
      return "none";
    case MaskKind::kPost:
      return "post-padded";
    case MaskKind::kPre:
      return "pre-padded";
    case MaskKind::kMixed:
      return "mixed";
  }
  return "?";
}

Tensor make_mask(MaskKind kind, int64_t nb, int64_t nt) {
  if (kind == MaskKind::kNone) return Tensor();
  Tensor m = Tensor::zeros(Shape{nb, nt}, DType::kUInt8);
  uint8_t* p = m.data<uint8_t>();
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t len = (nb > 2 && b == nb - 1) ? 0 : 1 + (5 * b + 2) % nt;
    for (int64_t t = 0; t < nt; ++t) {
      bool real = false;
      switch (kind) {
        case MaskKind::kPost:
          real = t < len;
          break;
        case MaskKind::kPre:
          real = t >= nt - len;
          break;
        case MaskKind::kMixed:
          switch (b % 5) {
            case 0:
              real = true;
              break;
            case 1:
              real = t >= nt / 2;
              break;
            case 2:
              real = t < (nt + 1) / 2;
              break;
            case 3:
              real = t % 2 == 0;
              break;
            default:
              real = false;
              break;
          }
          break;
        case MaskKind::kNone:
          break;
      }
      p[b * nt + t] = real;
    }
  }
  return m;
}

namespace {

// The options fn::LstmCall and LstmConfig both carry, under the same names.
template <class Options>
void set_options(const LstmCase& c, Options& o) {
  o.return_sequences = c.seq;
  o.go_backwards = c.back;
  o.reverse_outputs = c.rev;
  o.zero_output_for_mask = c.zero;
  o.dropout = c.drop;
  o.recurrent_dropout = c.rdrop;
  o.seed = c.seed;
  o.offset = c.offset;
}

}  // namespace

std::string LstmCase::str() const {
  std::string s = "B" + std::to_string(b) + " T" + std::to_string(t) + " C" + std::to_string(c) +
                  " H" + std::to_string(h) + " mask " + mask_name(mask);
  if (seq) s += " return_sequences";
  if (back) s += " go_backwards";
  if (rev) s += " reverse_outputs";
  if (zero) s += " zero_output_for_mask";
  if (!bias) s += " no-bias";
  if (drop > 0) s += " dropout " + std::to_string(drop);
  if (rdrop > 0) s += " recurrent_dropout " + std::to_string(rdrop);
  return s;
}

fn::LstmCall LstmCase::call(fn::LstmImpl impl) const {
  fn::LstmCall k;
  set_options(*this, k);
  k.training = true;
  k.implementation = impl;
  return k;
}

LstmConfig LstmCase::config() const {
  LstmConfig cfg;
  cfg.batch = b;
  cfg.steps = t;
  cfg.input = c;
  cfg.hidden = h;
  set_options(*this, cfg);
  return cfg;
}

bool is_big(const LstmCase& c) {
  return c.b * c.t > 1000;
}
Tolerance tol32_for(const LstmCase& c) {
  return gpu_f32_tol(is_big(c) ? 200 : 50);
}

std::vector<Tensor> lstm_inputs(const LstmCase& c, uint64_t seed) {
  std::vector<Tensor> in{random_uniform(Shape{c.b, c.t, c.c}, DType::kFloat64, -1.0, 1.0, seed),
                         random_uniform(Shape{c.c, 4 * c.h}, DType::kFloat64, -c.kernel_range,
                                        c.kernel_range, seed + 1),
                         random_uniform(Shape{c.h, 4 * c.h}, DType::kFloat64, -c.recurrent_range,
                                        c.recurrent_range, seed + 2)};
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

void check_lstm_parity(const LstmCase& c, uint64_t seed, fn::LstmImpl impl) {
  const std::vector<Tensor> in = lstm_inputs(c, seed);
  const Tensor mask = make_mask(c.mask, c.b, c.t);
  const DeviceFn f = lstm_fn(c, mask, impl);
  EMBER_CHECK_PARITY(f, in, std::vector<bool>(in.size(), true), tol32_for(c));
  if (is_big(c)) return;
  // Only some gradients asked for: the others' work is skipped, the rest unchanged.
  std::vector<bool> only_x(in.size(), false), only_w(in.size(), true);
  only_x[0] = true;
  only_w[0] = false;
  EMBER_CHECK_PARITY(f, in, only_x, tol32_for(c));
  EMBER_CHECK_PARITY(f, in, only_w, tol32_for(c));
}

void expect_lstm_impls_agree(const LstmCase& c, const std::vector<Tensor>& in, const Tensor& mask,
                             fn::LstmImpl a, fn::LstmImpl b, uint64_t seed) {
  std::vector<Tensor> rounded;
  for (const Tensor& t : in) rounded.push_back(t.to(DType::kFloat32));
  const Shape os = c.seq ? Shape{c.b, c.t, c.h} : Shape{c.b, c.h};
  const Tensor w = random_uniform(os, DType::kFloat32, -1.0, 1.0, seed);
  const std::vector<bool> all(in.size(), true);
  const OpRun ra = run_op(lstm_fn(c, mask, a), rounded, all, DType::kFloat32, Device::cuda(0), w);
  const OpRun rb = run_op(lstm_fn(c, mask, b), rounded, all, DType::kFloat32, Device::cuda(0), w);
  EMBER_EXPECT_CLOSE(ra.out, rb.out, tol32_for(c));
  for (size_t i = 0; i < in.size(); ++i) {
    INFO("gradient of input " << i);
    EMBER_EXPECT_CLOSE(ra.grads[i], rb.grads[i], tol32_for(c));
  }
}

namespace {

// The rows of a [B,T,G] gates tensor at masked steps are unspecified: zero them (host copy).
Tensor real_rows(const Tensor& gates, const Tensor& mask) {
  Tensor g = to_host_f64(gates);
  if (!mask.defined()) return g;
  const int64_t nb = g.size(0), nt = g.size(1), ng = g.size(2);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t t = 0; t < nt; ++t)
      if (!mask.data<uint8_t>()[b * nt + t])
        for (int64_t k = 0; k < ng; ++k) g.data<double>()[(b * nt + t) * ng + k] = 0.0;
  return g;
}

}  // namespace

template <class T>
void check_lstm_launchers(const LstmCase& c, uint64_t seed, LstmForwardFn<T> forward,
                          LstmBackwardFn<T> backward, bool check_gates, const char* label) {
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
  const uint8_t* hmask = mask.defined() ? mask.data<uint8_t>() : nullptr;

  // CPU reference in T.
  Tensor r_out = Tensor::empty(os, dt);
  LstmSaved r_saved;
  ref::lstm_forward<T>(cfg, ptr(in[0]), ptr(in[1]), ptr(in[2]), ptr(bias), hmask, r_out.data<T>(),
                       &r_saved);
  std::vector<Tensor> r_g;
  for (const Tensor& g : g0) r_g.push_back(g.clone());
  ref::lstm_backward<T>(cfg, ptr(in[0]), ptr(in[1]), ptr(in[2]), hmask, r_saved, ptr(d_out),
                        ptr(r_g[0]), ptr(r_g[1]), ptr(r_g[2]), c.bias ? ptr(r_g[3]) : nullptr);

  // GPU.
  std::vector<Tensor> d_in;
  for (const Tensor& t : in) d_in.push_back(to_device(t));
  const Tensor d_mask = mask.defined() ? to_device(mask) : Tensor();
  const uint8_t* dmask = d_mask.defined() ? d_mask.data<uint8_t>() : nullptr;
  const Tensor& d_bias = c.bias ? d_in[3] : no_bias;
  const cuda::LstmRun run{0, cuda::Context::get(0).stream(), nullptr};
  Tensor g_out = Tensor::empty(os, dt, Device::cuda(0));
  LstmSaved g_saved;
  forward(cfg, ptr(d_in[0]), ptr(d_in[1]), ptr(d_in[2]), ptr(d_bias), dmask, g_out.data<T>(),
          &g_saved, run);
  std::vector<Tensor> g_g;
  for (const Tensor& g : g0) g_g.push_back(to_device(g));
  const Tensor g_dout = to_device(d_out);
  backward(cfg, ptr(d_in[0]), ptr(d_in[1]), ptr(d_in[2]), dmask, g_saved, ptr(g_dout), ptr(g_g[0]),
           ptr(g_g[1]), ptr(g_g[2]), c.bias ? ptr(g_g[3]) : nullptr, run);
  sync_device(0);

  const Tolerance tol = dt == DType::kFloat64 ? gpu_f64_tol() : tol32_for(c);
  INFO(dtype_name(dt) << label);
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
  if (check_gates)
    EMBER_EXPECT_CLOSE(real_rows(g_saved.gates, mask), real_rows(r_saved.gates, mask), tol);
  REQUIRE(g_saved.x_scale.defined() == r_saved.x_scale.defined());
  REQUIRE(g_saved.h_scale.defined() == r_saved.h_scale.defined());
  if (r_saved.x_scale.defined()) CHECK(bitwise_equal(g_saved.x_scale, r_saved.x_scale));
  if (r_saved.h_scale.defined()) CHECK(bitwise_equal(g_saved.h_scale, r_saved.h_scale));
}

template void check_lstm_launchers<float>(const LstmCase&, uint64_t, LstmForwardFn<float>,
                                          LstmBackwardFn<float>, bool, const char*);
template void check_lstm_launchers<double>(const LstmCase&, uint64_t, LstmForwardFn<double>,
                                           LstmBackwardFn<double>, bool, const char*);

namespace {

BidirectionalOptions bidi_options(const BidiCase& bc) {
  BidirectionalOptions o;
  o.layer.units = bc.units;
  o.layer.return_sequences = bc.seq;
  o.layer.dropout = 0.2;
  o.layer.recurrent_dropout = bc.rdrop;
  o.layer.implementation = fn::parse_lstm_impl(bc.impl);
  o.merge_mode = parse_merge_mode(bc.merge);
  return o;
}

}  // namespace

void check_bidirectional(const BidiCase& bc, uint64_t seed) {
  const int64_t nb = 5, nt = 7, nc = 6;
  INFO("return_sequences " << bc.seq << " merge " << bc.merge << " implementation " << bc.impl
                           << " recurrent_dropout " << bc.rdrop << " mask " << mask_name(bc.mask)
                           << " units " << bc.units);
  Bidirectional layer(bidi_options(bc));
  layer.index = 3;
  InitRng rng(seed, 3);
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

}  // namespace ember::test
