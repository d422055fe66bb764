// Tests for kernels/lstm (through fn::lstm) and the LSTM layer: a hand-computed 2-step case,
// float64 gradchecks of x, kernel, recurrent_kernel and bias under every option (masks with
// pre/post padding, go_backwards, return_sequences, dropout, zero_output_for_mask, odd sizes),
// mask carry-over, direction symmetry, float32/float64 agreement, determinism, and the
// layer's shapes, parameters and Keras parameter counts. "[.bench]" times the seed 001 Model B
// shape (hidden by default; it asserts only that the gradients are finite).
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <iostream>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/tensor_ops.h"
#include "layers/functional.h"
#include "layers/lstm.h"
#include "tests/support/test_util.h"

using ember::DType;
using ember::Shape;
using ember::Tensor;
using ember::ag::Var;
namespace fn = ember::fn;
namespace et = ember::test;

namespace {

struct Inputs {
  Tensor x, kernel, recurrent, bias;
};

Inputs random_inputs(int64_t nb, int64_t nt, int64_t nc, int64_t nh, DType dt, uint64_t seed) {
  return {et::random_uniform(Shape{nb, nt, nc}, dt, -1.0, 1.0, seed),
          et::random_uniform(Shape{nc, 4 * nh}, dt, -0.6, 0.6, seed + 1),
          et::random_uniform(Shape{nh, 4 * nh}, dt, -0.6, 0.6, seed + 2),
          et::random_uniform(Shape{4 * nh}, dt, -0.5, 0.5, seed + 3)};
}

// The same inputs in float32, for the float32-vs-float64 comparisons.
Inputs to_float32(const Inputs& in) {
  return {in.x.to(DType::kFloat32), in.kernel.to(DType::kFloat32), in.recurrent.to(DType::kFloat32),
          in.bias.to(DType::kFloat32)};
}

// A training call with both dropouts on, drawn from `seed` (return_sequences and the rest are
// left at their defaults for the caller to set).
fn::LstmCall dropout_call(double dropout, double recurrent_dropout, uint64_t seed) {
  fn::LstmCall call;
  call.training = true;
  call.dropout = dropout;
  call.recurrent_dropout = recurrent_dropout;
  call.seed = seed;
  return call;
}

Tensor mask_from(int64_t nb, int64_t nt, const std::vector<uint8_t>& v) {
  Tensor m = Tensor::empty(Shape{nb, nt}, DType::kUInt8);
  REQUIRE(static_cast<int64_t>(v.size()) == nb * nt);
  for (size_t i = 0; i < v.size(); ++i) m.data<uint8_t>()[i] = v[i];
  return m;
}

// B=5, T=5: full, pre-padded (masked at the start), post-padded, holes, fully masked.
Tensor padded_mask() {
  return mask_from(5, 5, {1, 1, 1, 1, 1,  //
                          0, 0, 1, 1, 1,  //
                          1, 1, 1, 0, 0,  //
                          1, 0, 1, 0, 1,  //
                          0, 0, 0, 0, 0});
}

Shape out_shape(const Tensor& x, int64_t nh, const fn::LstmCall& call) {
  return call.return_sequences ? Shape{x.size(0), x.size(1), nh} : Shape{x.size(0), nh};
}

Tensor run(const Inputs& in, const Tensor& mask, const fn::LstmCall& call, bool with_bias = true) {
  ember::ag::NoGradGuard ng;
  return fn::lstm(Var(in.x), Var(in.kernel), Var(in.recurrent), with_bias ? Var(in.bias) : Var(),
                  mask, call)
      .value();
}

// Float64 gradcheck of all four (or three, without bias) inputs.
std::string gradcheck_lstm(const Inputs& in, const Tensor& mask, const fn::LstmCall& call,
                           bool with_bias = true) {
  const int64_t nh = in.recurrent.size(0);
  Tensor w = et::random_uniform(out_shape(in.x, nh, call), DType::kFloat64, -1.0, 1.0, 99);
  auto f = [&](const std::vector<Var>& v) {
    return et::weighted_sum(fn::lstm(v[0], v[1], v[2], with_bias ? v[3] : Var(), mask, call), w);
  };
  std::vector<Tensor> inputs{in.x, in.kernel, in.recurrent};
  if (with_bias) inputs.push_back(in.bias);
  return et::gradcheck(f, inputs, std::vector<bool>(inputs.size(), true));
}

// Gradients of weighted_sum(lstm(...), w) for x, kernel, recurrent, bias.
std::vector<Tensor> grads(const Inputs& in, const Tensor& mask, const fn::LstmCall& call,
                          const Tensor& w) {
  std::vector<Var> v{Var(in.x, true), Var(in.kernel, true), Var(in.recurrent, true),
                     Var(in.bias, true)};
  et::weighted_sum(fn::lstm(v[0], v[1], v[2], v[3], mask, call), w).backward();
  return {v[0].grad(), v[1].grad(), v[2].grad(), v[3].grad()};
}

Tensor reverse_time(const Tensor& x) {  // [B,T,C] -> x[:, T-1-t, :]
  Tensor r = x.clone();
  const int64_t nb = x.size(0), nt = x.size(1), nc = x.size(2);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t t = 0; t < nt; ++t)
      for (int64_t c = 0; c < nc; ++c)
        r.data<double>()[(b * nt + t) * nc + c] = x.data<double>()[(b * nt + nt - 1 - t) * nc + c];
  return r;
}

}  // namespace

