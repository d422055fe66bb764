// CPU tests of the LSTM's implementation choice (layers/lstm.h): the selection rules and their
// errors, and the cuDNN path's host-side plan (kernels/lstm/cudnn_rnn.h). The plan is checked
// without a GPU by doing what the cuDNN path does with the reference standing in for cuDNN:
// gather each sample's real steps into left-aligned unmasked sequences, run them, gather the
// outputs back per position, and route the gradients the same way; outputs and all four
// gradients must equal the masked reference's, under every mask and direction flag.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/lstm/cudnn_rnn.h"
#include "kernels/lstm/lstm.h"
#include "layers/functional.h"
#include "layers/lstm.h"
#include "tests/support/test_util.h"

using ember::DType;
using ember::LstmConfig;
using ember::LstmSaved;
using ember::Shape;
using ember::Tensor;
namespace et = ember::test;
namespace ref = ember::ref;

namespace {

// B=6 rows: full, pre-padded, post-padded, holes, fully masked, one real step at the end.
Tensor six_masks(int64_t nt) {
  Tensor m = Tensor::zeros(Shape{6, nt}, DType::kUInt8);
  uint8_t* p = m.data<uint8_t>();
  for (int64_t t = 0; t < nt; ++t) {
    p[0 * nt + t] = 1;
    p[1 * nt + t] = t >= nt / 2;
    p[2 * nt + t] = t < (nt + 1) / 2;
    p[3 * nt + t] = t % 2 == 0;
    p[4 * nt + t] = 0;
    p[5 * nt + t] = t == nt - 1;
  }
  return m;
}

struct Grads {
  Tensor out, dx, dk, dr, db;
};

// The masked reference: forward, then backward of sum(out * w).
Grads masked_reference(const LstmConfig& cfg, const Tensor& x, const Tensor& k, const Tensor& r,
                       const Tensor& b, const Tensor& mask, const Tensor& w) {
  Grads g;
  g.out = Tensor::empty(w.shape(), DType::kFloat64);
  LstmSaved saved;
  ref::lstm_forward<double>(cfg, x.data<double>(), k.data<double>(), r.data<double>(),
                            b.data<double>(), mask.data<uint8_t>(), g.out.data<double>(), &saved);
  g.dx = Tensor::zeros(x.shape(), DType::kFloat64);
  g.dk = Tensor::zeros(k.shape(), DType::kFloat64);
  g.dr = Tensor::zeros(r.shape(), DType::kFloat64);
  g.db = Tensor::zeros(b.shape(), DType::kFloat64);
  ref::lstm_backward<double>(cfg, x.data<double>(), k.data<double>(), r.data<double>(),
                             mask.data<uint8_t>(), saved, w.data<double>(), g.dx.data<double>(),
                             g.dk.data<double>(), g.dr.data<double>(), g.db.data<double>());
  return g;
}

// What the cuDNN path computes, with an unmasked forward reference as "cuDNN".
Grads through_plan(const LstmConfig& cfg, const Tensor& x, const Tensor& k, const Tensor& r,
                   const Tensor& b, const Tensor& mask, const Tensor& w) {
  const ember::cuda::CudnnLstmPlan plan = ember::cuda::cudnn_lstm_plan(cfg, mask.data<uint8_t>());
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden;
  const int64_t nl = plan.max_len, np = plan.positions;
  REQUIRE(static_cast<int64_t>(plan.lengths.size()) == nb);
  REQUIRE(static_cast<int64_t>(plan.x_map.size()) == nb * nl);
  REQUIRE(static_cast<int64_t>(plan.out_map.size()) == nb * np);
  // x' [B,L,C]: cuDNN step k of sample b reads time x_map[b,k] (-1: zeros).
  Tensor xp = Tensor::zeros(Shape{nb, nl, nc}, DType::kFloat64);
  for (int64_t bb = 0; bb < nb; ++bb)
    for (int64_t kk = 0; kk < nl; ++kk) {
      const int32_t t = plan.x_map[bb * nl + kk];
      REQUIRE(t < nt);
      if (kk >= plan.lengths[bb]) REQUIRE(t == -1);
      if (t >= 0)
        std::memcpy(xp.data<double>() + (bb * nl + kk) * nc, x.data<double>() + (bb * nt + t) * nc,
                    nc * sizeof(double));
    }
  LstmConfig c2 = cfg;
  c2.steps = nl;
  c2.return_sequences = true;
  c2.go_backwards = c2.reverse_outputs = c2.zero_output_for_mask = false;
  Tensor yp = Tensor::empty(Shape{nb, nl, nh}, DType::kFloat64);
  LstmSaved saved;
  ref::lstm_forward<double>(c2, xp.data<double>(), k.data<double>(), r.data<double>(),
                            b.data<double>(), nullptr, yp.data<double>(), &saved);
  // Outputs: position p repeats row out_map[b,p] of y' (-1: zero); that row must be real.
  Grads g;
  g.out = Tensor::zeros(w.shape(), DType::kFloat64);
  Tensor dyp = Tensor::zeros(Shape{nb, nl, nh}, DType::kFloat64);
  for (int64_t bb = 0; bb < nb; ++bb)
    for (int64_t p = 0; p < np; ++p) {
      const int32_t row = plan.out_map[bb * np + p];
      if (row < 0) continue;
      REQUIRE(row < plan.lengths[bb]);
      for (int64_t j = 0; j < nh; ++j) {
        g.out.data<double>()[(bb * np + p) * nh + j] = yp.data<double>()[(bb * nl + row) * nh + j];
        dyp.data<double>()[(bb * nl + row) * nh + j] += w.data<double>()[(bb * np + p) * nh + j];
      }
    }
  Tensor dxp = Tensor::zeros(xp.shape(), DType::kFloat64);
  g.dk = Tensor::zeros(k.shape(), DType::kFloat64);
  g.dr = Tensor::zeros(r.shape(), DType::kFloat64);
  g.db = Tensor::zeros(b.shape(), DType::kFloat64);
  ref::lstm_backward<double>(c2, xp.data<double>(), k.data<double>(), r.data<double>(), nullptr,
                             saved, dyp.data<double>(), dxp.data<double>(), g.dk.data<double>(),
                             g.dr.data<double>(), g.db.data<double>());
  // d_x: each time is read by at most one cuDNN step.
  g.dx = Tensor::zeros(x.shape(), DType::kFloat64);
  std::vector<int> reads(static_cast<size_t>(nb * nt), 0);
  for (int64_t bb = 0; bb < nb; ++bb)
    for (int64_t kk = 0; kk < nl; ++kk) {
      const int32_t t = plan.x_map[bb * nl + kk];
      if (t < 0) continue;
      REQUIRE(++reads[bb * nt + t] == 1);
      for (int64_t c = 0; c < nc; ++c)
        g.dx.data<double>()[(bb * nt + t) * nc + c] += dxp.data<double>()[(bb * nl + kk) * nc + c];
    }
  return g;
}

}  // namespace

