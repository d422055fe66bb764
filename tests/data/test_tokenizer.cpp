// Tokenizer against Keras's Tokenizer (keras_preprocessing.text, TF 2.x), worked by hand from
// its source: text_to_word_sequence lower-cases, maps every filters character to `split`,
// splits on `split` and drops empty pieces; word_index sorts word_counts by count descending
// with a stable sort (ties in first-seen order), after [oov_token]; texts_to_sequences keeps
// i < num_words, maps the rest and unknown words to the oov index, or drops them. The
// comments show each working. JSON: a round trip keeps every sequence; bad input throws.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "engine/core/check.h"
#include "engine/data/tokenizer.h"

using ember::TokenizerConfig;
using ember::data::Tokenizer;
using Seq = std::vector<int32_t>;
using Words = std::vector<std::string>;

namespace {

Tokenizer fitted(const std::vector<std::string>& texts, TokenizerConfig cfg = {}) {
  Tokenizer tok(cfg);
  tok.fit_on_texts(texts);
  return tok;
}

// The message of the ember::Error from_json throws, or "" when it parses.
std::string json_error(const std::string& json) {
  try {
    Tokenizer::from_json(json);
  } catch (const ember::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("word_index orders by count then first-seen order", "[tokenizer][cpu]") {
  // Keras docs example. Counts: the 3 (The, the, The), then cat sat on mat dog ate my
  // homework once each, in the order first seen; "mat." loses its '.' to the filters.
  Tokenizer tok = fitted({"The cat sat on the mat.", "The dog ate my homework."});
  CHECK(tok.index_word() ==
        Words{"the", "cat", "sat", "on", "mat", "dog", "ate", "my", "homework"});
  CHECK(tok.index_of("the") == 1);
  CHECK(tok.index_of("homework") == 9);
  CHECK(tok.index_of("missing") == 0);
  CHECK(tok.texts_to_sequences({"the mat ate a homework"}) == std::vector<Seq>{{1, 5, 7, 9}});
  CHECK(tok.vocab_size() == 10);  // word_index size + 1

  // Ties: x 2, y 3, z 3, w 1, first seen in the order x y z w. Descending and stable:
  // y (3, seen before z), z (3), x (2), w (1).
  Tokenizer ties = fitted({"x y y z z z", "y x w"});
  CHECK(ties.index_word() == Words{"y", "z", "x", "w"});
  CHECK(ties.word_counts() ==
        std::vector<std::pair<std::string, int64_t>>{{"x", 2}, {"y", 3}, {"z", 3}, {"w", 1}});
}

TEST_CASE("oov_token takes index 1 and replaces unknown words", "[tokenizer][cpu]") {
  // Counts: i 2, love 2, my 2, dog 1, cat 1 -> <OOV> 1, i 2, love 3, my 4, dog 5, cat 6.
  TokenizerConfig cfg;
  cfg.oov_token = "<OOV>";
  Tokenizer tok = fitted({"I love my dog", "I love my cat"}, cfg);
  CHECK(tok.index_word() == Words{"<OOV>", "i", "love", "my", "dog", "cat"});
  CHECK(tok.oov_index() == 1);
  // "really" is unknown -> 1.
  CHECK(tok.text_to_sequence("I really love my dog") == Seq{2, 1, 3, 4, 5});
  // Without an oov token unknown words are dropped.
  Tokenizer plain = fitted({"I love my dog", "I love my cat"});
  CHECK(plain.text_to_sequence("I really love my dog") == Seq{1, 2, 3, 4});
}

TEST_CASE("num_words keeps indices below it", "[tokenizer][cpu]") {
  // With oov and num_words 4: i 2 and love 3 stay; my 4 and dog 5 are cut to the oov index 1.
  TokenizerConfig cfg;
  cfg.oov_token = "<OOV>";
  cfg.num_words = 4;
  Tokenizer tok = fitted({"I love my dog", "I love my cat"}, cfg);
  CHECK(tok.text_to_sequence("I love my dog") == Seq{2, 3, 1, 1});
  CHECK(tok.vocab_size() == 4);
  // word_index itself is not cut (Keras keeps every word there).
  CHECK(tok.index_word().size() == 6);

  // Without oov and num_words 3 on the Keras example: the 1 and cat 2 stay, the rest drop.
  TokenizerConfig cut;
  cut.num_words = 3;
  Tokenizer t2 = fitted({"The cat sat on the mat.", "The dog ate my homework."}, cut);
  CHECK(t2.text_to_sequence("The cat sat on the mat.") == Seq{1, 2, 1});
  CHECK(t2.vocab_size() == 3);

  // num_words 0 means no limit, as Keras's `if num_words and ...`.
  TokenizerConfig zero;
  zero.num_words = 0;
  Tokenizer t3 = fitted({"a b c"}, zero);
  CHECK(t3.text_to_sequence("c b a") == Seq{3, 2, 1});
  CHECK(t3.vocab_size() == 4);
}

TEST_CASE("filters split on punctuation, tab and newline but keep the apostrophe",
          "[tokenizer][cpu]") {
  Tokenizer tok;
  CHECK(tok.words("hello\tworld\nfoo,bar") == Words{"hello", "world", "foo", "bar"});
  CHECK(tok.words("Don't (stop)!!") == Words{"don't", "stop"});
  // A carriage return and NEL are not in the default filters and not the split: kept.
  CHECK(tok.words("a\rb c\u0085d") == Words{"a\rb", "c\u0085d"});
  // Empty text, and text of filters only, give no words.
  CHECK(tok.words("").empty());
  CHECK(tok.words(" ...\t!! ").empty());
  Tokenizer fit = fitted({"a"});
  CHECK(fit.text_to_sequence("").empty());
}

TEST_CASE("lower=false keeps case; custom split and filters", "[tokenizer][cpu]") {
  TokenizerConfig keep;
  keep.lower = false;
  Tokenizer tok = fitted({"Hello hello HELLO hello"}, keep);
  CHECK(tok.index_word() == Words{"hello", "Hello", "HELLO"});  // hello 2; Hello, HELLO 1

  // split "," with the default filters: ',' maps to itself, ' ' is no longer a separator.
  TokenizerConfig comma;
  comma.split = ",";
  CHECK(Tokenizer(comma).words("a,b,,c d!e") == Words{"a", "b", "c d", "e"});

  // A two-byte split: "x!y--z" -> translate '!' to "--" -> "x--y--z" -> x, y, z.
  TokenizerConfig dash;
  dash.split = "--";
  dash.filters = "!";
  CHECK(Tokenizer(dash).words("x!y--z---w") == Words{"x", "y", "z", "-w"});

  // A non-ASCII filter: é separates words (after lower-casing É to é).
  TokenizerConfig accent;
  accent.filters = "é";
  CHECK(Tokenizer(accent).words("caféÉbar x") == Words{"caf", "bar", "x"});
}

TEST_CASE("char_level counts code points with no filtering", "[tokenizer][cpu]") {
  // Keras iterates the lower-cased string: "ab a!" has a 2, b 1, ' ' 1, '!' 1.
  TokenizerConfig cfg;
  cfg.char_level = true;
  Tokenizer tok = fitted({"Ab a!"}, cfg);
  CHECK(tok.index_word() == Words{"a", "b", " ", "!"});
  CHECK(tok.text_to_sequence("ba!?") == Seq{2, 1, 4});  // '?' unknown, dropped
  // Non-ASCII characters are one token each (code points, not bytes).
  CHECK(tok.words("Ñọ") == Words{"ñ", "ọ"});
}

TEST_CASE("non-ASCII words are lower-cased and kept whole", "[tokenizer][cpu]") {
  Tokenizer tok;
  CHECK(tok.words("Ụlọ ÉCOLE café İ") == Words{"ụlọ", "école", "café", "i\u0307"});
  CHECK(tok.words("ΟΔΟΣ.") == Words{"οδος"});  // final sigma, then '.' filtered
  Tokenizer fit = fitted({"Ọ dị mma", "ọ DỊ"});
  CHECK(fit.index_word() == Words{"ọ", "dị", "mma"});
  // Ill-formed UTF-8 becomes U+FFFD inside the word.
  CHECK(tok.words("a\xff"
                  "b c") == Words{"a\ufffd"
                                  "b",
                                  "c"});
}

TEST_CASE("fit_on_texts accumulates across calls", "[tokenizer][cpu]") {
  Tokenizer tok;
  tok.fit_on_texts({"a"});
  CHECK(tok.index_word() == Words{"a"});
  tok.fit_on_texts({"b b"});  // counts a 1, b 2 -> b first
  CHECK(tok.index_word() == Words{"b", "a"});
  CHECK(tok.word_counts() == std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"b", 2}});
}

TEST_CASE("many words and long words with shared prefixes index correctly", "[tokenizer][cpu]") {
  // 3000 distinct words (the word table grows past its first 1024 slots several times), all
  // seen once, so index = first-seen position. Words sharing their first 8 bytes differ only
  // in the tail, and two 300+ byte words differ only in length (past the 255 the slot stores).
  std::string text;
  Words expected;
  for (int k = 0; k < 1000; ++k) {
    for (const std::string& w : {"w" + std::to_string(k), "abcdefgh" + std::to_string(k),
                                 "abcdefghijklmnop" + std::to_string(k)}) {
      text += w + " ";
      expected.push_back(w);
    }
  }
  const std::string long1(300, 'x'), long2(301, 'x');
  text += long1 + " " + long2;
  expected.push_back(long1);
  expected.push_back(long2);
  Tokenizer tok = fitted({text});
  REQUIRE(tok.index_word() == expected);
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(tok.index_of(expected[i]) == static_cast<int32_t>(i + 1));
  }
  CHECK(tok.index_of("abcdefgh") == 0);
  CHECK(tok.index_of(std::string(302, 'x')) == 0);
  CHECK(tok.text_to_sequence("w999 abcdefgh5 " + long2) == Seq{2998, 17, 3002});
}

