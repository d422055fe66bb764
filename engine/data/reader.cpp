// CSV/TSV/lines parsing, encoding conversion and read_table. One pass over a string_view: a
// field that needs no unescaping (every unquoted field, and a quoted one without doubled quotes)
// is copied once, straight from the input into its std::string; only fields with "" are built
// piecewise. Quoted spans are searched with memchr, so long reviews cost about a memcpy.
// CSV semantics follow Python's csv reader with strict=False: a quote opens a quoted field only
// as the field's first character, text after a closing quote joins the field ("a"b -> ab), and
// a record ends at \n, \r\n or a lone \r; blank lines are skipped (pandas does the same).
#include <algorithm>
#include <cstring>

#include "engine/core/check.h"
#include "engine/data/reader.h"

namespace ember::data {
namespace {

constexpr size_t kMaxListedSkips = 20;

// Line breaks as the CSV/TSV parser counts them: "\n", "\r\n" and a lone "\r" are one each.
int64_t count_breaks(std::string_view s) {
  if (s.empty()) return 0;
  int64_t n = std::count(s.begin(), s.end(), '\n');
  if (std::memchr(s.data(), '\r', s.size()))
    for (size_t i = 0; i < s.size(); ++i)
      if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) ++n;
  return n;
}

std::string at(const std::string& source, int64_t line) {
  return source + ":" + std::to_string(line) + ": ";
}

// Splits records of delimiter-separated fields; quoting is optional (off for TSV).
class DelimitedParser {
 public:
  DelimitedParser(std::string_view text, const std::string& source, char delim, bool quoting)
      : t_(text), source_(source), delim_(delim), quoting_(quoting) {}

  // Fills `fields` (cleared first) with the next record and its first line; false at the end.
  bool next(std::vector<std::string>& fields, int64_t* row_line) {
    fields.clear();
    // Blank lines yield no record.
    while (pos_ < t_.size() && (t_[pos_] == '\n' || t_[pos_] == '\r')) end_line();
    if (pos_ >= t_.size()) return false;
    *row_line = line_;
    for (;;) {
      if (quoting_ && pos_ < t_.size() && t_[pos_] == '"')
        quoted_field(fields);
      else
        plain_field(fields);
      if (pos_ >= t_.size()) return true;
      if (t_[pos_] == delim_) {
        ++pos_;  // a delimiter at the very end still opens one (empty) last field
        continue;
      }
      end_line();  // at \r or \n
      return true;
    }
  }

 private:
  bool ends_field(char c) const { return c == delim_ || c == '\n' || c == '\r'; }

  // Consumes "\n", "\r\n" or a lone "\r" at pos_.
  void end_line() {
    if (t_[pos_] == '\r' && pos_ + 1 < t_.size() && t_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
    ++line_;
  }

  size_t scan_plain(size_t p) const {
    while (p < t_.size() && !ends_field(t_[p])) ++p;
    return p;
  }

  void plain_field(std::vector<std::string>& fields) {
    size_t start = pos_;
    pos_ = scan_plain(pos_);
    fields.emplace_back(t_.substr(start, pos_ - start));
  }

  void quoted_field(std::vector<std::string>& fields) {
    const int64_t open_line = line_;
    size_t seg = ++pos_;  // after the opening quote
    std::string built;    // used only when the field holds "" or text after its closing quote
    bool is_built = false;
    for (;;) {
      const void* q = std::memchr(t_.data() + pos_, '"', t_.size() - pos_);
      if (!q)
        throw Error(at(source_, open_line) +
                    "unterminated quoted field (the quote opened on this line is never closed)");
      size_t qi = static_cast<size_t>(static_cast<const char*>(q) - t_.data());
      line_ += count_breaks(t_.substr(pos_, qi - pos_));
      if (qi + 1 < t_.size() && t_[qi + 1] == '"') {  // "" stands for one quote
        built.append(t_.data() + seg, qi + 1 - seg);
        is_built = true;
        pos_ = seg = qi + 2;
        continue;
      }
      std::string_view last = t_.substr(seg, qi - seg);
      size_t tail = qi + 1;
      pos_ = scan_plain(tail);
      if (!is_built && pos_ == tail) {
        fields.emplace_back(last);
      } else {
        built.append(last);
        built.append(t_.substr(tail, pos_ - tail));
        fields.push_back(std::move(built));
      }
      return;
    }
  }

  std::string_view t_;
  const std::string& source_;
  char delim_;
  bool quoting_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

void parse_delimited(std::string_view text, const ReadOptions& opts, char delim, bool quoting,
                     Table& table) {
  DelimitedParser parser(text, table.source, delim, quoting);
  std::vector<std::string> fields;
  int64_t row_line = 0;
  size_t ncols = 0;
  bool have_columns = false;
  const bool skip_bad = opts.on_bad_row == BadRows::kSkip;
  while (parser.next(fields, &row_line)) {
    if (!have_columns) {
      have_columns = true;
      ncols = fields.size();
      if (opts.header) {
        table.columns = std::move(fields);
        fields = std::vector<std::string>();
        fields.reserve(ncols);
        continue;
      }
      for (size_t i = 0; i < ncols; ++i) table.columns.push_back(std::to_string(i));
    }
    if (fields.size() != ncols) {
      if (!skip_bad)
        throw Error(at(table.source, row_line) + "expected " + std::to_string(ncols) +
                    " fields, found " + std::to_string(fields.size()) +
                    " (on_bad_row: skip drops such rows)");
      ++table.skipped_rows;
      if (table.skipped_lines.size() < kMaxListedSkips) table.skipped_lines.push_back(row_line);
      continue;
    }
    table.rows.push_back(std::move(fields));
    table.line_numbers.push_back(row_line);
    fields = std::vector<std::string>();
    fields.reserve(ncols);
  }
}

void parse_lines(std::string_view text, Table& table) {
  table.columns = {"text"};
  std::vector<std::string_view> lines = line_views(text);
  table.rows.reserve(lines.size());
  table.line_numbers.reserve(lines.size());
  int64_t line = 1;
  for (std::string_view l : lines) {
    table.rows.emplace_back();
    table.rows.back().emplace_back(l);
    table.line_numbers.push_back(line++);
  }
}

std::string join_columns(const std::vector<std::string>& columns) {
  if (columns.empty()) return "none";
  std::string s;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) s += ", ";
    s += columns[i].empty() ? "(empty)" : columns[i];
  }
  return s;
}

}  // namespace