TEST_CASE("cuDNN plan: compacted sequences reproduce the masked LSTM, every flag",
          "[lstm][cpu][cudnn_plan]") {
  const int64_t nb = 6, nt = 7, nc = 3, nh = 4;
  const Tensor x = et::random_uniform(Shape{nb, nt, nc}, DType::kFloat64, -1.0, 1.0, 201);
  const Tensor k = et::random_uniform(Shape{nc, 4 * nh}, DType::kFloat64, -0.7, 0.7, 202);
  const Tensor r = et::random_uniform(Shape{nh, 4 * nh}, DType::kFloat64, -0.7, 0.7, 203);
  const Tensor b = et::random_uniform(Shape{4 * nh}, DType::kFloat64, -0.5, 0.5, 204);
  const Tensor mask = six_masks(nt);
  for (int flags = 0; flags < 16; ++flags) {
    LstmConfig cfg{nb, nt, nc, nh};  // B, T, C, H; the flags below
    cfg.return_sequences = flags & 1;
    cfg.go_backwards = flags & 2;
    cfg.reverse_outputs = flags & 4;
    cfg.zero_output_for_mask = flags & 8;
    const Shape os = cfg.return_sequences ? Shape{nb, nt, nh} : Shape{nb, nh};
    const Tensor w = et::random_uniform(os, DType::kFloat64, -1.0, 1.0, 205 + flags);
    const Grads want = masked_reference(cfg, x, k, r, b, mask, w);
    const Grads got = through_plan(cfg, x, k, r, b, mask, w);
    INFO("return_sequences " << cfg.return_sequences << " go_backwards " << cfg.go_backwards
                             << " reverse_outputs " << cfg.reverse_outputs
                             << " zero_output_for_mask " << cfg.zero_output_for_mask);
    const et::Tolerance tol{1e-13, 1e-11};
    EMBER_EXPECT_CLOSE(got.out, want.out, tol);
    EMBER_EXPECT_CLOSE(got.dx, want.dx, tol);
    EMBER_EXPECT_CLOSE(got.dk, want.dk, tol);
    EMBER_EXPECT_CLOSE(got.dr, want.dr, tol);
    EMBER_EXPECT_CLOSE(got.db, want.db, tol);
  }
}

