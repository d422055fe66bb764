// Tests for engine/data/reader: CSV quoting as Python's csv module reads it, TSV without
// quoting, the lines format, bad rows, encodings, and gzip/xz files that the tests compress
// themselves with zlib and liblzma (no data files are checked in). Expected tables for the
// tricky CSV cases were cross-checked against Python's csv.reader.
#include <lzma.h>
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>

#include "engine/core/check.h"
#include "engine/data/reader.h"

namespace fs = std::filesystem;
using ember::data::BadRows;
using ember::data::ReadOptions;
using ember::data::Table;
using ember::data::TableFormat;
using ember::data::TextEncoding;
using Rows = std::vector<std::vector<std::string>>;

namespace {

Table parse(std::string_view text, ReadOptions opts = {}) {
  return ember::data::parse_table(text, "t.csv", opts);
}

ReadOptions with(TableFormat format, bool header = true, BadRows on_bad_row = BadRows::kError) {
  ReadOptions o;
  o.format = format;
  o.header = header;
  o.on_bad_row = on_bad_row;
  return o;
}

// The ember::Error message `f` throws, or "(no error)"; other exception types fail the test.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ember::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string gzip(std::string_view data) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string xz(std::string_view data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  size_t pos = 0;
  REQUIRE(lzma_easy_buffer_encode(
              1, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(data.data()),
              data.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()) == LZMA_OK);
  out.resize(pos);
  return out;
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("ember_reader_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, std::string_view bytes) const {
    std::string p = (path_ / name).string();
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return p;
  }

 private:
  fs::path path_;
};

// A CSV of n rows whose text column needs quoting (comma, doubled quote, embedded newline).
std::string make_csv(int n) {
  std::string s = "id,text,label\n";
  for (int i = 0; i < n; ++i)
    s += std::to_string(i) + ",\"row " + std::to_string(i) + ", says \"\"hi\"\"\nand more\"," +
         (i % 2 ? "pos" : "neg") + "\n";
  return s;
}

}  // namespace

TEST_CASE("reader: CSV quoting follows Python's csv reader", "[reader][cpu]") {
  const std::string text =
      "a,b,c\r\n"
      "1,\"x, y\",\"he said \"\"hi\"\"\"\r\n"
      "2,\"multi\nline\r\nfield\",\"tab\there\"\n"
      "3,,\"\"\n"
      "\"4\",plain\"quote,\"a\"b";  // no newline at the end
  Table t = parse(text);
  CHECK(t.columns == std::vector<std::string>{"a", "b", "c"});
  CHECK(t.rows == Rows{{"1", "x, y", "he said \"hi\""},
                       {"2", "multi\nline\r\nfield", "tab\there"},
                       {"3", "", ""},
                       {"4", "plain\"quote", "ab"}});
  CHECK(t.line_numbers == std::vector<int64_t>{2, 3, 6, 7});
  CHECK(t.skipped_rows == 0);
}

TEST_CASE("reader: CSV record ends, blank lines, BOM and empty fields", "[reader][cpu]") {
  SECTION("BOM skipped, blank lines skipped but counted") {
    Table t = parse("\xEF\xBB\xBFname,val\n\nx,1\n\r\n\ny,2\n");
    CHECK(t.columns == std::vector<std::string>{"name", "val"});
    CHECK(t.rows == Rows{{"x", "1"}, {"y", "2"}});
    CHECK(t.line_numbers == std::vector<int64_t>{3, 6});
  }
  SECTION("a lone CR ends a record, as in Python's csv") {
    Table t = parse("h1,h2\rA,B\r\nC,D");
    CHECK(t.rows == Rows{{"A", "B"}, {"C", "D"}});
    CHECK(t.line_numbers == std::vector<int64_t>{2, 3});
  }
  SECTION("an empty quoted field is a row, an empty line is not") {
    Table t = parse("h\n\"\"\n\nz\n");
    CHECK(t.rows == Rows{{""}, {"z"}});
  }
  SECTION("trailing comma gives an empty last field") {
    Table t = parse("a,b,c\n1,2,\n,,\n");
    CHECK(t.rows == Rows{{"1", "2", ""}, {"", "", ""}});
  }
  SECTION("a quote inside an unquoted field and spaces before a quote are literal") {
    Table t = parse("a,b\nx\"y, \"z\"\n");
    CHECK(t.rows == Rows{{"x\"y", " \"z\""}});
  }
  SECTION("empty input and header only") {
    CHECK(parse("").rows.empty());
    CHECK(parse("").columns.empty());
    Table t = parse("a,b\n");
    CHECK(t.columns.size() == 2);
    CHECK(t.rows.empty());
  }
}

