// Keras's Tokenizer (keras_preprocessing.text.Tokenizer, TF 2.x) in C++. Splitting follows
// text_to_word_sequence: str.lower() on the whole text (final sigma needs the context), then
// str.translate(filters -> split), then str.split(split), dropping empty pieces. With one
// split byte and ASCII filters the translate+split collapses to one scan over a 256-entry
// separator table, which is the same result since translate maps each filter to that byte.
// The JSON format is ours ({"config", "word_index", "word_counts"}), read back strictly.
#include "engine/data/tokenizer.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include <nlohmann/json.hpp>

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

std::string Tokenizer::to_json() const {
  nlohmann::ordered_json config;
  config["num_words"] = cfg_.num_words ? nlohmann::ordered_json(*cfg_.num_words) : nullptr;
  config["oov_token"] = cfg_.oov_token ? nlohmann::ordered_json(*cfg_.oov_token) : nullptr;
  config["filters"] = cfg_.filters;
  config["lower"] = cfg_.lower;
  config["split"] = cfg_.split;
  config["char_level"] = cfg_.char_level;
  nlohmann::ordered_json word_index = nlohmann::ordered_json::object();
  for (size_t i = 0; i < index_word_.size(); ++i) {
    if (!index_word_[i].empty()) word_index[index_word_[i]] = i + 1;
  }
  nlohmann::ordered_json word_counts = nlohmann::ordered_json::object();
  for (const auto& [word, count] : word_counts_) word_counts[word] = count;
  nlohmann::ordered_json j;
  j["config"] = std::move(config);
  j["word_index"] = std::move(word_index);
  j["word_counts"] = std::move(word_counts);
  return j.dump();
}

namespace {

using Json = nlohmann::ordered_json;

[[noreturn]] void bad_json(const std::string& msg) {
  throw Error("tokenizer JSON: " + msg);
}

const Json& member(const Json& obj, const char* key, const char* where) {
  const auto it = obj.find(key);
  if (it == obj.end()) bad_json(std::string("missing key \"") + key + "\" in " + where);
  return *it;
}

int64_t as_int64(const Json& v, const std::string& what) {
  if (!v.is_number_integer()) bad_json(what + " must be an integer, got " + v.dump());
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    bad_json(what + " is out of range: " + v.dump());
  }
  return v.get<int64_t>();
}

std::string as_string(const Json& v, const std::string& what) {
  if (!v.is_string()) bad_json(what + " must be a string, got " + v.dump());
  return v.get<std::string>();
}

bool as_bool(const Json& v, const std::string& what) {
  if (!v.is_boolean()) bad_json(what + " must be true or false, got " + v.dump());
  return v.get<bool>();
}

TokenizerConfig parse_config(const Json& c) {
  if (!c.is_object()) bad_json("\"config\" must be an object");
  static const char* const kKeys[] = {"num_words", "oov_token", "filters",
                                      "lower",     "split",     "char_level"};
  for (auto it = c.begin(); it != c.end(); ++it) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&](const char* k) { return it.key() == k; }) == std::end(kKeys)) {
      bad_json("unknown key \"" + it.key() +
               "\" in config (known: num_words, oov_token, filters, lower, split, char_level)");
    }
  }
  TokenizerConfig cfg;
  const Json& nw = member(c, "num_words", "config");
  if (!nw.is_null()) cfg.num_words = as_int64(nw, "config.num_words");
  const Json& oov = member(c, "oov_token", "config");
  if (!oov.is_null()) cfg.oov_token = as_string(oov, "config.oov_token");
  cfg.filters = as_string(member(c, "filters", "config"), "config.filters");
  cfg.lower = as_bool(member(c, "lower", "config"), "config.lower");
  cfg.split = as_string(member(c, "split", "config"), "config.split");
  cfg.char_level = as_bool(member(c, "char_level", "config"), "config.char_level");
  return cfg;
}

}  // namespace

Tokenizer Tokenizer::from_json(const std::string& json) {
  Json j;
  try {
    j = Json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    bad_json(std::string("cannot parse: ") + e.what());
  }
  if (!j.is_object()) bad_json("the top level must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "config" && it.key() != "word_index" && it.key() != "word_counts") {
      bad_json("unknown top-level key \"" + it.key() +
               "\" (known: config, word_index, word_counts)");
    }
  }
  TokenizerConfig cfg = parse_config(member(j, "config", "the top level"));
  const Json& wi = member(j, "word_index", "the top level");
  const Json& wc = member(j, "word_counts", "the top level");
  if (!wi.is_object()) bad_json("\"word_index\" must be an object");
  if (!wc.is_object()) bad_json("\"word_counts\" must be an object");

  Tokenizer tok = [&] {
    try {
      return Tokenizer(cfg);
    } catch (const std::invalid_argument& e) {
      bad_json(std::string("bad config: ") + e.what());
    }
  }();

  // The counts, in their stored (first-seen) order.
  for (auto it = wc.begin(); it != wc.end(); ++it) {
    const std::string& word = it.key();
    const int64_t count = as_int64(it.value(), "word_counts[\"" + word + "\"]");
    if (word.empty()) bad_json("word_counts has an empty word");
    if (count < 1) bad_json("word_counts[\"" + word + "\"] must be >= 1");
    bool inserted = false;
    tok.count_table_.insert(word, &inserted);
    if (!inserted) bad_json("word_counts lists \"" + word + "\" twice");
    tok.word_counts_.emplace_back(word, count);
  }

  // Check the stored indices on their own terms first, for a precise message.
  std::vector<std::string> by_index;
  for (auto it = wi.begin(); it != wi.end(); ++it) {
    const std::string& word = it.key();
    const int64_t index = as_int64(it.value(), "word_index[\"" + word + "\"]");
    if (word.empty()) bad_json("word_index has an empty word");
    if (index < 1 || index > static_cast<int64_t>(wi.size()) + 1) {
      bad_json("word_index[\"" + word + "\"] = " + std::to_string(index) + " is out of range 1.." +
               std::to_string(wi.size() + 1));
    }
    const auto slot = static_cast<size_t>(index - 1);
    if (by_index.size() <= slot) by_index.resize(slot + 1);
    if (!by_index[slot].empty()) {
      bad_json("index " + std::to_string(index) + " is given to both \"" + by_index[slot] +
               "\" and \"" + word + "\"");
    }
    by_index[slot] = word;
  }

  tok.rebuild_index();
  if (by_index != tok.index_word_) {
    size_t k = 0;
    while (k < by_index.size() && k < tok.index_word_.size() && by_index[k] == tok.index_word_[k])
      ++k;
    const std::string got = k < by_index.size() ? "\"" + by_index[k] + "\"" : "nothing";
    const std::string want =
        k < tok.index_word_.size() ? "\"" + tok.index_word_[k] + "\"" : "nothing";
    bad_json("word_index does not match word_counts (and oov_token): index " +
             std::to_string(k + 1) + " holds " + got + " where the counts give " + want);
  }
  return tok;
}

}  // namespace ember::data
