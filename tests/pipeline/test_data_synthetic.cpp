// pad_sequences (Keras semantics), dataset slicing and validation split, epoch permutations,
// and the synthetic word-order dataset's promises: deterministic, balanced, and unsolvable by a
// bag of words (every text has one sentiment word and one negator; only order decides).
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "engine/data/dataset.h"
#include "engine/data/sequence.h"
#include "engine/pipeline/synthetic.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {
std::vector<int32_t> row(const Tensor& t, int64_t r) {
  const int64_t n = t.size(1);
  return {t.data<int32_t>() + r * n, t.data<int32_t>() + (r + 1) * n};
}
}  // namespace

TEST_CASE("pad_sequences pads and truncates like Keras", "[data][cpu]") {
  std::vector<std::vector<int32_t>> s{{1, 2, 3, 4, 5}, {6, 7}, {}};
  Tensor pre = pad_sequences(s, 3);
  CHECK(row(pre, 0) == std::vector<int32_t>{3, 4, 5});  // 'pre' truncating drops the front
  CHECK(row(pre, 1) == std::vector<int32_t>{0, 6, 7});  // 'pre' padding fills the front
  CHECK(row(pre, 2) == std::vector<int32_t>{0, 0, 0});
  Tensor post = pad_sequences(s, 3, PadSide::kPost, PadSide::kPost, 9);
  CHECK(row(post, 0) == std::vector<int32_t>{1, 2, 3});
  CHECK(row(post, 1) == std::vector<int32_t>{6, 7, 9});
  Tensor mixed = pad_sequences(s, 4, PadSide::kPost, PadSide::kPre);
  CHECK(row(mixed, 0) == std::vector<int32_t>{2, 3, 4, 5});
  CHECK(row(mixed, 1) == std::vector<int32_t>{6, 7, 0, 0});
  // The names the config uses for the sides (the parser reads sequence.padding through them).
  CHECK(std::string(pad_side_name(PadSide::kPre)) == "pre");
  CHECK(std::string(pad_side_name(PadSide::kPost)) == "post");
  CHECK_THROWS_WITH(pad_sequences(s, 0), Contains("maxlen"));
}

TEST_CASE("validation_split takes the last fraction, before shuffling", "[data][cpu]") {
  Dataset d;
  d.tokens = Tensor::empty({10, 2}, DType::kInt32);
  d.labels = Tensor::empty({10}, DType::kInt32);
  for (int i = 0; i < 10; ++i) {
    d.tokens.at<int32_t>(2 * i) = i;
    d.tokens.at<int32_t>(2 * i + 1) = -i;
    d.labels.at<int32_t>(i) = i % 2;
  }
  Dataset tr, va;
  split_validation(d, 0.25, &tr, &va);  // Keras: split_at = int(10 * 0.75) = 7
  CHECK(tr.size() == 7);
  CHECK(va.size() == 3);
  CHECK(va.tokens.item(0) == 7.0);
  CHECK(va.labels.item(2) == 1.0);
  CHECK(head(d, 4).size() == 4);
  CHECK(head(d, 0).size() == 10);
  std::vector<int64_t> idx{9, 0, 9};
  Dataset g = gather_rows(d, idx.data(), 3);
  CHECK(row(g.tokens, 0) == std::vector<int32_t>{9, -9});
  CHECK(row(g.tokens, 2) == std::vector<int32_t>{9, -9});
  CHECK(class_counts(d.labels, 2) == std::vector<int64_t>{5, 5});
  CHECK_THROWS_WITH(class_counts(d.labels, 1), Contains("label 1 at row 1"));
}

