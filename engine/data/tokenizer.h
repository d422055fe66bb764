// Keras's Tokenizer, exactly: lower-case (Unicode), replace every `filters` character with
// `split`, split on `split`, drop empty pieces. fit_on_texts counts words; word_index orders
// them by descending count, ties in first-seen order, from 1; an oov_token takes index 1.
// texts_to_sequences keeps indices below num_words (when set), maps unknown or cut-off words
// to the oov index when there is one and drops them otherwise. Saved and loaded as JSON with
// word_index and word_counts in Keras order. Any bytes are accepted: ill-formed UTF-8 becomes
// U+FFFD before splitting, so every word is valid UTF-8. Fitting hashes string_views into a
// WordTable (one arena), so counting allocates only once per distinct word.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/data/tokenizer_options.h"
#include "engine/data/word_table.h"

namespace ember::data {

class Tokenizer {
 public:
  // Throws std::invalid_argument for an empty `split`, a negative num_words, or `split`,
  // `filters` or `oov_token` that is not valid UTF-8. num_words 0 means no cut-off (Keras).
  explicit Tokenizer(const TokenizerConfig& cfg = {});

  // Keras's text_to_word_sequence (or characters, with char_level: the lower-cased text's code
  // points, with no filtering, as Keras does).
  std::vector<std::string> words(std::string_view text) const;
  // Adds the texts' words to the counts (repeated calls accumulate, as in Keras) and rebuilds
  // word_index from all counts.
  void fit_on_texts(const std::vector<std::string>& texts);
  std::vector<int32_t> text_to_sequence(std::string_view text) const;
  std::vector<std::vector<int32_t>> texts_to_sequences(const std::vector<std::string>& texts) const;

  // word_index in index order: entry i holds the word with index i+1. An empty entry marks an
  // index no word holds: index 1 when the oov_token also occurs as a word (see fit_on_texts).
  const std::vector<std::string>& index_word() const { return index_word_; }
  // word_counts in first-seen order (Keras's OrderedDict).
  const std::vector<std::pair<std::string, int64_t>>& word_counts() const { return word_counts_; }
  int32_t index_of(std::string_view word) const;  // 0 when unknown
  // The index texts_to_sequences gives unknown words; 0 without an oov_token.
  int32_t oov_index() const { return oov_index_; }
  // The Embedding input_dim this tokenizer needs, i.e. one more than the largest index
  // texts_to_sequences can emit: num_words when set, else word_index size + 1. (In Keras's
  // oov collision case the oov index can exceed both; it is then oov_index() + 1.)
  int64_t vocab_size() const;
  const TokenizerConfig& config() const { return cfg_; }

  std::string to_json() const;  // {"config": {...}, "word_index": {...}, "word_counts": {...}}
  // Throws ember::Error naming the problem: unparsable JSON, missing or unknown keys, wrong
  // types, bad or duplicate indices, or a word_index that is not the one word_counts gives.
  static Tokenizer from_json(const std::string& json);

 private:
  struct Scratch {  // buffers reused across texts
    std::string lowered;
    std::string translated;
    std::vector<std::string_view> tokens;
  };
  // Splits `text` into views of `text` or of the scratch buffers, in sc->tokens.
  void tokenize(std::string_view text, Scratch* sc) const;
  // Keras's texts_to_sequences for one text, into *seq.
  void sequence_of(std::string_view text, Scratch* sc, std::vector<int32_t>* seq) const;
  void rebuild_index();

  TokenizerConfig cfg_;
  std::array<bool, 256> separator_{};   // fast path: byte is an ASCII filter or the split byte
  std::vector<char32_t> wide_filters_;  // sorted non-ASCII filter code points
  bool fast_split_ = true;              // split is one byte and every filter is ASCII

  std::vector<std::pair<std::string, int64_t>> word_counts_;
  WordTable count_table_;  // word -> position in word_counts_
  std::vector<std::string> index_word_;
  WordTable index_table_;  // word -> id; index_of_id_[id] is its index
  std::vector<int32_t> index_of_id_;
  int32_t oov_index_ = 0;
};

}  // namespace ember::data