TEST_CASE("lstm: hand-computed two steps, C=1 H=1", "[lstm][cpu]") {
  // kernel [1,4] = (i 1, f 0, g 1, o 0); recurrent [1,4] = (0, 0, 2, 1); bias = (0, 1, 0, 0).
  // Step 1, x=1, h0=c0=0: a = (1, 1, 1, 0) -> i=s(1), g=tanh(1), o=s(0)=0.5 (f meets c0=0)
  //   c1 = s(1)*tanh(1) = 0.55676994114594, h1 = 0.5*tanh(c1) = 0.25278846575355.
  // Step 2, x=-1: a = (-1, 1, -1+2*h1, h1) -> c2 = s(1)*c1 + s(-1)*tanh(-1+2*h1)
  //   = 0.28393159992365, h2 = s(h1)*tanh(c2) = 0.15565402631221.
  Inputs in{Tensor::from<double>(Shape{1, 2, 1}, {1.0, -1.0}),
            Tensor::from<double>(Shape{1, 4}, {1, 0, 1, 0}),
            Tensor::from<double>(Shape{1, 4}, {0, 0, 2, 1}),
            Tensor::from<double>(Shape{4}, {0, 1, 0, 0})};
  fn::LstmCall call;
  call.return_sequences = true;
  Tensor y = run(in, Tensor(), call);
  EMBER_EXPECT_CLOSE(y,
                     Tensor::from<double>(Shape{1, 2, 1}, {0.252788465753554, 0.15565402631220815}),
                     (et::Tolerance{1e-14, 1e-13}));
  call.return_sequences = false;
  EMBER_EXPECT_CLOSE(run(in, Tensor(), call),
                     Tensor::from<double>(Shape{1, 1}, {0.15565402631220815}),
                     (et::Tolerance{1e-14, 1e-13}));

  // One step (T=1, x=1): d h1 / d bias_o = tanh(c1) * o(1-o) = tanh(c1)/4 = 0.126394232876777;
  // d h1 / d bias_f = 0 because f multiplies c0 = 0.
  Inputs one = in;
  one.x = Tensor::from<double>(Shape{1, 1, 1}, {1.0});
  std::vector<Tensor> g = grads(one, Tensor(), call, Tensor::from<double>(Shape{1, 1}, {1.0}));
  CHECK(g[3].item(1) == 0.0);
  CHECK(g[3].item(3) == Approx(0.126394232876777).epsilon(1e-12));
}

TEST_CASE("lstm: float64 gradcheck, plain and return_sequences", "[lstm][cpu]") {
  Inputs in = random_inputs(3, 4, 2, 3, DType::kFloat64, 11);
  fn::LstmCall call;
  SECTION("last output") {
    CHECK(gradcheck_lstm(in, Tensor(), call) == "");
  }
  SECTION("sequences") {
    call.return_sequences = true;
    CHECK(gradcheck_lstm(in, Tensor(), call) == "");
  }
  SECTION("no bias") {
    CHECK(gradcheck_lstm(in, Tensor(), call, false) == "");
  }
}