TEST_CASE("cuDNN plan: lengths, identity and the fully masked sample", "[lstm][cpu][cudnn_plan]") {
  LstmConfig cfg{6, 5, 1, 1};  // B, T, C, H
  const Tensor mask = six_masks(5);
  ember::cuda::CudnnLstmPlan p = ember::cuda::cudnn_lstm_plan(cfg, mask.data<uint8_t>());
  CHECK(p.lengths == std::vector<int32_t>{5, 3, 3, 3, 1, 1});  // the empty row runs 1 step
  CHECK(p.max_len == 5);
  CHECK(p.positions == 1);
  CHECK_FALSE(p.identity_x);
  CHECK(p.out_map[4] == -1);    // fully masked: output 0
  CHECK(p.x_map[4 * 5] == -1);  // on a zero row
  p = ember::cuda::cudnn_lstm_plan(cfg, nullptr);
  CHECK(p.identity_x);
  CHECK(p.max_len == 5);
  cfg.go_backwards = true;
  p = ember::cuda::cudnn_lstm_plan(cfg, nullptr);
  CHECK_FALSE(p.identity_x);  // reversed reads need the gather
  CHECK(p.x_map[0] == 4);
}

TEST_CASE("LSTM implementation: names, and cudnn refuses recurrent_dropout by name",
          "[lstm][cpu]") {
  namespace fn = ember::fn;
  for (const char* name : {"auto", "reference", "fused", "cudnn"})
    CHECK(std::string(fn::lstm_impl_name(fn::parse_lstm_impl(name))) == name);
  CHECK_THROWS_WITH(fn::parse_lstm_impl("fast"),
                    Catch::Contains("unknown implementation 'fast'") &&
                        Catch::Contains("auto, reference, fused, cudnn"));
  ember::LstmOptions o;
  o.units = 4;
  o.implementation = fn::LstmImpl::kCudnn;
  o.recurrent_dropout = 0.2;
  CHECK_THROWS_AS(ember::LSTM(o), std::invalid_argument);
  CHECK_THROWS_WITH(ember::LSTM(o),
                    Catch::Contains("recurrent_dropout") && Catch::Contains("cudnn"));
  o.recurrent_dropout = 0.0;
  o.dropout = 0.3;  // input dropout is applied before cuDNN: fine
  CHECK_NOTHROW(ember::LSTM(o));
  o.implementation = fn::LstmImpl::kFused;
  o.recurrent_dropout = 0.2;
  CHECK_NOTHROW(ember::LSTM(o));

  LstmConfig cfg;
  CHECK(ember::cuda::cudnn_lstm_unsupported(cfg).empty());
  cfg.recurrent_dropout = 0.1;
  CHECK(ember::cuda::cudnn_lstm_unsupported(cfg).find("recurrent_dropout") != std::string::npos);
}

TEST_CASE("LSTM implementation: CPU tensors run the reference whatever is asked", "[lstm][cpu]") {
  namespace fn = ember::fn;
  using ember::ag::Var;
  const Tensor x = et::random_uniform(Shape{3, 4, 5}, DType::kFloat64, -1.0, 1.0, 211);
  const Tensor k = et::random_uniform(Shape{5, 8}, DType::kFloat64, -0.5, 0.5, 212);
  const Tensor r = et::random_uniform(Shape{2, 8}, DType::kFloat64, -0.5, 0.5, 213);
  fn::LstmCall call;
  call.return_sequences = true;
  call.training = true;
  call.dropout = 0.2;
  call.recurrent_dropout = 0.3;  // even cudnn: on the CPU it is the reference
  ember::ag::NoGradGuard ng;
  call.implementation = fn::LstmImpl::kReference;
  const Tensor want = fn::lstm(Var(x), Var(k), Var(r), Var(), Tensor(), call).value();
  for (fn::LstmImpl impl : {fn::LstmImpl::kAuto, fn::LstmImpl::kFused, fn::LstmImpl::kCudnn,
                            fn::LstmImpl::kPersistent}) {
    call.implementation = impl;
    const Tensor got = fn::lstm(Var(x), Var(k), Var(r), Var(), Tensor(), call).value();
    CHECK(std::memcmp(got.raw(), want.raw(), got.nbytes()) == 0);
  }
}