TEST_CASE("an oov_token that also occurs as a word follows Keras's dict construction",
          "[tokenizer][cpu]") {
  // Counts: unk 1, a 2, b 1 -> sorted a, unk, b -> dict(zip([unk, a, unk, b], [1, 2, 3, 4]))
  // = {unk: 3, a: 2, b: 4}: the second unk overwrites the value. No word has index 1.
  TokenizerConfig cfg;
  cfg.oov_token = "unk";
  Tokenizer tok = fitted({"unk a a", "b"}, cfg);
  CHECK(tok.index_word() == Words{"", "a", "unk", "b"});
  CHECK(tok.oov_index() == 3);
  CHECK(tok.index_of("unk") == 3);
  CHECK(tok.text_to_sequence("zzz a b unk") == Seq{3, 2, 4, 3});
  CHECK(tok.vocab_size() == 5);  // largest index 4, + 1

  // num_words 3: b (4) is cut to the oov index 3, which is itself >= 3, as Keras emits it;
  // vocab_size covers it.
  cfg.num_words = 3;
  Tokenizer cut = fitted({"unk a a", "b"}, cfg);
  CHECK(cut.text_to_sequence("zzz a b") == Seq{3, 2, 3});
  CHECK(cut.vocab_size() == 4);
}

TEST_CASE("an unfitted tokenizer knows only its oov token", "[tokenizer][cpu]") {
  TokenizerConfig cfg;
  cfg.oov_token = "<OOV>";
  Tokenizer tok(cfg);  // as Keras after fit_on_texts([])
  CHECK(tok.index_word() == Words{"<OOV>"});
  CHECK(tok.text_to_sequence("any words") == Seq{1, 1});
  CHECK(Tokenizer().text_to_sequence("any words").empty());
}

