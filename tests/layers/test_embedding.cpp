// Embedding: the reference lookup and its bucketed backward (hand-computed cases, float64
// gradcheck with repeated ids and the padding id, bitwise determinism, accumulation), id
// range errors, and the Embedding layer (shapes, parameter, mask_zero).
#include <catch2/catch.hpp>

#include <cstring>

#include "kernels/embedding.h"
#include "layers/embedding.h"
#include "layers/functional.h"
#include "tests/support/test_util.h"

using namespace ember;
using ember::test::gradcheck;
using ember::test::random_uniform;
using ember::test::weighted_sum;

TEST_CASE("embedding forward gathers rows (hand-computed)", "[basic][embedding]") {
  // V=4, E=2: row v = (10v, 10v+1).
  Tensor w = Tensor::from<float>(Shape{4, 2}, {0, 1, 10, 11, 20, 21, 30, 31});
  Tensor ids = Tensor::from<int32_t>(Shape{2, 3}, {1, 0, 3, 3, 2, 0});
  ag::Var out = fn::embedding(ag::Var(w, true), ids);
  Tensor expect = Tensor::from<float>(Shape{2, 3, 2}, {10, 11, 0, 1, 30, 31, 30, 31, 20, 21, 0, 1});
  EMBER_EXPECT_CLOSE(out.value(), expect, test::tolerance(DType::kFloat32));
}

