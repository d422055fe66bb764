// libFuzzer target for the table reader: the input bytes go through parse_table in every
// format (csv, tsv, lines), both encodings (utf-8: check_utf8, then the raw bytes are parsed
// anyway; latin-1: converted first), with and without a header, on_bad_row error and skip.
// ember::Error is the expected way to reject input; any other exception, a sanitizer report or
// a broken invariant (checked below, including a CSV write/re-read round trip) is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/core/check.h"
#include "engine/data/reader.h"
#include "fuzz/fuzz_assert.h"

namespace {

using ember::data::ReadOptions;
using ember::data::Table;

void check_invariants(const Table& t) {
  FUZZ_ASSERT(t.line_numbers.size() == t.rows.size());
  for (size_t i = 0; i < t.rows.size(); ++i) {
    FUZZ_ASSERT(t.rows[i].size() == t.columns.size());
    FUZZ_ASSERT(t.line_numbers[i] >= 1);
    if (i) FUZZ_ASSERT(t.line_numbers[i] > t.line_numbers[i - 1]);
  }
  FUZZ_ASSERT(t.skipped_lines.size() <= 20);
  FUZZ_ASSERT(t.skipped_rows >= static_cast<int64_t>(t.skipped_lines.size()));
  for (size_t c = 0; c < t.columns.size(); ++c) FUZZ_ASSERT(t.column_index(t.columns[c]) <= c);
}

// Writes rows as Python's csv writer does with QUOTE_MINIMAL, plus the two cases where the
// reader needs help to see the same rows: a lone empty field (else a blank line) and a first
// field that starts with a byte order mark (else skipped as one).
std::string write_csv(const Table& t) {
  std::string out;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    const auto& row = t.rows[r];
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string& f = row[c];
      if (c) out += ',';
      bool quote = f.find_first_of(",\"\r\n") != std::string::npos ||
                   (row.size() == 1 && f.empty()) ||
                   (r == 0 && c == 0 && f.compare(0, 3, "\xEF\xBB\xBF") == 0);
      if (!quote) {
        out += f;
        continue;
      }
      out += '"';
      for (char ch : f) {
        if (ch == '"') out += '"';
        out += ch;
      }
      out += '"';
    }
    out += "\r\n";
  }
  return out;
}

void round_trip(const Table& t) {
  ReadOptions o;
  o.header = false;
  Table back = ember::data::parse_table(write_csv(t), "roundtrip", o);  // must not throw
  FUZZ_ASSERT(back.rows == t.rows);
}

void parse_all(const std::string& text) {
  using ember::data::BadRows;
  using ember::data::TableFormat;
  for (TableFormat format : {TableFormat::kCsv, TableFormat::kTsv, TableFormat::kLines}) {
    for (bool header : {true, false}) {
      for (BadRows bad : {BadRows::kError, BadRows::kSkip}) {
        ReadOptions o;
        o.format = format;
        o.header = header;
        o.on_bad_row = bad;
        try {
          Table t = ember::data::parse_table(text, "fuzz", o);
          check_invariants(t);
          if (o.format == TableFormat::kCsv && !header && !t.rows.empty()) round_trip(t);
          if (!t.columns.empty()) (void)t.column_index(std::to_string(t.columns.size() - 1));
        } catch (const ember::Error&) {
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    ember::data::check_utf8(bytes, "fuzz");
  } catch (const ember::Error&) {
  }
  parse_all(bytes);
  std::string utf8 = ember::data::latin1_to_utf8(bytes);
  ember::data::check_utf8(utf8, "latin-1 output");  // must not throw: latin-1 always converts
  parse_all(utf8);
  return 0;
}