std::vector<std::string_view> line_views(std::string_view text) {
  std::vector<std::string_view> lines;
  lines.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  size_t pos = 0;
  while (pos < text.size()) {
    const void* nl = std::memchr(text.data() + pos, '\n', text.size() - pos);
    size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - text.data()) : text.size();
    size_t stop = (end > pos && text[end - 1] == '\r') ? end - 1 : end;
    lines.push_back(text.substr(pos, stop - pos));
    pos = end + 1;  // past the '\n'; past the end when there is none
  }
  return lines;
}

std::vector<std::string> split_lines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // as parse_table
  std::vector<std::string> out;
  for (std::string_view l : line_views(text)) out.emplace_back(l);
  return out;
}

size_t Table::column_index(const std::string& name_or_number) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name_or_number) return i;
  const std::string& s = name_or_number;
  if (!s.empty() && s.size() <= 18 &&
      std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return column_index(static_cast<size_t>(std::stoull(s)));
  throw Error(source + ": unknown column '" + name_or_number +
              "' (columns: " + join_columns(columns) + ")");
}

size_t Table::column_index(size_t number) const {
  if (number < columns.size()) return number;
  throw Error(source + ": column " + std::to_string(number) + " does not exist: there are " +
              std::to_string(columns.size()) + " columns, numbered from 0 (" +
              join_columns(columns) + ")");
}

const char* table_format_name(TableFormat f) {
  switch (f) {
    case TableFormat::kCsv:
      return "csv";
    case TableFormat::kTsv:
      return "tsv";
    case TableFormat::kLines:
      return "lines";
  }
  return "?";
}

const char* text_encoding_name(TextEncoding e) {
  return e == TextEncoding::kUtf8 ? "utf-8" : "latin-1";
}

const char* bad_rows_name(BadRows b) {
  return b == BadRows::kError ? "error" : "skip";
}

Table parse_table(std::string_view text, const std::string& source, const ReadOptions& opts) {
  Table table;
  table.source = source;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  switch (opts.format) {
    case TableFormat::kCsv:
      parse_delimited(text, opts, ',', true, table);
      break;
    case TableFormat::kTsv:
      parse_delimited(text, opts, '\t', false, table);
      break;
    case TableFormat::kLines:
      parse_lines(text, table);
      break;
  }
  return table;
}

std::string latin1_to_utf8(std::string_view bytes) {
  size_t high = 0;
  for (char c : bytes) high += static_cast<unsigned char>(c) >> 7;
  std::string out;
  out.resize(bytes.size() + high);
  char* o = out.data();
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      *o++ = c;
    } else {  // U+0080..U+00FF: two bytes, 110000xx 10xxxxxx
      *o++ = static_cast<char>(0xC0 | (b >> 6));
      *o++ = static_cast<char>(0x80 | (b & 0x3F));
    }
  }
  return out;
}

void check_utf8(std::string_view text, const std::string& source) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // ASCII runs, eight bytes at a time: the common case for English text.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Well-formed sequences (Unicode table 3-7): no overlongs, surrogates or > U+10FFFF.
    size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    bool ok = len != 0 && i + len <= n && p[i + 1] >= lo && p[i + 1] <= hi;
    for (size_t k = 2; ok && k < len; ++k) ok = p[i + k] >= 0x80 && p[i + k] <= 0xBF;
    if (ok) {
      i += len;
      continue;
    }
    std::string_view before = text.substr(0, i);
    size_t line_start = before.find_last_of("\r\n");
    size_t column = line_start == std::string_view::npos ? i + 1 : i - line_start;
    static const char* hex = "0123456789ABCDEF";
    std::string byte = {'0', 'x', hex[c >> 4], hex[c & 15]};
    throw Error(at(source, 1 + count_breaks(before)) + "invalid UTF-8 (byte " + byte +
                " at byte column " + std::to_string(column) +
                "); if the file is Latin-1 (ISO-8859-1), set encoding: latin-1");
  }
}

Table read_table(const std::string& path, const ReadOptions& opts) {
  std::string bytes = read_file_bytes(path, opts.max_bytes, opts.limit_name);
  if (opts.encoding == TextEncoding::kLatin1)
    bytes = latin1_to_utf8(bytes);
  else
    check_utf8(bytes, path);
  return parse_table(bytes, path, opts);
}

}  // namespace ember::data
