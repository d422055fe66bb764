// Reading text datasets: CSV with real quoting (commas, doubled quotes, tabs and newlines inside
// quoted fields), TSV split on tabs with no quoting (the Igbo files), and one text per line.
// Files may be plain, gzip (.gz) or xz (.xz); the compression is recognised by its magic bytes,
// not the name. Text is UTF-8; encoding latin-1 converts each byte to its code point. A
// malformed row is an error naming file and line, unless on_bad_row is "skip", in which case it
// is counted in Table::skipped_rows (and its lines listed in Table::skipped_lines).
// CSV reads as Python's csv does: a record ends at \n, \r\n or a lone \r outside quotes (one
// line each in line numbers); blank lines and a UTF-8 BOM are skipped. Lines splits on \n only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::data {

// The closed sets of ReadOptions, parsed once from their config names (data.format, encoding,
// on_bad_row: the config parser reads them through the *_name functions, which give the
// config's spelling).
enum class TableFormat { kCsv, kTsv, kLines };
enum class TextEncoding { kUtf8, kLatin1 };
enum class BadRows { kError, kSkip };  // a malformed row is an error, or is skipped and counted
const char* table_format_name(TableFormat f);    // csv | tsv | lines
const char* text_encoding_name(TextEncoding e);  // utf-8 | latin-1
const char* bad_rows_name(BadRows b);            // error | skip

struct ReadOptions {
  TableFormat format = TableFormat::kCsv;
  bool header = true;  // csv/tsv: the first row names the columns (lines: ignored)
  TextEncoding encoding = TextEncoding::kUtf8;
  BadRows on_bad_row = BadRows::kError;
  // The most bytes the file may hold once decompressed (plain files too): a gzip or xz bomb
  // is refused with a message naming the file, the limit and `limit_name` (the setting that
  // raises it, e.g. "data.max_file_mb") instead of exhausting memory.
  size_t max_bytes = SIZE_MAX;
  std::string limit_name;
};

struct Table {
  std::string source;                          // file name, for messages
  std::vector<std::string> columns;            // header names; "0","1",... without a header;
                                               // "text" for format lines
  std::vector<std::vector<std::string>> rows;  // every row has columns.size() fields
  std::vector<int64_t> line_numbers;           // 1-based line where each row starts
  int64_t skipped_rows = 0;
  std::vector<int64_t> skipped_lines;  // first lines of the skipped rows (at most 20)

  // Index of a column given by header name or by number ("5" or 5). A header name wins over a
  // number ("5" is the column named 5 when there is one). Throws ember::Error listing the
  // columns that exist.
  size_t column_index(const std::string& name_or_number) const;
  size_t column_index(size_t number) const;
};

// Whole file, decompressed (magic bytes: 1f 8b gzip, fd 37 7a 58 5a 00 xz). Throws naming the
// path when it cannot be opened or the stream is corrupt or truncated.
std::string read_file_bytes(const std::string& path, size_t max_bytes = SIZE_MAX,
                            const std::string& limit_name = "");
// The same on bytes already in memory: plain bytes come back unchanged. The output may not
// exceed max_bytes (an ember::Error otherwise); a finite max_bytes also caps the xz decoder's
// memory at max(max_bytes, 256 MiB), so a hostile header cannot ask for gigabytes.
std::string decompress_bytes(std::string_view data, const std::string& source,
                             size_t max_bytes = SIZE_MAX, const std::string& limit_name = "");

// Parses text that is already in memory and already UTF-8; `source` names it in errors
// ("train.csv"). opts.encoding is not applied here (read_table applies it); bytes that are not
// UTF-8 are carried through untouched. Errors are ember::Error.
Table parse_table(std::string_view text, const std::string& source, const ReadOptions& opts);
// read_file_bytes + encoding conversion + parse_table.
Table read_table(const std::string& path, const ReadOptions& opts);

// The lines of `text` as format `lines` reads them: split at \n, a \r before it dropped (CRLF
// files), no empty line after a final \n. line_views keeps a leading byte order mark;
// split_lines skips it as parse_table does. `ember predict` reads stdin with split_lines, so
// its texts are the texts training would have read from the same bytes.
std::vector<std::string_view> line_views(std::string_view text);
std::vector<std::string> split_lines(std::string_view text);

// Latin-1 bytes to UTF-8.
std::string latin1_to_utf8(std::string_view bytes);
// Throws naming source and line (1-based) of the first byte sequence that is not UTF-8.
void check_utf8(std::string_view text, const std::string& source);

}  // namespace ember::data
