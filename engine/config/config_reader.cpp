// Typed reads of yaml-cpp nodes for the config parser (see config_reader.h). Number syntax is
// checked with our own strict grammar rather than yaml-cpp's as<>, which accepts "1.5" for an
// int64 field in some versions and gives no position; values are then range-checked so the
// message can say what range was expected.
#include "engine/config/config_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

namespace ember::config_detail {

const NumRange kAnyNumber{};
const NumRange kRate{0.0, 1.0, true, false, "a number in [0, 1)"};
const NumRange kPositive{0.0, std::numeric_limits<double>::infinity(), false, true, "a number > 0"};
const NumRange kNonNegative{0.0, std::numeric_limits<double>::infinity(), true, true,
                            "a number >= 0"};
const NumRange kUnitOpen{0.0, 1.0, false, false, "a number in (0, 1)"};

YAML::Mark Entry::where() const {
  if (value.IsDefined() && !value.IsNull() && value.Mark().line >= 0) return value.Mark();
  return key_node.Mark();
}

SourceLoc Reader::loc(const YAML::Mark& m) const {
  SourceLoc l;
  l.file = file_;
  l.line = m.line >= 0 ? m.line + 1 : 1;
  l.column = m.column >= 0 ? m.column + 1 : 1;
  return l;
}

void Reader::fail(const YAML::Mark& m, const std::string& path, const std::string& msg) const {
  std::string text = loc(m).str() + ": ";
  if (!path.empty()) text += path + ": ";
  throw ConfigError(text + msg);
}

void Reader::type_error(const Entry& e, const std::string& what) const {
  std::string msg = "expected " + what + ", got " + describe(e.value);
  if (e.value.IsScalar() && !is_plain(e.value) && what.find("number") != std::string::npos)
    msg += " (a quoted value is a string; write numbers without quotes)";
  else if (e.value.IsScalar() && !is_plain(e.value) && what.find("integer") != std::string::npos)
    msg += " (a quoted value is a string; write numbers without quotes)";
  fail(e, msg);
}

std::string describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "nothing (null)";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "\"" + n.Scalar() + "\"";
}

bool is_plain(const YAML::Node& n) {
  return n.IsScalar() && n.Tag() == "?";
}

static std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

static size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& known) {
  const std::string w = lower(word);
  std::string best;
  size_t best_d = std::numeric_limits<size_t>::max();
  for (const std::string& k : known) {
    size_t d = edit_distance(w, lower(k));
    if (d < best_d) best_d = d, best = k;
  }
  // Close means a typo, not a different word: up to 2 edits, or a third of the word.
  size_t limit = std::max<size_t>(2, w.size() / 3);
  return best_d <= limit ? best : "";
}

static std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

std::vector<Entry> Reader::entries(const YAML::Node& n, const YAML::Mark& anchor,
                                   const std::string& path, const std::vector<std::string>& known,
                                   bool allow_null) const {
  std::vector<Entry> out;
  if (!n.IsDefined() || n.IsNull()) {
    if (allow_null) return out;
    fail(anchor, path, "expected a map of keys (" + join(known) + "), got nothing (null)");
  }
  if (!n.IsMap()) {
    YAML::Mark m = n.Mark().line >= 0 ? n.Mark() : anchor;
    fail(m, path, "expected a map of keys (" + join(known) + "), got " + describe(n));
  }
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    Entry e;
    e.key_node = it->first;
    e.value = it->second;
    if (!e.key_node.IsScalar()) fail(e.key_node.Mark(), path, "a key must be a plain name");
    e.key = e.key_node.Scalar();
    e.path = path.empty() ? e.key : path + "." + e.key;
    if (std::find(known.begin(), known.end(), e.key) == known.end()) {
      std::string msg = "unknown key '" + e.key + "'";
      std::string near = closest(e.key, known);
      if (!near.empty())
        msg += "; did you mean '" + near + "'?";
      else
        msg += " (known keys: " + join(known) + ")";
      fail(e.key_node.Mark(), e.path, msg);
    }
    if (!seen.insert(e.key).second) fail(e.key_node.Mark(), e.path, "key given twice");
    out.push_back(std::move(e));
  }
  return out;
}

