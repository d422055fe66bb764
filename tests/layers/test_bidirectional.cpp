// Tests for the Bidirectional(LSTM) layer: Keras parameter counts and names, output shapes of
// every merge mode, the output against fn::lstm + fn::merge with Keras's flags (re-reversed
// backward sequence, zero output at masked steps, dropout slots 0,1 / 2,3), a float64
// gradcheck of the input through the layer, and gradients reaching all eight parameters.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "engine/core/rng.h"
#include "engine/core/tensor_ops.h"
#include "layers/bidirectional.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;
using ember::ag::Var;
namespace et = ember::test;

namespace {

ember::BidirectionalOptions bidi(int64_t units, bool seq, const std::string& merge) {
  ember::BidirectionalOptions o;
  o.layer.units = units;
  o.layer.return_sequences = seq;
  o.merge_mode = ember::parse_merge_mode(merge);
  return o;
}

Tensor mask_5x4() {  // full, pre-padded, post-padded, one real step in the middle
  Tensor m = Tensor::empty(Shape{4, 5}, DType::kUInt8);
  const uint8_t v[] = {1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0};
  std::memcpy(m.raw(), v, sizeof v);
  return m;
}

}  // namespace

TEST_CASE("Bidirectional: parameter counts, names and shapes", "[bidirectional][cpu]") {
  ember::Bidirectional layer(bidi(75, true, "concat"));
  CHECK(std::string(layer.type()) == "Bidirectional");
  ember::InitRng rng(1337, 2);
  layer.build({370, 128}, DType::kFloat32, rng);
  CHECK(layer.param_count() == 2 * 4 * (128 * 75 + 75 * 75 + 75));  // 122,400 as in Keras
  const char* names[] = {
      "forward_lstm/kernel",  "forward_lstm/recurrent_kernel",  "forward_lstm/bias",
      "backward_lstm/kernel", "backward_lstm/recurrent_kernel", "backward_lstm/bias"};
  REQUIRE(layer.params().size() == 6);
  for (size_t i = 0; i < 6; ++i) CHECK(layer.params()[i].name == names[i]);
  // The two directions draw different weights.
  CHECK(ember::max_abs_diff(layer.params()[0].var.value(), layer.params()[3].var.value()) > 0);

  CHECK(layer.output_shape({370, 128}) == (ember::FeatureShape{370, 150}));
  CHECK(ember::Bidirectional(bidi(75, false, "concat")).output_shape({370, 128}) ==
        ember::FeatureShape{150});
  for (const char* m : {"sum", "mul", "ave"}) {
    INFO(m);
    CHECK(ember::Bidirectional(bidi(75, true, m)).output_shape({-1, 128}) ==
          (ember::FeatureShape{-1, 75}));
    CHECK(ember::Bidirectional(bidi(75, false, m)).output_shape({370, 128}) ==
          ember::FeatureShape{75});
  }
  CHECK_THROWS_AS(ember::Bidirectional(bidi(75, true, "max")), std::invalid_argument);
  CHECK_THROWS_AS(ember::Bidirectional(bidi(0, true, "concat")), std::invalid_argument);
  CHECK_THROWS_AS(layer.output_shape({128}), std::invalid_argument);
}

TEST_CASE("Bidirectional: forward equals the two LSTMs merged, Keras flags",
          "[bidirectional][cpu]") {
  const Tensor mask = mask_5x4();
  for (bool seq : {true, false})
    for (const char* mode : {"concat", "sum", "mul", "ave"}) {
      INFO("return_sequences " << seq << " merge " << mode);
      ember::BidirectionalOptions o = bidi(3, seq, mode);
      o.layer.dropout = 0.25;
      o.layer.recurrent_dropout = 0.3;
      ember::Bidirectional layer(o);
      layer.index = 6;
      ember::InitRng rng(5, 6);
      layer.build({5, 2}, DType::kFloat64, rng);
      Tensor x = et::random_uniform(Shape{4, 5, 2}, DType::kFloat64, -1, 1, 8);
      ember::RunContext ctx{true, 42, 3};
      ember::LayerIO out = layer.forward(ember::LayerIO{Var(x), mask, {}}, ctx);
      CHECK(out.mask.defined() == seq);
      const int64_t width = std::string(mode) == "concat" ? 6 : 3;
      CHECK(out.x.shape() == (seq ? Shape{4, 5, width} : Shape{4, width}));

      const auto& p = layer.params();
      fn::LstmCall call;
      call.return_sequences = seq;
      call.zero_output_for_mask = seq;
      call.training = true;
      call.dropout = 0.25;
      call.recurrent_dropout = 0.3;
      call.seed = 42;
      call.offset = ember::dropout_offset(3, 6, 0);
      Var f = fn::lstm(Var(x), p[0].var, p[1].var, p[2].var, mask, call);
      call.go_backwards = true;
      call.reverse_outputs = seq;
      call.offset = ember::dropout_offset(3, 6, 2);
      Var b = fn::lstm(Var(x), p[3].var, p[4].var, p[5].var, mask, call);
      CHECK(et::same_bytes(out.x.value(), fn::merge(f, b, ember::parse_merge_mode(mode)).value()));
      if (seq && std::string(mode) == "concat") {
        // Masked steps output 0 in both halves (row 1 is masked at t=0,1).
        for (int64_t j = 0; j < 6; ++j) CHECK(out.x.value().item((1 * 5 + 0) * 6 + j) == 0.0);
      }
    }
}

TEST_CASE("Bidirectional: float64 gradcheck of the input, gradients reach all parameters",
          "[bidirectional][cpu]") {
  for (bool seq : {true, false}) {
    INFO("return_sequences " << seq);
    ember::BidirectionalOptions o = bidi(3, seq, "concat");
    o.layer.dropout = 0.2;
    o.layer.recurrent_dropout = 0.2;
    ember::Bidirectional layer(o);
    ember::InitRng rng(11, 1);
    layer.build({5, 2}, DType::kFloat64, rng);
    const Tensor mask = mask_5x4();
    const ember::RunContext ctx{true, 9, 1};
    Tensor x = et::random_uniform(Shape{4, 5, 2}, DType::kFloat64, -1, 1, 12);
    Tensor w = et::random_uniform(seq ? Shape{4, 5, 6} : Shape{4, 6}, DType::kFloat64, -1, 1, 13);
    auto f = [&](const std::vector<Var>& v) {
      return et::weighted_sum(layer.forward(ember::LayerIO{v[0], mask, {}}, ctx).x, w);
    };
    CHECK(et::gradcheck(f, {x}, {true}) == "");
    for (ember::Param& p : layer.params()) p.var.zero_grad();
    f({Var(x)}).backward();
    for (const ember::Param& p : layer.params()) {
      INFO(p.name);
      REQUIRE(p.var.grad().defined());
      CHECK(ember::sum_squares(p.var.grad()) > 0.0);
    }
  }
}