TEST_CASE("bad configurations throw std::invalid_argument", "[tokenizer][cpu]") {
  TokenizerConfig empty_split;
  empty_split.split = "";
  CHECK_THROWS_AS(Tokenizer(empty_split), std::invalid_argument);
  TokenizerConfig negative;
  negative.num_words = -1;
  CHECK_THROWS_AS(Tokenizer(negative), std::invalid_argument);
  TokenizerConfig bad_utf8;
  bad_utf8.oov_token = std::string("\xff");
  CHECK_THROWS_AS(Tokenizer(bad_utf8), std::invalid_argument);
}

TEST_CASE("JSON round trip keeps config, vocabulary and sequences", "[tokenizer][cpu]") {
  TokenizerConfig cfg;
  cfg.oov_token = "<OOV>";
  cfg.num_words = 5;
  cfg.split = "|";
  cfg.filters = "!.\t";
  const std::vector<std::string> texts = {"Ọ|dị|mma!|ụlọ", "the.the|end\tof|Ọ", "\"quoted\"|x"};
  Tokenizer tok = fitted(texts, cfg);
  const std::string json = tok.to_json();
  // The layout, with word_index in index order and word_counts in first-seen order.
  CHECK(
      json.rfind("{\"config\":{\"num_words\":5,\"oov_token\":\"<OOV>\",\"filters\":\"!.\\t\","
                 "\"lower\":true,\"split\":\"|\",\"char_level\":false},\"word_index\":{\"<OOV>\":1,"
                 "\"ọ\":2,\"the\":3,",
                 0) == 0);
  const Tokenizer back = Tokenizer::from_json(json);
  CHECK(back.index_word() == tok.index_word());
  CHECK(back.word_counts() == tok.word_counts());
  CHECK(back.config().num_words == cfg.num_words);
  CHECK(back.config().oov_token == cfg.oov_token);
  CHECK(back.config().filters == cfg.filters);
  CHECK(back.config().split == cfg.split);
  CHECK(back.vocab_size() == tok.vocab_size());
  const std::vector<std::string> probe = {"ọ|new|mma|the", "x|\"quoted\"|end", ""};
  CHECK(back.texts_to_sequences(probe) == tok.texts_to_sequences(probe));
  CHECK(back.to_json() == json);

  // The oov collision case (a hole at index 1) survives the trip too.
  TokenizerConfig unk;
  unk.oov_token = "unk";
  Tokenizer hole = fitted({"unk a a", "b"}, unk);
  const Tokenizer hole_back = Tokenizer::from_json(hole.to_json());
  CHECK(hole_back.index_word() == Words{"", "a", "unk", "b"});
  CHECK(hole_back.text_to_sequence("zzz b") == Seq{3, 4});
}

