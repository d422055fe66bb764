// The synthetic word-order dataset behind configs/synthetic.yaml: short "reviews" of filler
// words with one sentiment word and one negator ("not", "never"). The label is the word's
// polarity, flipped when the negator stands right before it ("not good" vs "good ... not").
// Every text holds exactly one sentiment word and one negator, so a bag of words sees the same
// counts in both cases and cannot beat chance on the negation: the model must read word order.
// Generation is a pure function of the seed (Philox), identical on every machine.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/data/tokenizer.h"

namespace ember {

// The vocabulary: index = token id, [0] = "" (padding). Embedding input_dim must be >= size().
const std::vector<std::string>& synthetic_vocab();

struct SyntheticText {
  std::vector<int32_t> ids;  // unpadded
  int32_t label;             // 0 negative, 1 positive
  bool negated;
};
SyntheticText synthetic_text(uint64_t seed, uint64_t index, int64_t max_tokens);

// A Keras tokenizer whose word_index is exactly synthetic_vocab() (word i -> id i), so a
// bundle of a synthetic model predicts on typed text ("the movie was not good").
data::Tokenizer synthetic_tokenizer();

// Train/val/test sets padded to sequence.maxlen with sequence.padding / truncating.
DataSplits make_synthetic(const SyntheticConfig& cfg, const SequenceConfig& seq);

}  // namespace ember
