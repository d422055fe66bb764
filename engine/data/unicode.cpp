// UTF-8 decoding with U+FFFD replacement, Python's whitespace set, general-category classes
// via utf8proc, and Python's str.lower(). Cased / Case_Ignorable (needed for the final-sigma
// rule) are not exposed by utf8proc, so they are derived: Cased = Lu/Ll/Lt or having a case
// mapping (plus ª, º and the enclosed Latin capitals), Case_Ignorable = Mn/Me/Cf/Lm/Sk or a
// MidLetter/MidNumLet/Single_Quote code point. Checked against CPython 3.11 (Unicode 14) for
// every assigned code point placed before and after a capital sigma.
#include "engine/data/unicode.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <utf8proc.h>

#include "engine/core/check.h"

namespace ember::data::unicode {
namespace {

// Decodes one code point at s[*pos]; *ok is false for ill-formed bytes, which consume the
// maximal subpart: the lead byte plus the continuation bytes that were valid so far.
char32_t decode_checked(std::string_view s, size_t* pos, bool* ok) {
  const size_t n = s.size();
  size_t i = *pos;
  const auto b0 = static_cast<unsigned char>(s[i]);
  *ok = true;
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  int need = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the next continuation byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong 3-byte forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong 4-byte forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    *pos = i + 1;  // stray continuation byte, C0/C1 or F5..FF
    *ok = false;
    return kReplacement;
  }
  ++i;
  for (int k = 0; k < need; ++k) {
    const auto b = i < n ? static_cast<unsigned char>(s[i]) : 0;
    if (i >= n || b < lo || b > hi) {
      *pos = i;  // the offending byte starts the next decode
      *ok = false;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
    lo = 0x80;
    hi = 0xBF;
    ++i;
  }
  *pos = i;
  return cp;
}

int category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

// ASCII case classes for the final-sigma state: 0 uncased, 1 cased (letters), 2 case-ignorable
// (' . : ^ `).
int ascii_case_class(unsigned char b) {
  if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')) return 1;
  if (b == '\'' || b == '.' || b == ':' || b == '^' || b == '`') return 2;
  return 0;
}

bool is_cased(char32_t cp) {
  if (cp < 0x80) return ascii_case_class(static_cast<unsigned char>(cp)) == 1;
  const int cat = category(cp);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT)
    return true;
  if (cp == 0xAA || cp == 0xBA) return true;  // ª º: Lo with Other_Lowercase
  // Squared / circled / negative squared Latin capitals: So with Other_Uppercase, no mapping.
  if ((cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
      (cp >= 0x1F170 && cp <= 0x1F189)) {
    return true;
  }
  const auto c = static_cast<utf8proc_int32_t>(cp);
  return utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

bool is_case_ignorable(char32_t cp) {
  if (cp < 0x80) return ascii_case_class(static_cast<unsigned char>(cp)) == 2;
  switch (cp) {  // Word_Break MidLetter, MidNumLet, Single_Quote outside ASCII
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  const int cat = category(cp);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME ||
         cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

// CPython's handle_capital_sigma: Σ lower-cases to final ς when preceded (skipping
// case-ignorables) by a cased letter and not followed (skipping case-ignorables) by one.
// `prev_cased` carries the first half; the forward scan starts at `after` (just past the Σ).
bool sigma_is_final(std::string_view s, size_t after, bool prev_cased) {
  if (!prev_cased) return false;
  size_t j = after;
  while (j < s.size()) {
    const char32_t c = next(s, &j);
    if (!is_case_ignorable(c)) return !is_cased(c);
  }
  return true;
}

// Encodes cp at p (which has room for 4 bytes); returns the bytes written.
size_t encode_at(char* p, char32_t cp) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = kReplacement;
  if (cp < 0x80) {
    p[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    p[0] = static_cast<char>(0xC0 | (cp >> 6));
    p[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    p[0] = static_cast<char>(0xE0 | (cp >> 12));
    p[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    p[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  p[0] = static_cast<char>(0xF0 | (cp >> 18));
  p[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  p[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  p[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

}  // namespace

char32_t decode_multibyte(std::string_view s, size_t* pos) {
  bool ok = true;
  return decode_checked(s, pos, &ok);
}

void append(std::string* out, char32_t cp) {
  char buf[4];
  out->append(buf, encode_at(buf, cp));
}

bool is_valid(std::string_view s) {
  size_t i = 0;
  bool ok = true;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    decode_checked(s, &i, &ok);
    if (!ok) return false;
  }
  return true;
}

void sanitize(std::string_view s, std::string* out) {
  if (is_valid(s)) {
    out->assign(s.data(), s.size());
    return;
  }
  out->clear();
  out->reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    bool ok = true;
    const char32_t cp = decode_checked(s, &i, &ok);
    if (ok) {
      out->append(s.data() + start, i - start);
    } else {
      append(out, cp);
    }
  }
}

size_t length(std::string_view s) {
  size_t count = 0, i = 0;
  while (i < s.size()) {
    next(s, &i);
    ++count;
  }
  return count;
}

bool is_space_slow(char32_t cp) {
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_letter_slow(char32_t cp) {
  const int cat = category(cp);
  return cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
}

bool is_mark_slow(char32_t cp) {
  const int cat = category(cp);
  return cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
}

bool is_decimal_slow(char32_t cp) {
  return category(cp) == UTF8PROC_CATEGORY_ND;
}

bool is_word_slow(char32_t cp) {
  const int cat = category(cp);
  return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
         (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

void lower(std::string_view s, std::string* out) {
  // Written through a pointer into a pre-sized buffer. ASCII maps byte for byte, 8 bytes at a
  // time (SWAR: a byte gets 0x20 when 'A' <= byte <= 'Z'); before each non-ASCII code point
  // (which may grow: İ is 2 bytes in, 3 out; a bad byte 1 in, 3 out) the buffer is checked to
  // hold 6 more bytes plus the rest of the input, so the ASCII path needs no checks.
  const size_t n = s.size();
  out->resize(n + 16);
  char* o = out->data();
  size_t w = 0;
  size_t i = 0;
  // Final-sigma state: is the last non-case-ignorable code point before s[ascii_from] cased?
  // ASCII runs are folded in lazily (scanning back from the next non-ASCII code point), which
  // keeps the ASCII loop free of per-byte state.
  bool prev_cased = false;
  size_t ascii_from = 0;
  while (i < n) {
    while (i + 8 <= n) {
      uint64_t x;
      std::memcpy(&x, s.data() + i, 8);
      if (x & 0x8080808080808080ull) break;
      const uint64_t ge_a = x + 0x3F3F3F3F3F3F3F3Full;  // high bit set where byte >= 'A'
      const uint64_t gt_z = x + 0x2525252525252525ull;  // high bit set where byte > 'Z'
      x |= ((ge_a & ~gt_z) & 0x8080808080808080ull) >> 2;
      std::memcpy(o + w, &x, 8);
      w += 8;
      i += 8;
    }
    if (i >= n) break;
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      o[w++] = static_cast<char>(b >= 'A' && b <= 'Z' ? b + 32 : b);
      ++i;
      continue;
    }
    for (size_t j = i; j > ascii_from; --j) {  // fold the ASCII run s[ascii_from, i)
      const int cls = ascii_case_class(static_cast<unsigned char>(s[j - 1]));
      if (cls != 2) {
        prev_cased = cls == 1;
        break;
      }
    }
    if (w + 6 + (n - i) > out->size()) {
      out->resize(out->size() + out->size() / 2 + 16);
      o = out->data();
    }
    const char32_t cp = decode_multibyte(s, &i);
    ascii_from = i;
    if (cp == 0x03A3) {
      w += encode_at(o + w, sigma_is_final(s, i, prev_cased) ? 0x03C2 : 0x03C3);
      prev_cased = true;
    } else if (cp == 0x0130) {  // SpecialCasing: İ -> i + COMBINING DOT ABOVE
      o[w++] = 'i';
      w += encode_at(o + w, 0x0307);
      prev_cased = true;
    } else {
      const auto lc = utf8proc_tolower(static_cast<utf8proc_int32_t>(cp));
      w += encode_at(o + w, static_cast<char32_t>(lc));
      if (!is_case_ignorable(cp)) prev_cased = is_cased(cp);
    }
  }
  out->resize(w);
}

void nfc(std::string_view s, std::string* out) {
  std::string clean;
  sanitize(s, &clean);  // utf8proc rejects ill-formed input; replace it first
  utf8proc_uint8_t* raw = nullptr;
  const utf8proc_ssize_t len =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(clean.data()),
                   static_cast<utf8proc_ssize_t>(clean.size()), &raw,
                   static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  // utf8proc hands back malloc()ed memory; free() it on every path.
  const std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(raw, &std::free);
  EMBER_CHECK(len >= 0, "NFC normalization failed: " << utf8proc_errmsg(len));
  out->assign(reinterpret_cast<const char*>(raw), static_cast<size_t>(len));
}

}  // namespace ember::data::unicode
