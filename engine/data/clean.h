// Cleaning steps, composable and named in YAML (data.clean: [strip_html, lowercase, ...]),
// applied in order to each text before tokenizing. Every step is Unicode-aware: lower-casing
// and letter/digit classes follow Unicode (as Python 3's str.lower() and re's \w, \d), so
// Igbo's ọ, ụ, ị, ñ survive. A step may also drop a text (drop_short): apply() then returns
// false and the row is removed, as seed 002 drops cleaned tweets of 2 characters or fewer.
// Input may be any bytes: ill-formed UTF-8 becomes U+FFFD first, so the output is always
// valid UTF-8. Presets (seed001_clean, seed002_clean_text, seed004_preprocess) expand to the
// seeds' exact pipelines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::data {

enum class CleanOp : uint8_t;  // one primitive pass; defined in clean.cpp

// Steps (see known_steps()):
//   strip_html          <tag ...>, </tag>, <!...> -> ' ' (IMDB's "<br />")
//   remove_urls         re.sub(r"http\S+", " ")
//   remove_mentions     re.sub(r"@[A-Za-z0-9_]+", " ")
//   remove_punctuation  delete Python's string.punctuation (ASCII)
//   remove_digits       delete Unicode decimal digits (Nd)
//   non_word_to_space   re.sub(r"\W", " "): not letter/number/'_' -> one space per code point
//   digits_to_space     re.sub(r"\d", " ")
//   keep_letters        keep letters (with their combining marks), whitespace, '!' and '?';
//                       anything else -> ' ' (seed 002's [^a-zA-Z\s!?], Unicode-aware)
//   lowercase           str.lower()
//   collapse_spaces     re.sub(r"\s+", " ").strip()
//   remove_stopwords    ' '.join(w for w in text.split() if w not in NLTK English stopwords)
//   drop_short          drop the text when it has 2 code points or fewer
//   nfc                 Unicode canonical composition (o + U+0323 -> ọ)
class Cleaner {
 public:
  // Throws std::invalid_argument naming an unknown step and listing the known ones.
  explicit Cleaner(const std::vector<std::string>& steps);
  // Cleans `text` into *out (which may alias text's storage). Returns false, leaving *out
  // empty, when a step drops the text.
  bool apply(std::string_view text, std::string* out) const;
  const std::vector<std::string>& steps() const { return steps_; }
  static std::vector<std::string> known_steps();

 private:
  std::vector<std::string> steps_;
  std::vector<CleanOp> ops_;  // steps_ with presets expanded
};

// NLTK's English stopword list (the one seeds 001 and 004 use): 179 words, NLTK's order.
const std::vector<std::string>& english_stopwords();

}  // namespace ember::data
