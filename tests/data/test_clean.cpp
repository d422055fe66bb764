// Cleaning steps and seed presets on hand-worked inputs. Each expectation is what the Python
// expression named beside it returns (worked out by hand from Python 3's rules: re's \w, \d
// and \s are Unicode classes, str.lower() is the full mapping with final sigma, str.split()
// splits on Unicode whitespace including U+0085 NEL); the comments show the working.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/data/clean.h"

using ember::data::Cleaner;

namespace {

// Applies `steps` and returns the result, or "<dropped>" when a step drops the text.
std::string clean(const std::vector<std::string>& steps, const std::string& text) {
  std::string out = "sentinel";
  const bool kept = Cleaner(steps).apply(text, &out);
  if (!kept) {
    CHECK(out.empty());  // a dropped text leaves *out empty
    return "<dropped>";
  }
  return out;
}

// One input and what the steps must turn it into ("<dropped>" when they drop it).
struct Case {
  std::string text, want;
};

// CHECKs clean({step}, text) == want for every case; a failure names its input.
void check_step(const std::string& step, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    INFO("input: " << c.text);
    CHECK(clean({step}, c.text) == c.want);
  }
}

}  // namespace

TEST_CASE("strip_html replaces each tag with one space and leaves bare '<' alone", "[clean][cpu]") {
  // IMDB writes paragraph breaks as "<br /><br />": two tags, two spaces.
  check_step("strip_html",
             {
                 {"Great<br /><br />film", "Great  film"},
                 {"<i>x</i> <!-- c -->", " x   "},
                 // '<' followed by a space or digit opens no tag, so comparisons survive.
                 {"a < b > c, 1<2>", "a < b > c, 1<2>"},
                 // An unclosed tag is text.
                 {"x <b y", "x <b y"},
             });
}

TEST_CASE("remove_urls replaces http plus its non-space run with one space", "[clean][cpu]") {
  // re.sub(r"http\S+", " ", text)
  // The URL runs to the next whitespace, trailing '.' included.
  check_step("remove_urls",
             {
                 {"see http://t.co/abc now", "see   now"},
                 {"go https://x.y/z.", "go  "},
                 // "http" needs at least one non-space after it; the match is case-sensitive.
                 {"http and HTTP://x", "http and HTTP://x"},
                 // NEL (U+0085) is whitespace to \S, so it ends the URL.
                 {"http://a\u0085b", " \u0085b"},
             });
}

TEST_CASE("remove_mentions replaces @handles with one space", "[clean][cpu]") {
  // re.sub(r"@[A-Za-z0-9_]+", " ", text)
  check_step("remove_mentions",
             {
                 {"@user_1 hi @ x a@b", "  hi @ x a "},
                 // The handle class is ASCII, as the notebook wrote it: "@ñ" is not a mention.
                 {"@ñu @abcñ", "@ñu  ñ"},
             });
}

TEST_CASE("remove_punctuation and remove_digits delete (not space) characters", "[clean][cpu]") {
  // string.punctuation is ASCII; the curly quote U+2019 is not in it.
  CHECK(clean({"remove_punctuation"}, "Don't stop!!! 5-star\u2019s") == "Dont stop 5star\u2019s");
  // \d is Unicode Nd: ASCII digits and ARABIC-INDIC THREE (U+0663) go; SUPERSCRIPT TWO (No)
  // stays. "Top 10 ٣ films" -> "Top " + " " + " films".
  CHECK(clean({"remove_digits"}, "Top 10 \u0663 films x\u00b2") == "Top   films x\u00b2");
}

TEST_CASE("non_word_to_space and digits_to_space replace one code point with one space",
          "[clean][cpu]") {
  // \w = letters, numbers (incl. No like ½) and '_': ',' and '!' become spaces, one each.
  check_step("non_word_to_space", {
                                      {"naïve_café, 3½!", "naïve_café  3½ "},
                                      {"a--b", "a  b"},
                                  });
  // \d: '1' and U+0663 are Nd; '²' is not.
  CHECK(clean({"digits_to_space"}, "a1b\u0663c\u00b2") == "a b c\u00b2");
}

