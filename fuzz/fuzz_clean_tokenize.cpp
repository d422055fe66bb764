// libFuzzer target for cleaning and tokenizing: the input bytes (any bytes; ill-formed UTF-8
// is documented to become U+FFFD, never UB) go through every cleaning step alone, every preset
// and the chain of all steps, then a Tokenizer whose config comes from the first input bytes
// fits on the rest, converts it to sequences and round-trips through JSON; the raw bytes are
// also fed to Tokenizer::from_json. Cleaning and tokenizing must not throw at all; the only
// expected exceptions are std::invalid_argument from the Tokenizer constructor (a fuzzed
// split/filters that is empty or not UTF-8) and ember::Error from from_json. Anything else, a
// sanitizer report or a broken invariant below is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/check.h"
#include "engine/data/clean.h"
#include "engine/data/tokenizer.h"
#include "engine/data/unicode.h"
#include "fuzz/fuzz_assert.h"

namespace {

using ember::data::Cleaner;
using ember::data::Tokenizer;
namespace unicode = ember::data::unicode;

const std::vector<std::string>& all_steps() {
  static const std::vector<std::string> steps = Cleaner::known_steps();
  return steps;
}

void check_step(const std::string& step, std::string_view text) {
  std::string out;
  const bool kept = Cleaner({step}).apply(text, &out);
  FUZZ_ASSERT(unicode::is_valid(out));
  if (!kept) {
    FUZZ_ASSERT(out.empty());
    FUZZ_ASSERT(step == "drop_short" || step == "seed002_clean_text");
    return;
  }
  std::string clean;
  unicode::sanitize(text, &clean);
  // Per-code-point rewrites keep the code point count.
  if (step == "non_word_to_space" || step == "digits_to_space" || step == "keep_letters") {
    FUZZ_ASSERT(unicode::length(out) == unicode::length(clean));
  }
  // Joined and collapsed outputs: single spaces inside, none at the ends.
  if (step == "collapse_spaces" || step == "remove_stopwords" || step == "seed001_clean" ||
      step == "seed002_clean_text" || step == "seed004_preprocess") {
    FUZZ_ASSERT(out.find("  ") == std::string::npos);
    FUZZ_ASSERT(out.empty() || (out.front() != ' ' && out.back() != ' '));
  }
  if (step == "remove_stopwords" || step == "seed004_preprocess") {
    size_t start = 0;
    while (start < out.size()) {
      size_t end = out.find(' ', start);
      if (end == std::string::npos) end = out.size();
      const std::string word = out.substr(start, end - start);
      for (const std::string& s : ember::data::english_stopwords()) FUZZ_ASSERT(word != s);
      start = end + 1;
    }
  }
  if (step == "drop_short" || step == "seed002_clean_text") FUZZ_ASSERT(unicode::length(out) > 2);
}

void check_tokenizer(const uint8_t* data, size_t size) {
  // Config from the first bytes: flags, num_words, split length + bytes, filters length +
  // bytes; the rest is the text, also split into documents at '\n'.
  if (size < 4) return;
  size_t pos = 0;
  const uint8_t flags = data[pos++];
  const uint8_t num_words = data[pos++];
  ember::TokenizerConfig cfg;
  cfg.lower = flags & 1;
  cfg.char_level = flags & 2;
  if (flags & 4) cfg.oov_token = (flags & 8) ? "a" : "<OOV>";  // "a" can collide with a word
  if (num_words != 0) cfg.num_words = num_words % 64;
  const size_t split_len = data[pos++] % 4;
  if (split_len > 0 && pos + split_len <= size) {
    cfg.split.assign(reinterpret_cast<const char*>(data + pos), split_len);
    pos += split_len;
  }
  if (pos >= size) return;
  const size_t filters_len = data[pos++] % 8;
  if (filters_len > 0 && pos + filters_len <= size) {
    cfg.filters.assign(reinterpret_cast<const char*>(data + pos), filters_len);
    pos += filters_len;
  }
  const std::string text(reinterpret_cast<const char*>(data + pos), size - pos);

  std::unique_ptr<Tokenizer> tok;
  try {
    tok = std::make_unique<Tokenizer>(cfg);
  } catch (const std::invalid_argument&) {
    return;  // documented: empty split, or split/filters/oov_token not UTF-8
  }
  std::vector<std::string> docs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    docs.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  tok->fit_on_texts(docs);
  tok->fit_on_texts({text});

  for (const std::string& w : tok->words(text)) {
    FUZZ_ASSERT(!w.empty());
    FUZZ_ASSERT(unicode::is_valid(w));
    if (!cfg.char_level) FUZZ_ASSERT(w.find(cfg.split) == std::string::npos);
  }
  const auto seqs = tok->texts_to_sequences(docs);
  for (const auto& seq : seqs) {
    for (const int32_t i : seq) FUZZ_ASSERT(i >= 1 && i < tok->vocab_size());
  }
  const Tokenizer back = Tokenizer::from_json(tok->to_json());  // must not throw
  FUZZ_ASSERT(back.index_word() == tok->index_word());
  FUZZ_ASSERT(back.word_counts() == tok->word_counts());
  FUZZ_ASSERT(back.texts_to_sequences(docs) == seqs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string& step : all_steps()) check_step(step, text);
  std::string out;
  Cleaner(all_steps()).apply(text, &out);
  FUZZ_ASSERT(unicode::is_valid(out));

  check_tokenizer(data, size);

  try {
    Tokenizer::from_json(std::string(text));
  } catch (const ember::Error&) {
    // documented: malformed tokenizer JSON
  }
  return 0;
}