TEST_CASE("reader: headerless tables and column lookup", "[reader][cpu]") {
  Table t = parse("1,a,x\n2,b,y\n", with(TableFormat::kCsv, false));
  CHECK(t.columns == std::vector<std::string>{"0", "1", "2"});
  CHECK(t.rows.size() == 2);
  CHECK(t.line_numbers == std::vector<int64_t>{1, 2});
  CHECK(t.column_index("2") == 2);
  CHECK(t.column_index(size_t{1}) == 1);
  std::string err = error_of([&] { t.column_index("5"); });
  CHECK_THAT(err,
             Catch::Contains("t.csv") && Catch::Contains("column 5") && Catch::Contains("0, 1, 2"));

  Table h = parse("id,text,5\n1,hello,z\n");
  CHECK(h.column_index("text") == 1);
  CHECK(h.column_index("1") == 1);  // numbers work with a header too
  CHECK(h.column_index("5") == 2);  // a header name wins over a number
  err = error_of([&] { h.column_index("label"); });
  CHECK_THAT(err,
             Catch::Contains("unknown column 'label'") && Catch::Contains("columns: id, text, 5"));
}

TEST_CASE("reader: TSV splits on tabs only and keeps quotes", "[reader][cpu]") {
  Table t = parse(
      "ID\ttweet\tlabel\n"
      "ig_1\t\"quoted\" text, with comma\tpositive\n"
      "ig_2\tsay \"hi\tnegative\r\n"
      "ig_3\t\"\tneutral",
      with(TableFormat::kTsv));
  CHECK(t.columns == std::vector<std::string>{"ID", "tweet", "label"});
  CHECK(t.rows == Rows{{"ig_1", "\"quoted\" text, with comma", "positive"},
                       {"ig_2", "say \"hi", "negative"},
                       {"ig_3", "\"", "neutral"}});
  std::string err = error_of([] { parse("a\tb\n1\t2\t3\n", with(TableFormat::kTsv)); });
  CHECK_THAT(err, Catch::Contains("t.csv:2: expected 2 fields, found 3"));
}