TEST_CASE("lstm: float64 gradcheck, go_backwards and reverse_outputs", "[lstm][cpu]") {
  Inputs in = random_inputs(2, 5, 3, 2, DType::kFloat64, 21);
  fn::LstmCall call;
  call.go_backwards = true;
  CHECK(gradcheck_lstm(in, Tensor(), call) == "");
  call.return_sequences = true;
  CHECK(gradcheck_lstm(in, Tensor(), call) == "");
  call.reverse_outputs = true;
  CHECK(gradcheck_lstm(in, Tensor(), call) == "");
}

TEST_CASE("lstm: float64 gradcheck with pre/post padding masks", "[lstm][cpu]") {
  Inputs in = random_inputs(5, 5, 2, 3, DType::kFloat64, 31);
  const Tensor mask = padded_mask();
  fn::LstmCall call;
  for (bool seq : {false, true})
    for (bool back : {false, true})
      for (bool zero : {false, true}) {
        call.return_sequences = seq;
        call.go_backwards = back;
        call.reverse_outputs = seq && back;
        call.zero_output_for_mask = zero;
        INFO("return_sequences " << seq << " go_backwards " << back << " zero_output " << zero);
        CHECK(gradcheck_lstm(in, mask, call) == "");
      }
}

TEST_CASE("lstm: float64 gradcheck with dropout and recurrent_dropout", "[lstm][cpu]") {
  Inputs in = random_inputs(4, 4, 5, 3, DType::kFloat64, 41);
  fn::LstmCall call = dropout_call(0.4, 0.35, 1234);
  call.offset = ember::dropout_offset(7, 2, 0);
  CHECK(gradcheck_lstm(in, Tensor(), call) == "");
  call.return_sequences = true;
  call.go_backwards = true;
  Tensor mask = mask_from(4, 4, {1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1});
  CHECK(gradcheck_lstm(in, mask, call) == "");

  // Dropout really acts in training, and not at all at inference.
  fn::LstmCall plain;
  plain.return_sequences = true;
  plain.go_backwards = true;
  CHECK(et::compare(run(in, mask, call), run(in, mask, plain), et::tolerance(DType::kFloat64)) !=
        "");
  call.training = false;
  CHECK(et::same_bytes(run(in, mask, call), run(in, mask, plain)));
}

TEST_CASE("lstm: float64 gradcheck edge sizes", "[lstm][cpu]") {
  fn::LstmCall call;
  SECTION("T=1") {
    call.return_sequences = true;
    CHECK(gradcheck_lstm(random_inputs(2, 1, 3, 2, DType::kFloat64, 51), Tensor(), call) == "");
  }
  SECTION("B=1") {
    CHECK(gradcheck_lstm(random_inputs(1, 4, 2, 2, DType::kFloat64, 52), Tensor(), call) == "");
  }
  SECTION("odd C=5, H=3, with dropout") {
    call = dropout_call(0.2, 0.5, 5);
    CHECK(gradcheck_lstm(random_inputs(3, 3, 5, 3, DType::kFloat64, 53), Tensor(), call) == "");
  }
}

TEST_CASE("lstm: masked steps carry the state and repeat the output", "[lstm][cpu]") {
  Inputs in = random_inputs(5, 5, 2, 3, DType::kFloat64, 61);
  const Tensor mask = padded_mask();
  const int64_t nb = 5, nt = 5, nh = 3;
  fn::LstmCall call;
  call.return_sequences = true;
  Tensor y = run(in, mask, call);
  call.zero_output_for_mask = true;
  Tensor yz = run(in, mask, call);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t t = 0; t < nt; ++t) {
      if (mask.data<uint8_t>()[b * nt + t]) continue;
      for (int64_t j = 0; j < nh; ++j) {
        const double prev = t > 0 ? y.item((b * nt + t - 1) * nh + j) : 0.0;
        INFO("b " << b << " t " << t << " j " << j);
        CHECK(y.item((b * nt + t) * nh + j) == prev);
        CHECK(yz.item((b * nt + t) * nh + j) == 0.0);
      }
    }
  // The last output of a post-padded row is its output at the last real step.
  call.zero_output_for_mask = false;
  call.return_sequences = false;
  Tensor last = run(in, mask, call);
  for (int64_t j = 0; j < nh; ++j) CHECK(last.item(2 * nh + j) == y.item((2 * nt + 2) * nh + j));

  // A pre-padded row gives what the unpadded sequence gives alone (row 1: t = 2..4 real).
  Inputs row{Tensor::empty(Shape{1, 3, 2}, DType::kFloat64), in.kernel, in.recurrent, in.bias};
  for (int64_t k = 0; k < 6; ++k)
    row.x.data<double>()[k] = in.x.data<double>()[(1 * nt + 2) * 2 + k];
  Tensor alone = run(row, Tensor(), call);
  for (int64_t j = 0; j < nh; ++j)
    CHECK(last.item(1 * nh + j) == Approx(alone.item(j)).epsilon(1e-13));
  // The fully masked row outputs zeros.
  for (int64_t j = 0; j < nh; ++j) CHECK(last.item(4 * nh + j) == 0.0);
}

