// The cleaning steps and the seed presets. Each step is one pass over valid UTF-8 (apply()
// first replaces ill-formed bytes with U+FFFD), decoding code points with an inline ASCII fast
// path. Regex steps reproduce Python's re on str patterns: a class like \W replaces each
// matching code point with one space (no run merging), and \s / str.split() use Python's
// whitespace set. Presets expand to the seeds' exact pipelines, so one YAML name reproduces a
// notebook's cleaning function.
#include "engine/data/clean.h"

#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "engine/data/unicode.h"

namespace ember::data {

enum class CleanOp : uint8_t {
  kStripHtml,
  kRemoveUrls,
  kRemoveMentions,
  kRemovePunctuation,
  kRemoveDigits,
  kRemoveAsciiPunctuationDigits,  // seed 001's translate(punctuation + digits): ASCII only
  kNonWordToSpace,
  kDigitsToSpace,
  kNonWordOrDigitToSpace,  // \W then \d in one pass: seed 004's two re.sub calls
  kKeepLetters,
  kLowercase,
  kCollapseSpaces,
  kRemoveStopwords,
  kDropShort,
  kNfc,
};

namespace {

using Ops = std::vector<CleanOp>;

struct StepDef {
  const char* name;
  Ops ops;
};

// The order here is the order known_steps() lists them in error messages.
const std::vector<StepDef>& step_table() {
  static const std::vector<StepDef> table = {
      {"strip_html", {CleanOp::kStripHtml}},
      {"remove_urls", {CleanOp::kRemoveUrls}},
      {"remove_mentions", {CleanOp::kRemoveMentions}},
      {"remove_punctuation", {CleanOp::kRemovePunctuation}},
      {"remove_digits", {CleanOp::kRemoveDigits}},
      {"non_word_to_space", {CleanOp::kNonWordToSpace}},
      {"digits_to_space", {CleanOp::kDigitsToSpace}},
      {"keep_letters", {CleanOp::kKeepLetters}},
      {"lowercase", {CleanOp::kLowercase}},
      {"collapse_spaces", {CleanOp::kCollapseSpaces}},
      {"remove_stopwords", {CleanOp::kRemoveStopwords}},
      {"drop_short", {CleanOp::kDropShort}},
      {"nfc", {CleanOp::kNfc}},
      // seed 001 data_cleaning: translate(maketrans('', '', punctuation + digits)), lower(),
      // split(), drop stopwords, ' '.join().
      {"seed001_clean",
       {CleanOp::kRemoveAsciiPunctuationDigits, CleanOp::kLowercase, CleanOp::kRemoveStopwords}},
      // seed 002 clean_text, then its `df[df.clean_text.str.len() > 2]`; the letter class is
      // Unicode-aware here where the notebook's [^a-zA-Z\s!?] was ASCII.
      {"seed002_clean_text",
       {CleanOp::kRemoveUrls, CleanOp::kRemoveMentions, CleanOp::kKeepLetters, CleanOp::kLowercase,
        CleanOp::kCollapseSpaces, CleanOp::kDropShort}},
      // seed 004 preprocess_text: re.sub(r'\W', ' '), re.sub(r'\d', ' '), lower(), drop
      // stopwords from split(), ' '.join().
      {"seed004_preprocess",
       {CleanOp::kNonWordOrDigitToSpace, CleanOp::kLowercase, CleanOp::kRemoveStopwords}},
  };
  return table;
}

bool is_ascii_punctuation(unsigned char b) {  // Python's string.punctuation
  return (b >= '!' && b <= '/') || (b >= ':' && b <= '@') || (b >= '[' && b <= '`') ||
         (b >= '{' && b <= '~');
}

bool is_ascii_alpha(unsigned char b) {
  return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

enum class Action { kKeep, kSpace, kDrop };

// Output of the passes below, each of which writes at most as many bytes as it reads: the
// buffer is sized once and written through a pointer (a push_back per byte, with its capacity
// check, cost about a fifth of the cleaning time).
class ShrinkWriter {
 public:
  ShrinkWriter(std::string* out, size_t max_size) : out_(out) {
    out_->resize(max_size);
    p_ = out_->data();
  }
  void put(char c) { p_[n_++] = c; }
  // Writes c and keeps it when keep is 1 (branch-free). In bounds even when dropping: the
  // writer is behind the reader, so n_ < max_size while input remains.
  void put_if(char c, unsigned char keep) {
    p_[n_] = c;
    n_ += keep;
  }
  void put(const char* s, size_t len) {
    std::memcpy(p_ + n_, s, len);
    n_ += len;
  }
  bool empty() const { return n_ == 0; }
  void finish() { out_->resize(n_); }

 private:
  std::string* out_;
  char* p_ = nullptr;
  size_t n_ = 0;
};

// Rewrites `in` code point by code point: keep its bytes, replace it with one space, or drop
// it. ASCII goes through two 128-entry tables built from `classify` (the byte to write and
// whether to advance), so the common path has no branch on the byte's class.
template <class Classify>
void map_code_points(std::string_view in, std::string* out, Classify classify) {
  char repl[128];
  unsigned char advance[128];
  for (char32_t c = 0; c < 128; ++c) {
    const Action a = classify(c);
    repl[c] = a == Action::kSpace ? ' ' : static_cast<char>(c);
    advance[c] = a == Action::kDrop ? 0 : 1;
  }
  ShrinkWriter w(out, in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) {
      w.put_if(repl[b], advance[b]);
      ++i;
      continue;
    }
    const size_t start = i;
    const char32_t cp = unicode::decode_multibyte(in, &i);
    switch (classify(cp)) {
      case Action::kKeep:
        w.put(in.data() + start, i - start);
        break;
      case Action::kSpace:
        w.put(' ');
        break;
      case Action::kDrop:
        break;
    }
  }
  w.finish();
}

// Writes `in` with every match replaced by one space, scanning left to right as re.sub does:
// match_end(i) is the end of the match that starts at byte i, or i when none starts there.
template <class MatchEnd>
void replace_matches(std::string_view in, std::string* out, MatchEnd match_end) {
  ShrinkWriter w(out, in.size());
  size_t i = 0;
  while (i < in.size()) {
    const size_t end = match_end(i);
    if (end > i) {
      w.put(' ');
      i = end;
    } else {
      w.put(in[i]);
      ++i;
    }
  }
  w.finish();
}

// <tag ...>, </tag>, <!...> -> ' '. A '<' not followed by a letter, '/'+letter or '!' is text
// ("a < b"), and a tag ends at the first '>' before any other '<', so the scan is linear.
void strip_html(std::string_view in, std::string* out) {
  const size_t n = in.size();
  replace_matches(in, out, [&](size_t i) {
    if (in[i] != '<' || i + 1 >= n) return i;
    const auto b1 = static_cast<unsigned char>(in[i + 1]);
    const bool opens =
        is_ascii_alpha(b1) || b1 == '!' ||
        (b1 == '/' && i + 2 < n && is_ascii_alpha(static_cast<unsigned char>(in[i + 2])));
    if (!opens) return i;
    size_t j = i + 1;
    while (j < n && in[j] != '>' && in[j] != '<') ++j;
    return j < n && in[j] == '>' ? j + 1 : i;
  });
}

// re.sub(r"http\S+", " "): "http" plus at least one non-whitespace code point, greedily.
void remove_urls(std::string_view in, std::string* out) {
  const size_t n = in.size();
  replace_matches(in, out, [&](size_t i) {
    if (in[i] != 'h' || in.compare(i, 4, "http") != 0 || i + 4 >= n) return i;
    size_t j = i + 4;
    size_t k = j;
    if (unicode::is_space(unicode::next(in, &k))) return i;
    j = k;
    while (j < n) {
      k = j;
      if (unicode::is_space(unicode::next(in, &k))) break;
      j = k;
    }
    return j;
  });
}

// re.sub(r"@[A-Za-z0-9_]+", " ").
void remove_mentions(std::string_view in, std::string* out) {
  auto is_handle = [](unsigned char b) {
    return is_ascii_alpha(b) || (b >= '0' && b <= '9') || b == '_';
  };
  const size_t n = in.size();
  replace_matches(in, out, [&](size_t i) {
    if (in[i] != '@' || i + 1 >= n || !is_handle(static_cast<unsigned char>(in[i + 1]))) return i;
    size_t j = i + 1;
    while (j < n && is_handle(static_cast<unsigned char>(in[j]))) ++j;
    return j;
  });
}

// re.sub(r"\s+", " ", text).strip().
void collapse_spaces(std::string_view in, std::string* out) {
  ShrinkWriter w(out, in.size());
  bool pending = false;  // a whitespace run was seen after some kept text
  size_t i = 0;
  while (i < in.size()) {
    const size_t start = i;
    const char32_t cp = unicode::next(in, &i);
    if (unicode::is_space(cp)) {
      pending = !w.empty();
      continue;
    }
    if (pending) w.put(' ');
    pending = false;
    w.put(in.data() + start, i - start);
  }
  w.finish();
}

// Stopwords bucketed by (first letter, length): every stopword is 1..10 ASCII bytes starting
// with a-z, so most words are rejected by those two tests, and the rest compare as two packed
// integers against a bucket of a few words (hashing, then memcmp, each took a tenth or more
// of seed004_preprocess).
struct Packed {
  uint64_t lo = 0;  // bytes 0..7, zero-padded
  uint16_t hi = 0;  // bytes 8..9
  bool operator==(const Packed& o) const { return lo == o.lo && hi == o.hi; }
};

Packed pack(std::string_view w) {  // w.size() <= 10
  Packed p;
  std::memcpy(&p.lo, w.data(), w.size() < 8 ? w.size() : 8);
  if (w.size() > 8) std::memcpy(&p.hi, w.data() + 8, w.size() - 8);
  return p;
}

bool is_stopword(std::string_view word) {
  constexpr size_t kMaxLen = 10;
  static const std::vector<std::vector<Packed>> buckets = [] {
    std::vector<std::vector<Packed>> b(26 * (kMaxLen + 1));
    for (const std::string& w : english_stopwords()) {
      b[static_cast<size_t>(w[0] - 'a') * (kMaxLen + 1) + w.size()].push_back(pack(w));
    }
    return b;
  }();
  if (word.empty() || word.size() > kMaxLen || word[0] < 'a' || word[0] > 'z') return false;
  const Packed p = pack(word);
  for (const Packed& s :
       buckets[static_cast<size_t>(word[0] - 'a') * (kMaxLen + 1) + word.size()]) {
    if (s == p) return true;
  }
  return false;
}

// ' '.join(w for w in text.split() if w not in stops).
void remove_stopwords(std::string_view in, std::string* out) {
  ShrinkWriter w(out, in.size());
  const size_t n = in.size();
  size_t i = 0;
  while (i < n) {
    size_t k = i;
    if (unicode::is_space(unicode::next(in, &k))) {
      i = k;
      continue;
    }
    const size_t start = i;  // a word: up to the next whitespace code point
    i = k;
    while (i < n) {
      k = i;
      if (unicode::is_space(unicode::next(in, &k))) break;
      i = k;
    }
    const std::string_view word = in.substr(start, i - start);
    if (!is_stopword(word)) {
      if (!w.empty()) w.put(' ');
      w.put(word.data(), word.size());
    }
  }
  w.finish();
}

void run_op(CleanOp op, std::string_view in, std::string* out) {
  using unicode::is_decimal;
  switch (op) {
    case CleanOp::kStripHtml:
      strip_html(in, out);
      return;
    case CleanOp::kRemoveUrls:
      remove_urls(in, out);
      return;
    case CleanOp::kRemoveMentions:
      remove_mentions(in, out);
      return;
    case CleanOp::kRemovePunctuation:
      map_code_points(in, out, [](char32_t c) {
        return c < 0x80 && is_ascii_punctuation(static_cast<unsigned char>(c)) ? Action::kDrop
                                                                               : Action::kKeep;
      });
      return;
    case CleanOp::kRemoveDigits:
      map_code_points(in, out,
                      [](char32_t c) { return is_decimal(c) ? Action::kDrop : Action::kKeep; });
      return;
    case CleanOp::kRemoveAsciiPunctuationDigits:
      map_code_points(in, out, [](char32_t c) {
        const bool del = c < 0x80 && (is_ascii_punctuation(static_cast<unsigned char>(c)) ||
                                      (c >= '0' && c <= '9'));
        return del ? Action::kDrop : Action::kKeep;
      });
      return;
    case CleanOp::kNonWordToSpace:
      map_code_points(
          in, out, [](char32_t c) { return unicode::is_word(c) ? Action::kKeep : Action::kSpace; });
      return;
    case CleanOp::kDigitsToSpace:
      map_code_points(in, out,
                      [](char32_t c) { return is_decimal(c) ? Action::kSpace : Action::kKeep; });
      return;
    case CleanOp::kNonWordOrDigitToSpace:
      map_code_points(in, out, [](char32_t c) {
        return unicode::is_word(c) && !is_decimal(c) ? Action::kKeep : Action::kSpace;
      });
      return;
    case CleanOp::kKeepLetters:
      // Letters keep their combining marks: tone-marked Igbo (ọ̀ = U+1ECD U+0300) has no
      // precomposed form, so dropping marks would split words.
      map_code_points(in, out, [](char32_t c) {
        const bool keep = c == '!' || c == '?' || unicode::is_space(c) || unicode::is_letter(c) ||
                          unicode::is_mark(c);
        return keep ? Action::kKeep : Action::kSpace;
      });
      return;
    case CleanOp::kLowercase:
      unicode::lower(in, out);
      return;
    case CleanOp::kCollapseSpaces:
      collapse_spaces(in, out);
      return;
    case CleanOp::kRemoveStopwords:
      remove_stopwords(in, out);
      return;
    case CleanOp::kNfc:
      unicode::nfc(in, out);
      return;
    case CleanOp::kDropShort:
      break;  // handled in apply(): it filters, it does not rewrite
  }
  out->assign(in.data(), in.size());
}

}  // namespace

Cleaner::Cleaner(const std::vector<std::string>& steps) : steps_(steps) {
  for (const std::string& name : steps) {
    const StepDef* found = nullptr;
    for (const StepDef& def : step_table()) {
      if (name == def.name) found = &def;
    }
    if (found == nullptr) {
      std::ostringstream msg;
      msg << "unknown cleaning step '" << name << "'; known steps:";
      const char* sep = " ";
      for (const std::string& known : known_steps()) {
        msg << sep << known;
        sep = ", ";
      }
      throw std::invalid_argument(msg.str());
    }
    ops_.insert(ops_.end(), found->ops.begin(), found->ops.end());
  }
}

std::vector<std::string> Cleaner::known_steps() {
  std::vector<std::string> names;
  for (const StepDef& def : step_table()) names.emplace_back(def.name);
  return names;
}

bool Cleaner::apply(std::string_view text, std::string* out) const {
  if (out == nullptr) throw std::invalid_argument("Cleaner::apply: out is null");
  // Valid input is read in place by the first step (no copy); ill-formed input is sanitized
  // first. *out is written only at the end, so `text` may alias it.
  std::string cur;
  std::string nxt;
  std::string_view view = text;
  if (!unicode::is_valid(text)) {
    unicode::sanitize(text, &cur);
    view = cur;
  }
  for (const CleanOp op : ops_) {
    if (op == CleanOp::kDropShort) {
      // Seed 002 keeps rows with str.len() > 2; len counts code points.
      if (unicode::length(view) <= 2) {
        out->clear();
        return false;
      }
      continue;
    }
    run_op(op, view, &nxt);
    cur.swap(nxt);
    view = cur;
  }
  if (view.data() != cur.data()) cur.assign(view.data(), view.size());
  *out = std::move(cur);
  return true;
}

}  // namespace ember::data
