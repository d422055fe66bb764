// UTF-8 iteration and the Unicode classes the cleaning steps and the tokenizer need, with
// Python 3's meanings: is_space = str.isspace() (so U+0085 NEL, U+00A0 and U+001C..U+001F are
// whitespace), is_word = re's \w (letters, numbers, '_'), is_decimal = re's \d (Nd), lower =
// str.lower() (full mapping: İ -> "i̇", final sigma). Ill-formed UTF-8 never reaches a caller
// as bytes: next() yields U+FFFD for each maximal ill-formed subpart (the Unicode "best
// practice", which is also Python's bytes.decode(errors="replace")), so every output is valid
// UTF-8. Categories come from utf8proc (Unicode 15); ASCII takes inline fast paths.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ember::data::unicode {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes the multi-byte sequence (or ill-formed bytes) at s[*pos] and advances *pos by at
// least one byte. Callers use next(), which handles ASCII inline.
char32_t decode_multibyte(std::string_view s, size_t* pos);

// The code point at s[*pos] (U+FFFD for ill-formed bytes); advances *pos. Requires *pos < size.
inline char32_t next(std::string_view s, size_t* pos) {
  const auto b = static_cast<unsigned char>(s[*pos]);
  if (b < 0x80) {
    ++*pos;
    return b;
  }
  return decode_multibyte(s, pos);
}

// Appends the UTF-8 encoding of cp (surrogates and values past U+10FFFF become U+FFFD).
void append(std::string* out, char32_t cp);

bool is_valid(std::string_view s);
// *out = s with every ill-formed subpart replaced by U+FFFD. out must not alias s.
void sanitize(std::string_view s, std::string* out);
// Number of code points (after replacement), as Python's len().
size_t length(std::string_view s);

bool is_space_slow(char32_t cp);
// Python's str.isspace(): the 29 code points with bidi class WS, B or S or category Zs.
inline bool is_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return is_space_slow(cp);
}
// Non-ASCII halves of the classes below (utf8proc general categories).
bool is_letter_slow(char32_t cp);
bool is_mark_slow(char32_t cp);
bool is_decimal_slow(char32_t cp);
bool is_word_slow(char32_t cp);

// General category L* (str.isalpha()).
inline bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return is_letter_slow(cp);
}
// General category M* (combining marks: Igbo's tone marks).
inline bool is_mark(char32_t cp) {
  return cp >= 0x80 && is_mark_slow(cp);
}
// General category Nd (re's \d, str.isdecimal()).
inline bool is_decimal(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return is_decimal_slow(cp);
}
// re's \w: L*, N* or '_' (equal to CPython's set for every Unicode 14 code point).
inline bool is_word(char32_t cp) {
  if (cp < 0x80) return is_letter(cp) || (cp >= '0' && cp <= '9') || cp == '_';
  return is_word_slow(cp);
}

// Python's str.lower() of s into *out (out must not alias s). Simple mappings from utf8proc
// plus the one unconditional SpecialCasing entry (U+0130 -> U+0069 U+0307) and the
// Final_Sigma rule, as CPython applies them. Ill-formed bytes become U+FFFD.
void lower(std::string_view s, std::string* out);
// Canonical composition (NFC) of s into *out, via utf8proc. Ill-formed bytes become U+FFFD.
void nfc(std::string_view s, std::string* out);

}  // namespace ember::data::unicode