TEST_CASE("reader: lines format", "[reader][cpu]") {
  Table t = parse(
      "\xEF\xBB\xBF"
      "a\n\nb\r\nc\n",
      with(TableFormat::kLines));
  CHECK(t.columns == std::vector<std::string>{"text"});
  CHECK(t.rows == Rows{{"a"}, {""}, {"b"}, {"c"}});  // the middle empty line is a row
  CHECK(t.line_numbers == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(parse("", with(TableFormat::kLines)).rows.empty());
  CHECK(parse("x", with(TableFormat::kLines)).rows == Rows{{"x"}});
  CHECK(parse("\n", with(TableFormat::kLines)).rows == Rows{{""}});
  CHECK(parse("x\n\n", with(TableFormat::kLines)).rows == Rows{{"x"}, {""}});
  // Commas, quotes and tabs are plain text here; the header option does not apply.
  CHECK(parse("\"a,b\"\tc\n", with(TableFormat::kLines, true)).rows == Rows{{"\"a,b\"\tc"}});
}

TEST_CASE("reader: bad rows are errors with file:line, or skipped and counted", "[reader][cpu]") {
  const std::string text = "a,b,c\n1,2,3\n4,5\n6,\"7\n7\",8,9\n10,11,12\n";
  std::string err = error_of([&] { parse(text); });
  CHECK_THAT(err, Catch::StartsWith("t.csv:3: expected 3 fields, found 2"));

  Table t = parse(text, with(TableFormat::kCsv, true, BadRows::kSkip));
  CHECK(t.rows == Rows{{"1", "2", "3"}, {"10", "11", "12"}});
  CHECK(t.line_numbers == std::vector<int64_t>{2, 6});
  CHECK(t.skipped_rows == 2);
  CHECK(t.skipped_lines == std::vector<int64_t>{3, 4});

  // Without a header the first row sets the count; at most 20 skipped lines are listed.
  std::string many = "x,y\n";
  for (int i = 0; i < 25; ++i) many += "lonely\n";
  many += "p,q\n";
  Table m = parse(many, with(TableFormat::kCsv, false, BadRows::kSkip));
  CHECK(m.rows == Rows{{"x", "y"}, {"p", "q"}});
  CHECK(m.skipped_rows == 25);
  CHECK(m.skipped_lines.size() == 20);
  CHECK(m.skipped_lines.front() == 2);
  CHECK(m.line_numbers == std::vector<int64_t>{1, 27});
}

TEST_CASE("reader: unterminated quote names the line where the field opened", "[reader][cpu]") {
  std::string err = error_of([] { parse("a,b\n1,2\n3,\"open\nmore\n4,5\n"); });
  CHECK_THAT(err, Catch::StartsWith("t.csv:3: unterminated quoted field"));
  err = error_of([] { parse("a\n\""); });
  CHECK_THAT(err, Catch::StartsWith("t.csv:2: unterminated"));
}

TEST_CASE("reader: option names are the config's spellings; a missing file is named",
          "[reader][cpu]") {
  // The config parser reads the options through these names (an unknown one is a ConfigError).
  CHECK(std::string(ember::data::table_format_name(TableFormat::kCsv)) == "csv");
  CHECK(std::string(ember::data::table_format_name(TableFormat::kTsv)) == "tsv");
  CHECK(std::string(ember::data::table_format_name(TableFormat::kLines)) == "lines");
  CHECK(std::string(ember::data::text_encoding_name(TextEncoding::kUtf8)) == "utf-8");
  CHECK(std::string(ember::data::text_encoding_name(TextEncoding::kLatin1)) == "latin-1");
  CHECK(std::string(ember::data::bad_rows_name(BadRows::kError)) == "error");
  CHECK(std::string(ember::data::bad_rows_name(BadRows::kSkip)) == "skip");
  CHECK_THAT(error_of([] { ember::data::read_table("/nonexistent/x.csv", {}); }),
             Catch::Contains("cannot open data file '/nonexistent/x.csv'"));
}

TEST_CASE("reader: gzip and xz files round-trip", "[reader][cpu]") {
  TempDir dir;
  const std::string text = make_csv(20000);  // about 0.8 MB: the output buffer must grow
  SECTION("plain") {
    CHECK(ember::data::read_file_bytes(dir.write("p.csv", text)) == text);
  }
  SECTION("gzip, one member") {
    CHECK(ember::data::read_file_bytes(dir.write("g.csv.gz", gzip(text))) == text);
  }
  SECTION("gzip, several members split mid-row, then zero padding") {
    size_t a = text.size() / 3 + 7, b = 2 * text.size() / 3;
    std::string multi = gzip(text.substr(0, a)) + gzip(text.substr(a, b - a)) +
                        gzip(text.substr(b)) + std::string(16, '\0');
    Table t = ember::data::read_table(dir.write("m.csv.gz", multi), {});
    REQUIRE(t.rows.size() == 20000);
    CHECK(t.rows[12345] ==
          std::vector<std::string>{"12345", "row 12345, says \"hi\"\nand more", "pos"});
    CHECK(t.line_numbers[1] == 4);
  }
  SECTION("xz, one stream and two concatenated streams") {
    CHECK(ember::data::read_file_bytes(dir.write("x.csv.xz", xz(text))) == text);
    std::string two = xz(text.substr(0, 1000)) + xz(text.substr(1000));
    CHECK(ember::data::read_file_bytes(dir.write("x2.csv.xz", two)) == text);
  }
  SECTION("the name does not matter, the magic bytes do") {
    CHECK(ember::data::read_file_bytes(dir.write("plain.txt", xz("hello\n"))) == "hello\n");
  }
  SECTION("truncated and corrupt streams") {
    std::string x = xz(text);
    std::string p = dir.write("cut.csv.xz", x.substr(0, x.size() - 40));
    CHECK(error_of([&] { ember::data::read_file_bytes(p); }) ==
          p + ": corrupt or truncated xz data");
    std::string flipped = x;
    flipped[flipped.size() / 2] ^= 0x55;
    CHECK_THAT(error_of([&] { ember::data::decompress_bytes(flipped, "f.xz"); }),
               Catch::Contains("f.xz: corrupt or truncated xz data"));
    std::string g = gzip(text);
    CHECK_THAT(error_of([&] { ember::data::decompress_bytes(g.substr(0, g.size() / 2), "h.gz"); }),
               Catch::Contains("h.gz: corrupt or truncated gzip data"));
    CHECK_THAT(error_of([&] { ember::data::decompress_bytes(g + "junk", "j.gz"); }),
               Catch::Contains("j.gz: corrupt or truncated gzip data"));
  }
  SECTION("an output limit stops decompression bombs") {
    CHECK_THAT(error_of([&] { ember::data::decompress_bytes(xz(text), "b.xz", 1000); }),
               Catch::Contains("b.xz: decompresses to more than 1000 bytes"));
    CHECK(ember::data::decompress_bytes(gzip(text), "ok.gz", text.size()) == text);
  }
  SECTION("unsupported compressions are named") {
    CHECK_THAT(error_of([] { ember::data::decompress_bytes("\x28\xb5\x2f\xfd....", "z"); }),
               Catch::Contains("zstd"));
  }
}

TEST_CASE("reader: encodings", "[reader][cpu]") {
  TempDir dir;
  CHECK(ember::data::latin1_to_utf8("caf\xE9 \xFF\x80x") == "caf\xC3\xA9 \xC3\xBF\xC2\x80x");
  std::string p = dir.write("l1.csv", "name,n\ncaf\xE9,1\n");
  ReadOptions latin;
  latin.encoding = TextEncoding::kLatin1;
  CHECK(ember::data::read_table(p, latin).rows == Rows{{"caf\xC3\xA9", "1"}});
  std::string err = error_of([&] { ember::data::read_table(p, {}); });
  CHECK_THAT(err, Catch::StartsWith(p + ":2: invalid UTF-8 (byte 0xE9 at byte column 4)") &&
                      Catch::Contains("encoding: latin-1"));

  auto bad = [](std::string_view s) {
    return error_of([&] { ember::data::check_utf8(s, "u.txt"); });
  };
  // Valid: 2-, 3- and 4-byte forms, the edges U+D7FF, U+E000, U+10FFFF, and long ASCII runs.
  for (std::string_view ok : {"caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xED\x9F\xBF",
                              "\xEE\x80\x80", "\xF4\x8F\xBF\xBF", "plain ascii text, long enough"})
    CHECK(bad(ok) == "(no error)");
  // Invalid: stray continuation, overlongs, surrogate, above U+10FFFF, truncated sequence.
  for (std::string_view no : {"\x80", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                              "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "ab\xE2\x82", "\xFF"})
    CHECK_THAT(bad(no), Catch::StartsWith("u.txt:1: invalid UTF-8"));
  CHECK_THAT(bad("first line is fine\nsecond\r\nthird \xC3("),
             Catch::StartsWith("u.txt:3: invalid UTF-8 (byte 0xC3 at byte column 7)"));
}