TEST_CASE("lstm: go_backwards on the reversed input equals forward", "[lstm][cpu]") {
  Inputs in = random_inputs(3, 6, 4, 5, DType::kFloat64, 71);
  Inputs rev = in;
  rev.x = reverse_time(in.x);
  fn::LstmCall fwd, back;
  back.go_backwards = true;
  EMBER_EXPECT_CLOSE(run(rev, Tensor(), back), run(in, Tensor(), fwd),
                     et::tolerance(DType::kFloat64));
  // With return_sequences and reverse_outputs, output position t is the original time t.
  fwd.return_sequences = back.return_sequences = back.reverse_outputs = true;
  EMBER_EXPECT_CLOSE(run(rev, Tensor(), back), reverse_time(run(in, Tensor(), fwd)),
                     et::tolerance(DType::kFloat64));
  back.reverse_outputs = false;  // processing order: position s is step s
  EMBER_EXPECT_CLOSE(run(rev, Tensor(), back), run(in, Tensor(), fwd),
                     et::tolerance(DType::kFloat64));
}

TEST_CASE("lstm: float32 agrees with float64", "[lstm][cpu]") {
  Inputs in = random_inputs(4, 7, 5, 3, DType::kFloat64, 81);
  Inputs in32 = to_float32(in);
  Tensor mask = mask_from(
      4, 7, {1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1});
  fn::LstmCall call = dropout_call(0.25, 0.25, 3);
  call.return_sequences = true;
  Tensor w = et::random_uniform(Shape{4, 7, 3}, DType::kFloat64, -1.0, 1.0, 5);
  std::vector<Tensor> g64 = grads(in, mask, call, w);
  std::vector<Tensor> g32 = grads(in32, mask, call, w.to(DType::kFloat32));
  const et::Tolerance tol = et::tolerance(DType::kFloat32);
  EMBER_EXPECT_CLOSE(run(in32, mask, call).to(DType::kFloat64), run(in, mask, call), tol);
  for (size_t i = 0; i < 4; ++i) {
    INFO("gradient " << i);
    EMBER_EXPECT_CLOSE(g32[i].to(DType::kFloat64), g64[i], tol);
  }
}

TEST_CASE("lstm: float32 activations over a wide range; NaN propagates", "[lstm][cpu]") {
  // Large weights drive the gates deep into saturation and through 0, exercising every branch
  // of the float activations (the exp clamp, tanh's small-argument series).
  Inputs in = random_inputs(3, 9, 4, 5, DType::kFloat64, 85);
  in.kernel = et::random_uniform(in.kernel.shape(), DType::kFloat64, -8.0, 8.0, 86);
  in.recurrent = et::random_uniform(in.recurrent.shape(), DType::kFloat64, -8.0, 8.0, 87);
  Inputs in32 = to_float32(in);
  fn::LstmCall call;
  call.return_sequences = true;
  EMBER_EXPECT_CLOSE(run(in32, Tensor(), call).to(DType::kFloat64), run(in, Tensor(), call),
                     et::tolerance(DType::kFloat32));
  in32.x.data<float>()[0] = NAN;  // sample 0, t = 0
  Tensor y = run(in32, Tensor(), call);
  CHECK(std::isnan(y.item(0)));
  CHECK(std::isnan(y.item(8 * 5)));  // carried to the last step
  CHECK_FALSE(ember::all_finite(y));
  for (int64_t i = 9 * 5; i < y.numel(); ++i) CHECK(std::isfinite(y.item(i)));  // other rows
}