TEST_CASE("keep_letters keeps Unicode letters and marks and whitespace and ! and ?",
          "[clean][cpu]") {
  // Igbo letters are letters; nothing changes.
  check_step("keep_letters",
             {
                 {"Ọ dị mma! Ụlọ ñ", "Ọ dị mma! Ụlọ ñ"},
                 // "It's 2 good :)": ' 2 : ) each become one space.
                 {"It's 2 good :)", "It s   good   "},
                 // A tone mark on ọ (U+1ECD U+0300, no precomposed form) stays with its letter.
                 {"o\u0323\u0300 ọ\u0300?", "o\u0323\u0300 ọ\u0300?"},
                 // NEL is whitespace, so it is kept (collapse_spaces later turns it into ' ').
                 {"a\u0085b#", "a\u0085b "},
             });
}

TEST_CASE("lowercase is Python's str.lower()", "[clean][cpu]") {
  check_step(
      "lowercase",
      {
          {"Ọ dị mma! Ụlọ ñ", "ọ dị mma! ụlọ ñ"},
          // ẞ (U+1E9E) lowers to ß; ß is already lower case (only casefold() gives "ss").
          {"STRAẞE ß", "straße ß"},
          // İ (U+0130) has a two-code-point full lowercase: i + COMBINING DOT ABOVE.
          {"İstanbul", "i\u0307stanbul"},
          // Final sigma: Σ after a cased letter and not before one becomes ς; "ΣΑ" starts a word.
          {"ΟΔΟΣ ΣΑ", "οδος σα"},
          // '.' is case-ignorable, so "ΟΔΟΣ." still ends in ς, while in "Σ.Α" a cased letter
          // follows.
          {"ΟΔΟΣ. AΣ.Α", "οδος. aσ.α"},
          // ǅ (titlecase digraph) lowers to ǆ; Kelvin sign K lowers to ASCII k.
          {"ǅ \u212a", "ǆ k"},
      });
}

TEST_CASE("collapse_spaces merges Unicode whitespace runs and strips the ends", "[clean][cpu]") {
  // \s includes NEL (U+0085), NBSP (U+00A0), U+3000 and the separators U+001C..U+001F.
  check_step("collapse_spaces", {
                                    {" a\t\u0085b \u00a0 c\u3000\x1f\n", "a b c"},
                                    {"good\u0085bad", "good bad"},
                                    // ZERO WIDTH SPACE (U+200B) is not whitespace in Python.
                                    {"a\u200bb", "a\u200bb"},
                                });
  CHECK(clean({"collapse_spaces"}, " \n\t ").empty());
}

TEST_CASE("remove_stopwords drops NLTK's English stopwords and joins with spaces", "[clean][cpu]") {
  // this, is, not, the are stopwords.
  check_step("remove_stopwords", {
                                     {"this movie is  not the best", "movie best"},
                                     // Matching is exact: "The" (capital) is not in the list.
                                     {"The movie", "The movie"},
                                     // str.split() splits on NEL too.
                                     {"the\u0085film", "film"},
                                 });
  const auto& words = ember::data::english_stopwords();
  CHECK(words.size() == 179);
  CHECK(words.front() == "i");
  CHECK(words[9] == "you're");
  CHECK(words.back() == "wouldn't");
}

TEST_CASE("drop_short drops texts of 2 code points or fewer", "[clean][cpu]") {
  check_step("drop_short", {
                               {"ok", "<dropped>"},
                               {"a!", "<dropped>"},
                               {"", "<dropped>"},
                               {"wow", "wow"},
                               // Code points, not bytes: "ñọ" is 5 bytes but 2 characters.
                               {"ñọ", "<dropped>"},
                               {"ọọọ", "ọọọ"},
                           });
}

TEST_CASE("nfc composes combining sequences", "[clean][cpu]") {
  // o + COMBINING DOT BELOW -> ọ (U+1ECD); the grave on top has no composed form and stays.
  CHECK(clean({"nfc"}, "o\u0323 o\u0323\u0300") == "\u1ecd \u1ecd\u0300");
}

