// The config parser's typed reads of yaml-cpp nodes (engine/parse, and the layer registry's
// argument parsers in layers/registry.cpp): each fails with a ConfigError
// "file:line:column: key.path: what was expected, got what". Lines and
// columns are 1-based in messages (yaml-cpp's marks are 0-based). A YAML scalar is a number
// only when it is plain: a quoted "100" is a string, so `units: "100"` is a type error.
// Maps are read through entries(), which rejects unknown and duplicate keys and suggests the
// closest known key, so every section lists the keys it accepts in one place.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "engine/config/config.h"

namespace ember::config_detail {

// An allowed numeric range, with the words used in error messages ("a number in [0, 1)").
struct NumRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_closed = true;
  bool hi_closed = true;
  const char* what = "a number";
};
extern const NumRange kAnyNumber;    // a number
extern const NumRange kRate;         // a number in [0, 1)
extern const NumRange kPositive;     // a number > 0
extern const NumRange kNonNegative;  // a number >= 0
extern const NumRange kUnitOpen;     // a number in (0, 1)

// One key of a map: its name, the key node, the value node and the key path ("train.epochs").
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  std::string path;
  // Where to point at for an error about the value: the value itself, or the key when the
  // value is empty (yaml-cpp marks an empty value at the start of the next line).
  YAML::Mark where() const;
};

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}
  const std::string& file() const { return file_; }

  SourceLoc loc(const YAML::Mark& m) const;
  [[noreturn]] void fail(const YAML::Mark& m, const std::string& path,
                         const std::string& msg) const;
  [[noreturn]] void fail(const Entry& e, const std::string& msg) const {
    fail(e.where(), e.path, msg);
  }
  // "expected <what>, got <a description of n>"
  [[noreturn]] void type_error(const Entry& e, const std::string& what) const;

  // The keys of map `n` (a null node reads as an empty map when allow_null). An unknown key
  // fails with a suggestion taken from `known`; so does a key given twice.
  std::vector<Entry> entries(const YAML::Node& n, const YAML::Mark& anchor, const std::string& path,
                             const std::vector<std::string>& known, bool allow_null = true) const;

  // Typed scalars. Strings accept any scalar (a label "1" or a filter value 2019 are fine);
  // numbers, integers and booleans must be plain scalars.
  std::string str(const Entry& e) const;
  std::string choice(const Entry& e, const std::vector<std::string>& choices) const;
  // choice() over an enum's values, spelled by `name` (the enum's one name function): the
  // value whose name the entry holds; errors list the names in the order of `values`.
  template <class E>
  E pick(const Entry& e, std::initializer_list<E> values, const char* (*name)(E)) const {
    std::vector<std::string> names;
    for (E v : values) names.push_back(name(v));
    const std::string s = choice(e, names);
    for (E v : values)
      if (s == name(v)) return v;
    return *values.begin();  // unreachable: choice() failed on any other name
  }
  int64_t integer(const Entry& e, int64_t min, int64_t max = INT64_MAX) const;
  int64_t positive_int(const Entry& e) const { return integer(e, 1); }
  double number(const Entry& e, const NumRange& range = kAnyNumber) const;
  bool boolean(const Entry& e) const;
  std::vector<std::string> str_list(const Entry& e) const;

  // A list's items as entries with paths "key[i]".
  std::vector<Entry> items(const Entry& e) const;
  // A single-key map {Type: args} (or a bare scalar "Type", whose args are then null), as
  // used by model entries, Bidirectional.layer and callbacks. Returns the type entry.
  Entry single_key(const Entry& e, const char* what) const;

 private:
  std::string file_;
};

// Text for "got ..." in messages: "\"abc\"", "a list", "a map", "nothing (null)".
std::string describe(const YAML::Node& n);
bool is_plain(const YAML::Node& n);  // a plain (unquoted, untagged) scalar
// The closest of `known` to `word` (case-insensitive edit distance), or "" when none is close.
std::string closest(const std::string& word, const std::vector<std::string>& known);

// What a layer type's argument parser (layers/registry.h) gets: the reader, the layer's
// argument entries (already checked against its keys), where to point at for a missing
// argument (the argument map, or the type when there is none) and the key path
// ("model[2].LSTM").
struct LayerArgs {
  const Reader& r;
  const std::vector<Entry>& args;
  YAML::Mark at;
  std::string path;
};

}  // namespace ember::config_detail