TEST_CASE("lstm: two runs are bitwise equal", "[lstm][cpu]") {
  Inputs in = random_inputs(8, 20, 16, 12, DType::kFloat32, 91);
  fn::LstmCall call = dropout_call(0.3, 0.2, 17);
  call.return_sequences = true;
  Tensor w = et::random_uniform(Shape{8, 20, 12}, DType::kFloat32, -1.0, 1.0, 92);
  std::vector<Tensor> a = grads(in, Tensor(), call, w);
  std::vector<Tensor> b = grads(in, Tensor(), call, w);
  for (size_t i = 0; i < 4; ++i) CHECK(et::same_bytes(a[i], b[i]));
  CHECK(et::same_bytes(run(in, Tensor(), call), run(in, Tensor(), call)));
}

TEST_CASE("lstm: fn::lstm rejects bad shapes and rates", "[lstm][cpu]") {
  Inputs in = random_inputs(2, 3, 4, 2, DType::kFloat64, 101);
  fn::LstmCall call;
  Inputs bad = in;
  bad.kernel = Tensor::zeros(Shape{3, 8}, DType::kFloat64);
  CHECK_THROWS_AS(run(bad, Tensor(), call), std::invalid_argument);
  CHECK_THROWS_AS(run(in, Tensor::zeros(Shape{2, 4}, DType::kUInt8), call), std::invalid_argument);
  call.training = true;
  call.dropout = 1.0;
  CHECK_THROWS_AS(run(in, Tensor(), call), std::invalid_argument);
}

TEST_CASE("LSTM layer: options, shapes, parameters", "[lstm][cpu]") {
  ember::LstmOptions o;
  o.units = 60;
  ember::LSTM layer(o);
  CHECK(std::string(layer.type()) == "LSTM");
  CHECK(layer.output_shape({370, 128}) == ember::FeatureShape{60});
  CHECK(layer.output_shape({-1, 128}) == ember::FeatureShape{60});
  CHECK_THROWS_AS(layer.output_shape({370}), std::invalid_argument);
  ember::InitRng rng(1337, 3);
  layer.build({370, 128}, DType::kFloat32, rng);
  CHECK(layer.param_count() == 45360);  // Keras: 4*(128*60 + 60*60 + 60)
  REQUIRE(layer.params().size() == 3);
  CHECK(layer.params()[0].name == "kernel");
  CHECK(layer.params()[0].var.shape() == Shape{128, 240});
  CHECK(layer.params()[1].name == "recurrent_kernel");
  CHECK(layer.params()[1].var.shape() == Shape{60, 240});
  CHECK(layer.params()[2].name == "bias");
  const Tensor& bias = layer.params()[2].var.value();
  for (int64_t j = 0; j < 240; ++j) CHECK(bias.item(j) == (j >= 60 && j < 120 ? 1.0 : 0.0));
  const double limit = std::sqrt(6.0 / (128 + 240));  // glorot_uniform, fans C and 4H
  double max_abs = 0;
  const Tensor& k = layer.params()[0].var.value();
  for (int64_t i = 0; i < k.numel(); ++i) max_abs = std::fmax(max_abs, std::fabs(k.item(i)));
  CHECK(max_abs <= limit);
  CHECK(max_abs > 0.9 * limit);

  o.return_sequences = true;
  o.use_bias = false;
  o.unit_forget_bias = false;
  ember::LSTM seq(o);
  CHECK(seq.output_shape({370, 128}) == (ember::FeatureShape{370, 60}));
  seq.build({370, 128}, DType::kFloat64, rng);
  CHECK(seq.param_count() == 4 * (128 * 60 + 60 * 60));

  ember::LstmOptions bad = o;
  bad.activation = ember::fn::Activation::kRelu;
  CHECK_THROWS_AS(ember::LSTM(bad), std::invalid_argument);
  bad = o;
  bad.recurrent_activation = ember::fn::Activation::kTanh;
  CHECK_THROWS_AS(ember::LSTM(bad), std::invalid_argument);
  bad = o;
  bad.units = 0;
  CHECK_THROWS_AS(ember::LSTM(bad), std::invalid_argument);
  bad = o;
  bad.dropout = 1.0;
  CHECK_THROWS_AS(ember::LSTM(bad), std::invalid_argument);
  bad = o;
  bad.kernel_initializer = "he_normal_typo";
  CHECK_THROWS_AS(ember::LSTM(bad), std::invalid_argument);
  bad = o;
  bad.recurrent_dropout = -0.1;
  CHECK_THROWS_AS(ember::LSTM(bad), std::invalid_argument);
}