TEST_CASE("epoch permutations are seeded permutations", "[data][cpu]") {
  auto p0 = epoch_permutation(1000, 5, 0);
  auto p1 = epoch_permutation(1000, 5, 1);
  CHECK(p0 == epoch_permutation(1000, 5, 0));
  CHECK(p0 != p1);
  CHECK(p0 != epoch_permutation(1000, 6, 0));
  std::vector<int64_t> sorted = p0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) REQUIRE(sorted[i] == i);
  CHECK(epoch_permutation(1, 5, 0) == std::vector<int64_t>{0});
  CHECK(epoch_permutation(0, 5, 0).empty());
}

TEST_CASE("synthetic texts: one sentiment word, one negator, order decides", "[data][cpu]") {
  const auto& vocab = synthetic_vocab();
  auto is = [&](int32_t id, std::initializer_list<const char*> words) {
    for (const char* w : words)
      if (vocab[id] == w) return true;
    return false;
  };
  int positives = 0, negated = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    SyntheticText t = synthetic_text(7, i, 20);
    REQUIRE(t.ids.size() >= 4);
    REQUIRE(t.ids.size() <= 20);
    int pos = -1, neg = -1, polar = 0, negators = 0;
    bool positive_word = false;
    for (size_t k = 0; k < t.ids.size(); ++k) {
      const int32_t id = t.ids[k];
      REQUIRE(id > 0);
      REQUIRE(id < static_cast<int32_t>(vocab.size()));
      if (is(id, {"not", "never"})) {
        ++negators;
        neg = static_cast<int>(k);
      }
      bool p =
          is(id, {"good", "great", "excellent", "fine", "nice", "superb", "lovely", "brilliant"});
      bool q = is(id, {"bad", "awful", "poor", "terrible", "boring", "dull", "weak", "dreadful"});
      if (p || q) {
        ++polar;
        pos = static_cast<int>(k);
        positive_word = p;
      }
    }
    REQUIRE(polar == 1);
    REQUIRE(negators == 1);
    const bool adjacent = neg == pos - 1;
    REQUIRE(adjacent == t.negated);
    REQUIRE(t.label == ((positive_word != adjacent) ? 1 : 0));
    positives += t.label;
    negated += t.negated;
  }
  // Balanced classes and a balanced negation rate, so neither is a shortcut.
  CHECK(std::abs(positives - n / 2) < n / 20);
  CHECK(std::abs(negated - n / 2) < n / 20);
  // Deterministic: the same index gives the same text.
  CHECK(synthetic_text(7, 123, 20).ids == synthetic_text(7, 123, 20).ids);
  CHECK(synthetic_text(7, 123, 20).ids != synthetic_text(8, 123, 20).ids);
}

TEST_CASE("make_synthetic builds padded splits", "[data][cpu]") {
  SyntheticConfig cfg;
  cfg.n_train = 50;
  cfg.n_val = 7;
  cfg.n_test = 3;
  SequenceConfig seq;
  seq.maxlen = 25;
  DataSplits s = make_synthetic(cfg, seq);
  CHECK(s.train.tokens.shape() == Shape{50, 25});
  CHECK(s.val.size() == 7);
  CHECK(s.test.size() == 3);
  CHECK(s.class_names.size() == 2);
  // Pre-padding: the first column is padding for texts shorter than 25 (all of them).
  for (int64_t i = 0; i < 50; ++i) CHECK(s.train.tokens.at<int32_t>(i * 25) == 0);
  // Val rows continue the train stream: the same generator, disjoint indices.
  SyntheticText first_val = synthetic_text(cfg.seed, 50, cfg.maxlen);
  CHECK(s.val.labels.at<int32_t>(0) == first_val.label);
}

TEST_CASE("the synthetic tokenizer maps each word to its synthetic id", "[data][cpu]") {
  data::Tokenizer tok = synthetic_tokenizer();
  const auto& vocab = synthetic_vocab();
  for (size_t i = 1; i < vocab.size(); ++i)
    CHECK(tok.index_of(vocab[i]) == static_cast<int32_t>(i));
  CHECK(tok.text_to_sequence("not good") ==
        std::vector<int32_t>{tok.index_of("not"), tok.index_of("good")});
}
