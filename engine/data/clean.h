// Cleaning steps, composable and named in YAML (data.clean: [strip_html, lowercase, ...]),
// applied in order to each text before tokenizing. Every step is Unicode-aware: lower-casing
// and letter/digit classes follow Unicode (as Python 3's str.lower() and re's \w, \d), so
// Igbo's ọ, ụ, ị, ñ survive. A step may also drop a text (drop_short): apply() then returns
// false and the row is removed, as seed 002 drops cleaned tweets of 2 characters or fewer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ember::data {

class Cleaner {
 public:
  // Throws std::invalid_argument naming an unknown step and listing the known ones.
  explicit Cleaner(const std::vector<std::string>& steps);
  // Cleans `text` into *out. Returns false when a step drops the text.
  bool apply(std::string_view text, std::string* out) const;
  const std::vector<std::string>& steps() const { return steps_; }
  static std::vector<std::string> known_steps();

 private:
  std::vector<std::string> steps_;
};

// NLTK's English stopword list (the one seeds 001 and 004 use).
const std::vector<std::string>& english_stopwords();

}  // namespace ember::data
