// Keras's Tokenizer (keras_preprocessing.text.Tokenizer, TF 2.x) in C++. Splitting follows
// text_to_word_sequence: str.lower() on the whole text (final sigma needs the context), then
// str.translate(filters -> split), then str.split(split), dropping empty pieces. With one
// split byte and ASCII filters the translate+split collapses to one scan over a 256-entry
// separator table, which is the same result since translate maps each filter to that byte.
// The JSON format is ours ({"config", "word_index", "word_counts"}): tokenizer_json.cpp.
#include "engine/data/tokenizer.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "engine/core/check.h"
#include "engine/data/unicode.h"

namespace ember::data {

Tokenizer::Tokenizer(const TokenizerConfig& cfg) : cfg_(cfg) {
  if (cfg_.split.empty() && !cfg_.char_level)  // char_level ignores split, as in Keras
    throw std::invalid_argument("Tokenizer: split must not be empty");
  if (!unicode::is_valid(cfg_.split)) {
    throw std::invalid_argument("Tokenizer: split is not valid UTF-8");
  }
  if (!unicode::is_valid(cfg_.filters)) {
    throw std::invalid_argument("Tokenizer: filters is not valid UTF-8");
  }
  if (cfg_.oov_token && !unicode::is_valid(*cfg_.oov_token)) {
    throw std::invalid_argument("Tokenizer: oov_token is not valid UTF-8");
  }
  if (cfg_.num_words && *cfg_.num_words < 0) {
    throw std::invalid_argument("Tokenizer: num_words must be >= 0 (0 = no limit), got " +
                                std::to_string(*cfg_.num_words));
  }
  size_t i = 0;
  while (i < cfg_.filters.size()) {
    const char32_t cp = unicode::next(cfg_.filters, &i);
    if (cp < 0x80) {
      separator_[cp] = true;
    } else {
      wide_filters_.push_back(cp);
    }
  }
  std::sort(wide_filters_.begin(), wide_filters_.end());
  wide_filters_.erase(std::unique(wide_filters_.begin(), wide_filters_.end()), wide_filters_.end());
  fast_split_ = cfg_.split.size() == 1 && wide_filters_.empty();
  if (fast_split_) separator_[static_cast<unsigned char>(cfg_.split[0])] = true;
  // An unfitted tokenizer behaves as Keras's after fit_on_texts([]): the oov token alone.
  rebuild_index();
}

void Tokenizer::tokenize(std::string_view text, Scratch* sc) const {
  std::string_view s = text;
  if (cfg_.lower) {
    unicode::lower(text, &sc->lowered);
    s = sc->lowered;
  } else if (!unicode::is_valid(text)) {
    unicode::sanitize(text, &sc->lowered);
    s = sc->lowered;
  }
  auto& tokens = sc->tokens;
  tokens.clear();
  const size_t n = s.size();
  if (cfg_.char_level) {
    // Keras iterates the (lower-cased) string itself: every code point, spaces and
    // punctuation included, is a token; filters and split are not used.
    size_t i = 0;
    while (i < n) {
      const size_t start = i;
      unicode::next(s, &i);
      tokens.push_back(s.substr(start, i - start));
    }
    return;
  }
  if (fast_split_) {
    size_t start = 0;
    for (size_t i = 0; i < n; ++i) {
      if (separator_[static_cast<unsigned char>(s[i])]) {
        if (i > start) tokens.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
    if (n > start) tokens.push_back(s.substr(start));
    return;
  }
  // General case, literally: translate each filter code point to `split`, then split on the
  // `split` substring (Python's str.split(sep) semantics, empty pieces dropped).
  std::string& t = sc->translated;
  t.clear();
  t.reserve(n);
  size_t i = 0;
  while (i < n) {
    const size_t start = i;
    const char32_t cp = unicode::next(s, &i);
    const bool filtered = cp < 0x80
                              ? separator_[cp]
                              : std::binary_search(wide_filters_.begin(), wide_filters_.end(), cp);
    if (filtered) {
      t += cfg_.split;
    } else {
      t.append(s.data() + start, i - start);
    }
  }
  const std::string_view tv = t;
  const std::string_view sep = cfg_.split;
  size_t start = 0;
  while (start <= tv.size()) {
    const size_t hit = tv.find(sep, start);
    const size_t end = hit == std::string_view::npos ? tv.size() : hit;
    if (end > start) tokens.push_back(tv.substr(start, end - start));
    if (hit == std::string_view::npos) break;
    start = hit + sep.size();
  }
}

std::vector<std::string> Tokenizer::words(std::string_view text) const {
  Scratch sc;
  tokenize(text, &sc);
  return std::vector<std::string>(sc.tokens.begin(), sc.tokens.end());
}

void Tokenizer::fit_on_texts(const std::vector<std::string>& texts) {
  // Counts live in a dense array while fitting (8 bytes a word, not a 40-byte pair, so the
  // increments stay in cache) and are written back at the end.
  std::vector<int64_t> counts(word_counts_.size());
  for (size_t i = 0; i < counts.size(); ++i) counts[i] = word_counts_[i].second;
  Scratch sc;
  for (const std::string& text : texts) {
    tokenize(text, &sc);
    for (const std::string_view w : sc.tokens) {
      bool inserted = false;
      const auto id = static_cast<size_t>(count_table_.insert(w, &inserted));
      if (inserted) {
        word_counts_.emplace_back(std::string(w), 0);
        counts.push_back(0);
      }
      ++counts[id];
    }
  }
  for (size_t i = 0; i < counts.size(); ++i) word_counts_[i].second = counts[i];
  rebuild_index();
}

// Keras: wcounts.sort(key=count, reverse=True) (stable, so ties keep first-seen order), then
// word_index = dict(zip([oov_token] + sorted words, range(1, ...))). When the oov token also
// occurs as a word, that dict() sees the key twice: the key keeps its first slot but takes the
// later value, so the oov token's index is its count rank (+1 for the oov slot) and index 1
// is held by no word. We reproduce that, holes and all, so sequences match Keras's.
void Tokenizer::rebuild_index() {
  std::vector<size_t> order(word_counts_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return word_counts_[a].second > word_counts_[b].second;
  });
  const size_t total = order.size() + (cfg_.oov_token ? 1 : 0);
  if (total >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    throw std::length_error("Tokenizer: too many distinct words for int32 indices");
  }
  index_word_.clear();
  index_word_.reserve(total);
  if (cfg_.oov_token) {
    const bool collides = count_table_.find(*cfg_.oov_token) != WordTable::kMissing;
    index_word_.push_back(collides ? std::string() : *cfg_.oov_token);
  }
  for (const size_t pos : order) index_word_.push_back(word_counts_[pos].first);

  index_table_.clear();
  index_of_id_.clear();
  index_of_id_.reserve(index_word_.size());
  for (size_t i = 0; i < index_word_.size(); ++i) {
    if (index_word_[i].empty()) continue;
    bool inserted = false;
    index_table_.insert(index_word_[i], &inserted);
    index_of_id_.push_back(static_cast<int32_t>(i + 1));
  }
  oov_index_ = cfg_.oov_token ? index_of(*cfg_.oov_token) : 0;
}

int32_t Tokenizer::index_of(std::string_view word) const {
  const int32_t id = index_table_.find(word);
  return id == WordTable::kMissing ? 0 : index_of_id_[static_cast<size_t>(id)];
}

void Tokenizer::sequence_of(std::string_view text, Scratch* sc, std::vector<int32_t>* seq) const {
  tokenize(text, sc);
  const int64_t num_words = cfg_.num_words.value_or(0);
  seq->clear();
  seq->reserve(sc->tokens.size());
  for (const std::string_view w : sc->tokens) {
    const int32_t i = index_of(w);
    if (i != 0) {
      if (num_words > 0 && i >= num_words) {
        if (oov_index_ != 0) seq->push_back(oov_index_);
      } else {
        seq->push_back(i);
      }
    } else if (cfg_.oov_token) {
      seq->push_back(oov_index_);
    }
  }
}

std::vector<int32_t> Tokenizer::text_to_sequence(std::string_view text) const {
  Scratch sc;
  std::vector<int32_t> seq;
  sequence_of(text, &sc, &seq);
  return seq;
}

std::vector<std::vector<int32_t>> Tokenizer::texts_to_sequences(
    const std::vector<std::string>& texts) const {
  Scratch sc;  // shared, so the buffers are allocated once, not per text
  std::vector<std::vector<int32_t>> out(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) sequence_of(texts[i], &sc, &out[i]);
  return out;
}

int64_t Tokenizer::vocab_size() const {
  const int64_t num_words = cfg_.num_words.value_or(0);
  if (num_words > 0) return std::max<int64_t>(num_words, int64_t{oov_index_} + 1);
  return static_cast<int64_t>(index_word_.size()) + 1;
}

// ---- JSON ------------------------------------------------------------------------------------

}  // namespace ember::data
