// Synthetic word-order dataset (see synthetic.h for why a bag of words cannot solve it).
#include "engine/pipeline/synthetic.h"

#include "engine/core/rng.h"
#include "engine/data/sequence.h"

namespace ember {

namespace {
const char* const kFillers[] = {"the",   "movie", "film",     "was",    "is",   "plot", "acting",
                                "story", "a",     "very",     "really", "this", "it",   "and",
                                "of",    "to",    "in",       "with",   "for",  "cast", "ending",
                                "scene", "music", "director", "quite",  "so",   "but",  "at"};
const char* const kPositive[] = {"good", "great",  "excellent", "fine",
                                 "nice", "superb", "lovely",    "brilliant"};
const char* const kNegative[] = {"bad",    "awful", "poor", "terrible",
                                 "boring", "dull",  "weak", "dreadful"};
const char* const kNegators[] = {"not", "never"};

constexpr int32_t kNumFillers = sizeof(kFillers) / sizeof(kFillers[0]);
constexpr int32_t kNumPolar = sizeof(kPositive) / sizeof(kPositive[0]);
constexpr int32_t kNumNegators = sizeof(kNegators) / sizeof(kNegators[0]);
constexpr int32_t kFirstFiller = 1;
constexpr int32_t kFirstPositive = kFirstFiller + kNumFillers;
constexpr int32_t kFirstNegative = kFirstPositive + kNumPolar;
constexpr int32_t kFirstNegator = kFirstNegative + kNumPolar;

// Sequential draws from the Philox stream of one text.
struct Draws {
  uint64_t seed, stream, k = 0;
  uint32_t next() { return philox_bits(seed, stream, k++); }
  int64_t below(int64_t n) { return static_cast<int64_t>(next() % static_cast<uint32_t>(n)); }
};
}  // namespace

const std::vector<std::string>& synthetic_vocab() {
  static const std::vector<std::string> vocab = [] {
    std::vector<std::string> v{""};
    for (const char* w : kFillers) v.push_back(w);
    for (const char* w : kPositive) v.push_back(w);
    for (const char* w : kNegative) v.push_back(w);
    for (const char* w : kNegators) v.push_back(w);
    return v;
  }();
  return vocab;
}

SyntheticText synthetic_text(uint64_t seed, uint64_t index, int64_t max_tokens) {
  EMBER_CHECK_ARG(max_tokens >= 4, "synthetic texts need maxlen >= 4, got " << max_tokens);
  Draws r{seed, index};
  const int64_t len = 4 + r.below(max_tokens - 3);  // 4..max_tokens
  SyntheticText t;
  t.ids.resize(len);
  for (auto& id : t.ids) id = kFirstFiller + static_cast<int32_t>(r.below(kNumFillers));
  const bool positive = r.next() & 1;
  t.negated = r.next() & 1;
  const int32_t word =
      (positive ? kFirstPositive : kFirstNegative) + static_cast<int32_t>(r.below(kNumPolar));
  const int32_t negator = kFirstNegator + static_cast<int32_t>(r.below(kNumNegators));
  int64_t pos, neg_pos;
  if (t.negated) {
    pos = 1 + r.below(len - 1);
    neg_pos = pos - 1;
  } else {
    // The negator stands anywhere except right before the word (or on it).
    pos = r.below(len);
    do neg_pos = r.below(len);
    while (neg_pos == pos || neg_pos == pos - 1);
  }
  t.ids[pos] = word;
  t.ids[neg_pos] = negator;
  t.label = (positive != t.negated) ? 1 : 0;
  return t;
}

data::Tokenizer synthetic_tokenizer() {
  // Fitting on word i repeated (V - i) times gives counts in vocabulary order, and Keras's
  // descending-count ordering then hands out exactly the synthetic ids.
  const auto& vocab = synthetic_vocab();
  const size_t v = vocab.size();
  std::string text;
  for (size_t i = 1; i < v; ++i)
    for (size_t k = 0; k < v - i; ++k) (text += vocab[i]) += ' ';
  data::Tokenizer tok;
  tok.fit_on_texts({text});
  return tok;
}

DataSplits make_synthetic(const SyntheticConfig& cfg, const SequenceConfig& seq) {
  EMBER_CHECK_ARG(cfg.n_train > 0, "synthetic.n_train must be positive");
  auto make = [&](int64_t first, int64_t n) {
    std::vector<std::vector<int32_t>> texts;
    Dataset d;
    d.labels = Tensor::empty({n}, DType::kInt32);
    for (int64_t i = 0; i < n; ++i) {
      SyntheticText t = synthetic_text(cfg.seed, static_cast<uint64_t>(first + i), cfg.maxlen);
      texts.push_back(std::move(t.ids));
      d.labels.data<int32_t>()[i] = t.label;
    }
    d.tokens = pad_sequences(texts, seq.maxlen > 0 ? seq.maxlen : cfg.maxlen, seq.padding,
                             seq.truncating, static_cast<int32_t>(seq.value));
    return d;
  };
  DataSplits s;
  s.train = make(0, cfg.n_train);
  if (cfg.n_val > 0) s.val = make(cfg.n_train, cfg.n_val);
  if (cfg.n_test > 0) s.test = make(cfg.n_train + cfg.n_val, cfg.n_test);
  s.class_names = {"negative", "positive"};
  s.vocab = synthetic_vocab();
  return s;
}

}  // namespace ember
