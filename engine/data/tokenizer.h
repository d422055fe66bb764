// Keras's Tokenizer, exactly: lower-case (Unicode), replace every `filters` character with
// `split`, split on `split`, drop empty pieces. fit_on_texts counts words; word_index orders
// them by descending count, ties in first-seen order, from 1; an oov_token takes index 1.
// texts_to_sequences keeps indices below num_words (when set), maps unknown or cut-off words
// to the oov index when there is one and drops them otherwise. Saved and loaded as JSON with
// word_index and word_counts in Keras order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/config.h"

namespace ember::data {

class Tokenizer {
 public:
  explicit Tokenizer(const TokenizerConfig& cfg = {});

  // Keras's text_to_word_sequence (or characters, with char_level).
  std::vector<std::string> words(std::string_view text) const;
  void fit_on_texts(const std::vector<std::string>& texts);
  std::vector<int32_t> text_to_sequence(std::string_view text) const;
  std::vector<std::vector<int32_t>> texts_to_sequences(const std::vector<std::string>& texts) const;

  // word_index in index order: entry i holds the word with index i+1.
  const std::vector<std::string>& index_word() const { return index_word_; }
  // word_counts in first-seen order (Keras's OrderedDict).
  const std::vector<std::pair<std::string, int64_t>>& word_counts() const { return word_counts_; }
  int32_t index_of(std::string_view word) const;  // 0 when unknown
  // The Embedding input_dim this tokenizer needs: num_words when set, else word_index size + 1.
  int64_t vocab_size() const;
  const TokenizerConfig& config() const { return cfg_; }

  std::string to_json() const;  // {"config": {...}, "word_index": {...}, "word_counts": {...}}
  static Tokenizer from_json(const std::string& json);  // throws on malformed input

 private:
  TokenizerConfig cfg_;
  std::vector<std::pair<std::string, int64_t>> word_counts_;
  std::unordered_map<std::string, size_t> count_pos_;  // word -> position in word_counts_
  std::vector<std::string> index_word_;
  std::unordered_map<std::string, int32_t> word_index_;
};

}  // namespace ember::data
