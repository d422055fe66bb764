// The tokenizer's JSON form, {"config": {...}, "word_index": {word: index, ...},
// "word_counts": {word: count, ...}}, written and read back strictly. A fitted IMDB
// vocabulary has over 100,000 words, so both directions stay O(n log n): nlohmann's
// ordered_json finds an object key by a linear search, which made writing one bundle or
// checkpoint, and reading one back (`ember predict`), quadratic (30 s for seed 001's 118,275
// words). Writing builds the two word objects as text, in their order; reading parses into
// nlohmann::json (keys in a std::map) and takes word_counts' stored order, which the map
// loses, from a SAX pass over the keys.
#include "engine/data/tokenizer.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/core/check.h"

namespace ember::data {

namespace {

// `"word":value` pairs as one JSON object, in the order given. nlohmann writes the key, so
// its escaping is the library's.
template <class Pairs, class Get>
void append_object(std::string& out, const Pairs& pairs, Get get) {
  out += '{';
  bool first = true;
  for (const auto& p : pairs) {
    const auto [word, value] = get(p);
    if (word.empty()) continue;
    if (!first) out += ',';
    first = false;
    out += nlohmann::json(word).dump();
    out += ':';
    out += std::to_string(value);
  }
  out += '}';
}

}  // namespace

std::string Tokenizer::to_json() const {
  nlohmann::ordered_json config;
  config["num_words"] = cfg_.num_words ? nlohmann::ordered_json(*cfg_.num_words) : nullptr;
  config["oov_token"] = cfg_.oov_token ? nlohmann::ordered_json(*cfg_.oov_token) : nullptr;
  config["filters"] = cfg_.filters;
  config["lower"] = cfg_.lower;
  config["split"] = cfg_.split;
  config["char_level"] = cfg_.char_level;
  std::string out = "{\"config\":" + config.dump() + ",\"word_index\":";
  size_t index = 0;
  append_object(out, index_word_, [&](const std::string& w) {
    return std::pair<const std::string&, size_t>(w, ++index);
  });
  out += ",\"word_counts\":";
  append_object(out, word_counts_, [](const std::pair<std::string, int64_t>& wc) {
    return std::pair<const std::string&, int64_t>(wc.first, wc.second);
  });
  out += '}';
  return out;
}

namespace {

using Json = nlohmann::json;

[[noreturn]] void bad_json(const std::string& msg) {
  throw Error("tokenizer JSON: " + msg);
}

// The keys of the top-level object's "word_counts" object, in the order the text gives them
// (duplicates kept, so that they can be refused). Everything else is only walked.
class CountKeys : public nlohmann::json_sax<Json> {
 public:
  std::vector<std::string> keys;

  bool key(string_t& k) override {
    if (depth_ == 1) in_counts_ = k == "word_counts";
    if (depth_ == 2 && in_counts_) keys.push_back(k);
    return true;
  }
  bool start_object(std::size_t) override { return ++depth_, true; }
  bool end_object() override { return --depth_, true; }
  bool start_array(std::size_t) override { return ++depth_, true; }
  bool end_array() override { return --depth_, true; }
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;  // the DOM parse has already reported it
  }

 private:
  int depth_ = 0;
  bool in_counts_ = false;
};

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

  // The counts, in their stored (first-seen) order: the DOM's map has them sorted.
  CountKeys order;
  Json::sax_parse(json, &order);
  for (const std::string& word : order.keys) {
    const int64_t count = as_int64(wc.at(word), "word_counts[\"" + word + "\"]");
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