TEST_CASE("embedding backward sums repeated ids (hand-computed)", "[basic][embedding]") {
  Tensor w = Tensor::zeros(Shape{4, 2}, DType::kFloat64);
  Tensor ids = Tensor::from<int32_t>(Shape{1, 5}, {2, 0, 2, 2, 0});
  Tensor d_out = Tensor::from<double>(Shape{1, 5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  ag::Var wv(w, true);
  ag::Var out = fn::embedding(wv, ids);
  out.backward(d_out);
  // id 2 at t=0,2,3: (1+5+7, 2+6+8); id 0 at t=1,4: (3+9, 4+10); ids 1 and 3 unused.
  Tensor expect = Tensor::from<double>(Shape{4, 2}, {12, 14, 0, 0, 13, 16, 0, 0});
  EMBER_EXPECT_CLOSE(wv.grad(), expect, test::tolerance(DType::kFloat64));
}

TEST_CASE("embedding backward accumulates into d_weight", "[basic][embedding]") {
  std::vector<double> d_weight{1, 1, 1, 1, 1, 1};  // [3,2]
  const int32_t ids[2] = {1, 1};
  const double d_out[4] = {0.5, 1.5, 2.0, 3.0};
  ref::embedding_backward<double>(d_out, ids, d_weight.data(), 1, 2, 3, 2);
  CHECK(d_weight == std::vector<double>{1, 1, 3.5, 5.5, 1, 1});
}

TEST_CASE("embedding gradcheck with repeated ids and padding", "[basic][embedding]") {
  // Id 0 (padding) appears several times, id 3 is repeated across samples, id 5 is unused.
  Tensor ids = Tensor::from<int32_t>(Shape{3, 4}, {0, 0, 3, 1, 3, 2, 0, 3, 4, 4, 0, 1});
  Tensor w = random_uniform(Shape{6, 3}, DType::kFloat64, -1, 1, 11);
  Tensor weights = random_uniform(Shape{3, 4, 3}, DType::kFloat64, -1, 1, 12);
  auto f = [&](const std::vector<ag::Var>& v) {
    return weighted_sum(fn::embedding(v[0], ids), weights);
  };
  std::string report = gradcheck(f, {w}, {true});
  INFO(report);
  CHECK(report.empty());
}

TEST_CASE("embedding edge shapes: B=1, T=1, E=1", "[basic][embedding]") {
  Tensor w = Tensor::from<double>(Shape{3, 1}, {0.5, -1.5, 2.5});
  Tensor ids = Tensor::from<int32_t>(Shape{1, 1}, {2});
  ag::Var wv(w, true);
  ag::Var out = fn::embedding(wv, ids);
  REQUIRE(out.shape() == Shape{1, 1, 1});
  CHECK(out.value().item(0) == 2.5);
  out.backward(Tensor::full(Shape{1, 1, 1}, DType::kFloat64, 3.0));
  EMBER_EXPECT_CLOSE(wv.grad(), Tensor::from<double>(Shape{3, 1}, {0, 0, 3}),
                     test::tolerance(DType::kFloat64));
}

TEST_CASE("embedding backward is bitwise deterministic", "[basic][embedding]") {
  const int64_t batch = 16, steps = 50, vocab = 37, dim = 9;  // many repeats per id
  Tensor ids = test::random_ints(Shape{batch, steps}, 0, vocab, 5);
  Tensor w = random_uniform(Shape{vocab, dim}, DType::kFloat32, -0.05, 0.05, 6);
  Tensor d_out = random_uniform(Shape{batch, steps, dim}, DType::kFloat32, -1, 1, 7);
  Tensor grads[2];
  for (Tensor& g : grads) {
    ag::Var wv(w, true);
    fn::embedding(wv, ids).backward(d_out);
    g = wv.grad().clone();
  }
  CHECK(std::memcmp(grads[0].raw(), grads[1].raw(), grads[0].nbytes()) == 0);
  // And it matches a plain double-precision scatter-add.
  Tensor expect = Tensor::zeros(Shape{vocab, dim}, DType::kFloat64);
  for (int64_t i = 0; i < batch * steps; ++i)
    for (int64_t e = 0; e < dim; ++e)
      expect.data<double>()[ids.data<int32_t>()[i] * dim + e] += d_out.item(i * dim + e);
  EMBER_EXPECT_CLOSE(grads[0].to(DType::kFloat64), expect, (test::Tolerance{1e-5, 1e-5}));
}

TEST_CASE("embedding rejects out-of-range ids, naming id and position", "[basic][embedding]") {
  ag::Var w(Tensor::zeros(Shape{5, 2}, DType::kFloat32), true);
  Tensor too_big = Tensor::from<int32_t>(Shape{2, 3}, {0, 1, 2, 3, 4, 5});
  CHECK_THROWS_WITH(fn::embedding(w, too_big), Catch::Contains("token id 5") &&
                                                   Catch::Contains("b=1, t=2") &&
                                                   Catch::Contains("[0, 5)"));
  Tensor negative = Tensor::from<int32_t>(Shape{1, 2}, {0, -1});
  CHECK_THROWS_WITH(fn::embedding(w, negative),
                    Catch::Contains("token id -1") && Catch::Contains("b=0, t=1"));
  CHECK_THROWS_AS(fn::embedding(w, Tensor::zeros(Shape{2, 3}, DType::kFloat32)),
                  std::invalid_argument);
  CHECK_THROWS_AS(fn::embedding(w, Tensor::zeros(Shape{6}, DType::kInt32)), std::invalid_argument);
}

TEST_CASE("Embedding layer: shapes, parameter, mask_zero", "[basic][embedding]") {
  EmbeddingOptions o;
  o.input_dim = 10;
  o.output_dim = 4;
  o.mask_zero = true;
  Embedding layer(o);
  CHECK(std::string(layer.type()) == "Embedding");
  CHECK(layer.output_shape({7}) == FeatureShape{7, 4});
  CHECK(layer.output_shape({-1}) == FeatureShape{-1, 4});
  CHECK_THROWS_WITH(layer.output_shape({7, 3}), Catch::Contains("(None, 7, 3)"));
  CHECK_THROWS_AS(layer.output_shape({}), std::invalid_argument);

  InitRng rng(1337, 0);
  layer.build({3}, DType::kFloat32, rng);
  REQUIRE(layer.params().size() == 1);
  CHECK(layer.params()[0].name == "embeddings");
  const Tensor& w = layer.params()[0].var.value();
  REQUIRE(w.shape() == Shape{10, 4});
  CHECK(layer.param_count() == 40);
  for (int64_t i = 0; i < w.numel(); ++i) {  // Keras "uniform": U(-0.05, 0.05)
    CHECK(w.item(i) >= -0.05);
    CHECK(w.item(i) <= 0.05);
  }

  Tensor ids = Tensor::from<int32_t>(Shape{2, 3}, {0, 0, 4, 9, 0, 1});
  LayerIO out = layer.forward({ag::Var(ids), Tensor()}, RunContext{});
  REQUIRE(out.x.shape() == Shape{2, 3, 4});
  for (int e = 0; e < 4; ++e) CHECK(out.x.value().item(2 * 4 + e) == w.item(4 * 4 + e));
  REQUIRE(out.mask.defined());
  REQUIRE(out.mask.dtype() == DType::kUInt8);
  REQUIRE(out.mask.shape() == Shape{2, 3});
  const uint8_t expect[6] = {0, 0, 1, 1, 0, 1};
  for (int i = 0; i < 6; ++i) CHECK(out.mask.data<uint8_t>()[i] == expect[i]);
  // Gradient reaches the parameter.
  out.x.backward(Tensor::full(Shape{2, 3, 4}, DType::kFloat32, 1.0));
  CHECK(layer.params()[0].var.grad().item(0) == 3.0);  // id 0 occurs three times

  o.mask_zero = false;
  Embedding plain(o);
  plain.build({3}, DType::kFloat32, rng);
  CHECK_FALSE(plain.forward({ag::Var(ids), Tensor()}, RunContext{}).mask.defined());
  CHECK_THROWS_AS(plain.forward({ag::Var(ids.to(DType::kFloat32)), Tensor()}, RunContext{}),
                  std::invalid_argument);
}

TEST_CASE("Embedding layer rejects bad options", "[basic][embedding]") {
  EmbeddingOptions o;
  o.input_dim = 0;
  o.output_dim = 4;
  CHECK_THROWS_AS(Embedding(o), std::invalid_argument);
  o.input_dim = 10;
  o.embeddings_initializer = "no_such_init";
  CHECK_THROWS_WITH(Embedding(o), Catch::Contains("no_such_init"));
  o.embeddings_initializer = "uniform";
  o.input_length = 5;
  Embedding layer(o);
  CHECK(layer.output_shape({5}) == FeatureShape{5, 4});
  CHECK_THROWS_WITH(layer.output_shape({6}), Catch::Contains("input_length 5"));
}