std::string Reader::str(const Entry& e) const {
  if (!e.value.IsScalar()) type_error(e, "a string");
  return e.value.Scalar();
}

std::string Reader::choice(const Entry& e, const std::vector<std::string>& choices) const {
  if (!e.value.IsScalar()) type_error(e, "one of " + join(choices));
  const std::string& s = e.value.Scalar();
  if (std::find(choices.begin(), choices.end(), s) != choices.end()) return s;
  std::string msg = "expected one of " + join(choices) + ", got \"" + s + "\"";
  std::string near = closest(s, choices);
  if (!near.empty()) msg += "; did you mean '" + near + "'?";
  fail(e, msg);
}

int64_t Reader::integer(const Entry& e, int64_t min, int64_t max) const {
  std::string what;
  if (min == 1 && max == INT64_MAX)
    what = "a positive integer";
  else if (min == 0 && max == INT64_MAX)
    what = "a non-negative integer";
  else if (min == INT64_MIN && max == INT64_MAX)
    what = "an integer";
  else if (max == INT64_MAX)
    what = "an integer >= " + std::to_string(min);
  else
    what = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  static const std::regex kInt("[-+]?[0-9]+");
  if (!is_plain(e.value) || !std::regex_match(e.value.Scalar(), kInt)) type_error(e, what);
  errno = 0;
  long long v = std::strtoll(e.value.Scalar().c_str(), nullptr, 10);
  if (errno == ERANGE || v < min || v > max) type_error(e, what);
  return static_cast<int64_t>(v);
}

double Reader::number(const Entry& e, const NumRange& r) const {
  static const std::regex kNum("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");
  if (!is_plain(e.value) || !std::regex_match(e.value.Scalar(), kNum)) type_error(e, r.what);
  double v = std::strtod(e.value.Scalar().c_str(), nullptr);
  bool ok = std::isfinite(v) && (r.lo_closed ? v >= r.lo : v > r.lo) &&
            (r.hi_closed ? v <= r.hi : v < r.hi);
  if (!ok) type_error(e, r.what);
  return v;
}

bool Reader::boolean(const Entry& e) const {
  if (is_plain(e.value)) {
    const std::string& s = e.value.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  type_error(e, "true or false");
}

std::vector<Entry> Reader::items(const Entry& e) const {
  if (!e.value.IsSequence()) type_error(e, "a list");
  std::vector<Entry> out;
  for (size_t i = 0; i < e.value.size(); ++i) {
    Entry item;
    item.key = e.key;
    item.key_node = e.key_node;
    item.value = e.value[i];
    item.path = e.path + "[" + std::to_string(i) + "]";
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<std::string> Reader::str_list(const Entry& e) const {
  std::vector<std::string> out;
  for (const Entry& item : items(e)) out.push_back(str(item));
  return out;
}

Entry Reader::single_key(const Entry& e, const char* what) const {
  Entry t;
  t.path = e.path;
  if (e.value.IsScalar()) {  // "- GlobalMaxPooling1D": a type with no arguments
    t.key = e.value.Scalar();
    t.key_node = e.value;
    t.value = YAML::Node(YAML::NodeType::Null);
    return t;
  }
  if (!e.value.IsMap() || e.value.size() != 1) {
    fail(e.where(), e.path,
         std::string("expected ") + what + " written as a single-key map ({Type: {args}}), got " +
             (e.value.IsMap() ? "a map with " + std::to_string(e.value.size()) + " keys"
                              : describe(e.value)));
  }
  auto it = e.value.begin();
  t.key_node = it->first;
  t.value = it->second;
  if (!t.key_node.IsScalar()) fail(t.key_node.Mark(), e.path, std::string("expected ") + what);
  t.key = t.key_node.Scalar();
  return t;
}

}  // namespace ember::config_detail