TEST_CASE("from_json rejects malformed input with a clear error", "[tokenizer][cpu]") {
  const std::string cfg =
      R"("config":{"num_words":null,"oov_token":null,"filters":"!","lower":true,)"
      R"("split":" ","char_level":false})";
  // A valid one first, so the failures below are about their one change.
  CHECK(json_error("{" + cfg + R"(,"word_index":{"b":1,"a":2},"word_counts":{"a":1,"b":2}})")
            .empty());

  CHECK(json_error("{not json").find("cannot parse") != std::string::npos);
  CHECK(json_error("[]").find("top level must be an object") != std::string::npos);
  CHECK(json_error(R"({"word_index":{},"word_counts":{}})").find("missing key \"config\"") !=
        std::string::npos);
  CHECK(json_error("{" + cfg + R"(,"word_counts":{}})").find("missing key \"word_index\"") !=
        std::string::npos);
  CHECK(json_error(R"({"config":{"oov_token":null,"filters":"","lower":true,"split":" ",)"
                   R"("char_level":false},"word_index":{},"word_counts":{}})")
            .find("missing key \"num_words\"") != std::string::npos);
  CHECK(json_error(R"({"config":{"num_words":null,"oov_token":null,"filters":"","lower":"yes",)"
                   R"("split":" ","char_level":false},"word_index":{},"word_counts":{}})")
            .find("config.lower must be true or false") != std::string::npos);
  CHECK(json_error(R"({"config":{"num_words":1.5,"oov_token":null,"filters":"","lower":true,)"
                   R"("split":" ","char_level":false},"word_index":{},"word_counts":{}})")
            .find("config.num_words must be an integer") != std::string::npos);
  CHECK(json_error(R"({"config":{"num_words":null,"oov_token":null,"filters":"","lower":true,)"
                   R"("split":"","char_level":false},"word_index":{},"word_counts":{}})")
            .find("split must not be empty") != std::string::npos);
  CHECK(json_error("{" + cfg + R"(,"word_index":{"a":1,"b":1},"word_counts":{"a":1,"b":1}})")
            .find("index 1 is given to both \"a\" and \"b\"") != std::string::npos);
  CHECK(json_error("{" + cfg + R"(,"word_index":{"a":"1"},"word_counts":{"a":1}})")
            .find("word_index[\"a\"] must be an integer") != std::string::npos);
  CHECK(json_error("{" + cfg + R"(,"word_index":{"a":7},"word_counts":{"a":1}})")
            .find("out of range") != std::string::npos);
  CHECK(json_error("{" + cfg + R"(,"word_index":{"a":1},"word_counts":{"a":0}})")
            .find("must be >= 1") != std::string::npos);
  // Indices that contradict the counts (a has the higher count, so it must be 1).
  CHECK(json_error("{" + cfg + R"(,"word_index":{"b":1,"a":2},"word_counts":{"a":2,"b":1}})")
            .find("word_index does not match word_counts") != std::string::npos);
  CHECK(json_error("{" + cfg + R"(,"word_index":{},"word_counts":{},"extra":1})")
            .find("unknown top-level key \"extra\"") != std::string::npos);
  // A word the counts give twice (a JSON object with a repeated key) is refused, not merged.
  CHECK(json_error("{" + cfg + R"(,"word_index":{"a":1},"word_counts":{"a":1,"a":1}})")
            .find("word_counts lists \"a\" twice") != std::string::npos);
}

TEST_CASE("JSON round trip of a large vocabulary keeps first-seen order", "[tokenizer][cpu]") {
  // 20,000 words first seen in an order far from sorted (the reader's map sorts its keys), with
  // counts 1-3 so that word_index's ties fall back on that order.
  std::vector<std::string> texts;
  for (int i = 0; i < 20000; ++i) {
    const int k = (i * 7919) % 20000;
    std::string w = "w" + std::to_string(k) + (k % 3 == 0 ? " \"q\"" : "");
    for (int r = 0; r < k % 3; ++r) w += " w" + std::to_string(k);
    texts.push_back(w);
  }
  const Tokenizer tok = fitted(texts);
  REQUIRE(tok.word_counts().size() == 20001);
  const std::string json = tok.to_json();
  const Tokenizer back = Tokenizer::from_json(json);
  CHECK(back.word_counts() == tok.word_counts());
  CHECK(back.index_word() == tok.index_word());
  CHECK(back.to_json() == json);
}