TEST_CASE("seed001_clean is seed 001's data_cleaning", "[clean][cpu]") {
  // translate deletes punctuation and ASCII digits: "I didnt like the  films";
  // lower + split: [i, didnt, like, the, films]; i and the are stopwords.
  check_step("seed001_clean", {
                                  {"I didn't like the 2 films!!", "didnt like films"},
                                  // Deletion can glue words: "end.Start" -> "endstart".
                                  {"The end.Start<br />", "endstartbr"},
                              });
}

TEST_CASE("seed002_clean_text is seed 002's clean_text plus its length filter", "[clean][cpu]") {
  // urls -> " ", mentions -> " ", then ' : ) -> " ", lower, collapse.
  check_step(
      "seed002_clean_text",
      {
          {"@user Check http://t.co/x !! It's GREAT :)", "check !! it s great"},
          {"Ọ dị mma! Ụlọ ñ", "ọ dị mma! ụlọ ñ"},
          {"ok", "<dropped>"},
          {"a!", "<dropped>"},
          // After cleaning "@someone ok :)" is "ok": dropped, as the notebook's str.len() > 2.
          {"@someone ok :)", "<dropped>"},
          {"WOW", "wow"},
      });
}

TEST_CASE("seed004_preprocess is seed 004's preprocess_text", "[clean][cpu]") {
  // \W -> ' ' gives "This movie wasn t good br   10 10 "; \d -> ' ' blanks the digits;
  // lower + split: [this, movie, wasn, t, good, br]; this, wasn, t are stopwords.
  check_step("seed004_preprocess",
             {
                 {"This movie wasn't good<br />10/10!", "movie good br"},
                 // '_' is a word character and survives; ² is not \d and survives.
                 {"snake_case x\u00b2 ٣rd", "snake_case x\u00b2 rd"},
             });
}

TEST_CASE("steps compose in order and presets mix with steps", "[clean][cpu]") {
  CHECK(clean({"strip_html", "remove_punctuation", "lowercase", "collapse_spaces"},
              "<p>Hello,  World!</p>") == "hello world");
  // The order matters: lowercase before remove_stopwords drops "The".
  CHECK(clean({"lowercase", "remove_stopwords"}, "The END") == "end");
  CHECK(clean({"remove_stopwords", "lowercase"}, "The END") == "the end");
  CHECK(clean({"strip_html", "seed004_preprocess"}, "A<br/>B") == "b");  // "a" is a stopword
  CHECK(clean({}, "As Is") == "As Is");
}

TEST_CASE("unknown step names throw and list the known steps", "[clean][cpu]") {
  try {
    Cleaner({"strip_html", "strip_htm"});
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("unknown cleaning step 'strip_htm'") != std::string::npos);
    CHECK(msg.find("strip_html") != std::string::npos);
    CHECK(msg.find("seed004_preprocess") != std::string::npos);
  }
  const auto known = Cleaner::known_steps();
  CHECK(known.size() == 16);
  CHECK(Cleaner({"seed001_clean", "drop_short"}).steps() ==
        std::vector<std::string>{"seed001_clean", "drop_short"});
}

TEST_CASE("ill-formed UTF-8 becomes U+FFFD and the output is valid UTF-8", "[clean][cpu]") {
  // One U+FFFD per maximal ill-formed subpart, as bytes.decode("utf-8", "replace"):
  // a stray 0xFF; a truncated 3-byte sequence E1 80 (one); an encoded surrogate ED A0 80
  // (ED alone, then two stray continuation bytes: three).
  CHECK(clean({"lowercase"},
              "A\xff"
              "B") ==
        "a\ufffd"
        "b");
  CHECK(clean({}, "x\xe1\x80") == "x\ufffd");
  CHECK(clean({}, "\xed\xa0\x80") == "\ufffd\ufffd\ufffd");
  // U+FFFD is not a letter: keep_letters turns it into a space.
  CHECK(clean({"keep_letters"},
              "a\xc3"
              "b") == "a b");
}

TEST_CASE("apply may write over its own input", "[clean][cpu]") {
  std::string s = "Hello   World";
  REQUIRE(Cleaner({"lowercase", "collapse_spaces"}).apply(s, &s));
  CHECK(s == "hello world");
}