TEST_CASE("LSTM layer: forward matches fn::lstm, dropout streams and masks", "[lstm][cpu]") {
  ember::LstmOptions o;
  o.units = 3;
  o.return_sequences = true;
  o.go_backwards = true;
  o.dropout = 0.3;
  o.recurrent_dropout = 0.2;
  ember::LSTM layer(o);
  layer.index = 4;
  ember::InitRng rng(9, 4);
  layer.build({5, 5}, DType::kFloat64, rng);
  Inputs in = random_inputs(5, 5, 5, 3, DType::kFloat64, 111);
  in.kernel = layer.params()[0].var.value();
  in.recurrent = layer.params()[1].var.value();
  in.bias = layer.params()[2].var.value();
  const Tensor mask = padded_mask();
  ember::RunContext ctx{true, 77, 12};
  ember::LayerIO out = layer.forward(ember::LayerIO{Var(in.x), mask}, ctx);
  CHECK(out.mask.shares_storage(mask));
  fn::LstmCall call = dropout_call(0.3, 0.2, 77);
  call.return_sequences = true;
  call.go_backwards = true;
  call.offset = ember::dropout_offset(12, 4, 0);
  CHECK(et::same_bytes(out.x.value(), run(in, mask, call)));
  // Gradients reach every parameter.
  et::weighted_sum(out.x, et::random_uniform(Shape{5, 5, 3}, DType::kFloat64, -1, 1, 3)).backward();
  for (const ember::Param& p : layer.params()) {
    INFO(p.name);
    REQUIRE(p.var.grad().defined());
    CHECK(ember::sum_squares(p.var.grad()) > 0.0);
  }
  // Inference: no dropout; without return_sequences the mask is consumed.
  ctx.training = false;
  call.training = false;
  CHECK(et::same_bytes(layer.forward(ember::LayerIO{Var(in.x), mask}, ctx).x.value(),
                       run(in, mask, call)));
  o.return_sequences = false;
  ember::LSTM last(o);
  last.build({5, 5}, DType::kFloat64, rng);
  ember::LayerIO y = last.forward(ember::LayerIO{Var(in.x), mask}, ctx);
  CHECK_FALSE(y.mask.defined());
  CHECK(y.x.shape() == Shape{5, 3});
}

TEST_CASE("lstm: timing at B=64 T=370 C=128 H=100 float32", "[.bench][lstm_bench]") {
  Inputs in = random_inputs(64, 370, 128, 100, DType::kFloat32, 5);
  fn::LstmCall call;
  call.training = true;
  call.dropout = 0.5;
  call.seed = 1;
  Tensor w = et::random_uniform(Shape{64, 100}, DType::kFloat32, -1, 1, 6);
  std::vector<Var> v{Var(in.x, true), Var(in.kernel, true), Var(in.recurrent, true),
                     Var(in.bias, true)};
  for (int rep = 0; rep < 4; ++rep) {
    for (Var& p : v) p.zero_grad();
    auto t0 = std::chrono::steady_clock::now();
    Var y = fn::lstm(v[0], v[1], v[2], v[3], Tensor(), call);
    auto t1 = std::chrono::steady_clock::now();
    et::weighted_sum(y, w).backward();
    auto t2 = std::chrono::steady_clock::now();
    std::cout << "lstm B=64 T=370 C=128 H=100 f32: forward "
              << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms, backward "
              << std::chrono::duration<double, std::milli>(t2 - t1).count() << " ms\n";
  }
  for (const Var& p : v) CHECK(ember::all_finite(p.grad()));
}
