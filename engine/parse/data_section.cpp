// The `data:` section. A source (data.train, data.test, data.validation) is a path string, a
// map {file, format, header, text_column, label_column, label, filter, encoding, on_bad_row},
// or a list of those. The same keys at the top of `data:` are defaults every source inherits
// unless it sets its own (a source's filter replaces the default filter, it is not merged).
// data.extra_tests maps a name to a source (or a list) evaluated after training beside
// data.test. data.validation_split is a stratified validation split of the training rows.
// A test/validation map without `file` means "the train files, with these keys laid over each
// train source" — IMDB's {filter: {split: test}}. Everything is resolved here, so the loader
// sees complete DataSource records. Cleaning step names are checked against data::Cleaner.
#include <algorithm>
#include <cctype>
#include <set>

#include "engine/config/config_reader.h"
#include "engine/data/clean.h"
#include "engine/parse/sections.h"

namespace ember::config_detail {
namespace {

const std::vector<std::string> kSourceKeys = {"file",        "format",       "header",
                                              "text_column", "label_column", "label",
                                              "filter",      "encoding",     "on_bad_row"};

// The keys one map gave, before defaults are applied. Unset = inherit.
struct Fields {
  std::optional<std::string> file, text_column, label_column, label;
  std::optional<data::TableFormat> format;
  std::optional<data::TextEncoding> encoding;
  std::optional<data::BadRows> on_bad_row;
  std::optional<bool> header;
  std::optional<std::map<std::string, std::string>> filter;

  // `over`'s set keys replace ours.
  void overlay(const Fields& over) {
    auto take = [](auto& mine, const auto& theirs) {
      if (theirs) mine = theirs;
    };
    take(file, over.file);
    take(format, over.format);
    take(text_column, over.text_column);
    take(label_column, over.label_column);
    take(label, over.label);
    take(encoding, over.encoding);
    take(on_bad_row, over.on_bad_row);
    take(header, over.header);
    take(filter, over.filter);
  }
};

SyntheticConfig parse_synthetic(const Reader& r, const Entry& s) {
  SyntheticConfig c;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path, {"n_train", "n_val", "n_test", "maxlen", "seed"})) {
    if (e.key == "n_train")
      c.n_train = r.positive_int(e);
    else if (e.key == "n_val")
      c.n_val = r.integer(e, 0);
    else if (e.key == "n_test")
      c.n_test = r.integer(e, 0);
    else if (e.key == "maxlen")
      c.maxlen = r.integer(e, 4);  // texts are 4..maxlen tokens
    else if (e.key == "seed")
      c.seed = static_cast<uint64_t>(r.integer(e, 0));
  }
  return c;
}

std::map<std::string, std::string> parse_filter(const Reader& r, const Entry& f) {
  std::map<std::string, std::string> out;
  if (f.value.IsNull()) return out;  // `filter: null` / `filter: {}`: no filter
  if (!f.value.IsMap()) r.type_error(f, "a map {column: value}");
  for (auto it = f.value.begin(); it != f.value.end(); ++it) {
    Entry e{it->first.Scalar(), it->first, it->second, f.path + "." + it->first.Scalar()};
    if (out.count(e.key)) r.fail(e.key_node.Mark(), e.path, "key given twice");
    out[e.key] = r.str(e);
  }
  return out;
}

// One key of a source map or of the data defaults. Returns false for keys it does not own.
bool read_field(const Reader& r, const Entry& e, Fields& f) {
  if (e.key == "file") {
    f.file = r.str(e);
    if (f.file->empty()) r.fail(e, "must not be empty");
  } else if (e.key == "format")
    f.format =
        r.pick(e, {data::TableFormat::kCsv, data::TableFormat::kTsv, data::TableFormat::kLines},
               data::table_format_name);
  else if (e.key == "header")
    f.header = r.boolean(e);
  else if (e.key == "text_column")
    f.text_column = r.str(e);
  else if (e.key == "label_column")
    f.label_column = r.str(e);
  else if (e.key == "label")
    f.label = r.str(e);
  else if (e.key == "filter")
    f.filter = parse_filter(r, e);
  else if (e.key == "encoding")
    f.encoding = r.pick(e, {data::TextEncoding::kUtf8, data::TextEncoding::kLatin1},
                        data::text_encoding_name);
  else if (e.key == "on_bad_row")
    f.on_bad_row = r.pick(e, {data::BadRows::kError, data::BadRows::kSkip}, data::bad_rows_name);
  else
    return false;
  return true;
}

// A string or a map -> its fields.
Fields source_fields(const Reader& r, const Entry& e) {
  Fields f;
  if (e.value.IsScalar()) {
    f.file = r.str(e);
    if (f.file->empty()) r.fail(e, "expected a file path, got an empty string");
    return f;
  }
  if (!e.value.IsMap())
    r.type_error(e, "a file path, a map {file, format, text_column, ...} or a list of them");
  for (const Entry& k : r.entries(e.value, e.where(), e.path, kSourceKeys, false))
    read_field(r, k, f);
  return f;
}

// Defaults + own keys -> a complete source; checks what only the combination can tell.
DataSource resolve(const Reader& r, const Entry& e, const std::string& path, const Fields& dflt,
                   const Fields& own) {
  Fields f = dflt;
  f.overlay(own);
  DataSource s;
  s.path = path;
  s.loc = r.loc(e.where());
  if (!f.file) r.fail(e.where(), path + ".file", "missing required value (a data file path)");
  s.file = *f.file;
  if (f.format) s.format = *f.format;
  s.header = f.header.value_or(s.format != data::TableFormat::kLines);
  if (f.text_column) s.text_column = *f.text_column;
  if (f.label_column) s.label_column = *f.label_column;
  s.label = f.label;
  if (f.filter) s.filter = *f.filter;
  if (f.encoding) s.encoding = *f.encoding;
  if (f.on_bad_row) s.on_bad_row = *f.on_bad_row;
  if (s.format == data::TableFormat::kLines && !s.label)
    r.fail(e.where(), path + ".label",
           "missing required value: a `format: lines` file has no label column, so give the "
           "label of its rows (e.g. label: positive)");
  return s;
}

struct ParsedSources {
  std::vector<DataSource> sources;
  std::vector<Fields> own;  // each source's own keys, for test/validation maps without a file
};

// data.train / data.test / data.validation: a source or a list of them. `train` is null for
// train itself; for the others, a map without `file` expands over the train sources.
ParsedSources parse_sources(const Reader& r, const Entry& e, const Fields& dflt,
                            const ParsedSources* train) {
  std::vector<Entry> items;
  if (e.value.IsSequence()) {
    items = r.items(e);
    if (items.empty()) r.fail(e, "expected at least one source");
  } else {
    items.push_back(e);
  }
  ParsedSources out;
  for (const Entry& item : items) {
    Fields own = source_fields(r, item);
    if (!own.file && train) {
      if (!own.filter && !own.label && !own.text_column && !own.label_column)
        r.fail(item,
               "a map without `file` takes the train file(s): give at least a filter "
               "(e.g. {filter: {split: test}})");
      for (size_t i = 0; i < train->own.size(); ++i) {
        Fields derived = train->own[i];
        derived.overlay(own);
        out.sources.push_back(resolve(r, item, item.path, dflt, derived));
        out.own.push_back(derived);
      }
      continue;
    }
    out.sources.push_back(resolve(r, item, item.path, dflt, own));
    out.own.push_back(own);
  }
  return out;
}

void parse_labels(const Reader& r, const Entry& l, DataConfig& d) {
  d.labels_loc = r.loc(l.where());
  if (l.value.IsSequence()) {
    for (const Entry& item : r.items(l)) {
      std::string s = r.str(item);
      for (const std::string& prev : d.labels)
        if (prev == s) r.fail(item, "label \"" + s + "\" is listed twice");
      d.labels.push_back(s);
    }
    if (d.labels.empty()) r.fail(l, "expected at least one label");
    return;
  }
  if (!l.value.IsMap()) r.type_error(l, "a list of labels or a map {label: class id}");
  for (auto it = l.value.begin(); it != l.value.end(); ++it) {
    Entry e{it->first.Scalar(), it->first, it->second, l.path + "." + it->first.Scalar()};
    if (d.label_map.count(e.key)) r.fail(e.key_node.Mark(), e.path, "key given twice");
    d.label_map[e.key] = r.integer(e, 0);
  }
  if (d.label_map.empty()) r.fail(l, "expected at least one label");
  // Class ids index the model's outputs, so they must be 0..K-1 with none missing.
  std::set<int64_t> ids;
  for (const auto& kv : d.label_map) ids.insert(kv.second);
  for (int64_t k = 0; k <= *ids.rbegin(); ++k)
    if (!ids.count(k))
      r.fail(l,
             "class ids must run from 0 with no gaps, but no label maps to " + std::to_string(k));
}

void check_clean_steps(const Reader& r, const Entry& c, const std::vector<std::string>& steps) {
  const std::vector<Entry> items = r.items(c);
  for (size_t i = 0; i < steps.size(); ++i) {
    try {
      data::Cleaner one({steps[i]});
    } catch (const std::exception& ex) {
      r.fail(items[i], ex.what());
    }
  }
}

// data.extra_tests: {name: source or list of sources, ...}. A name becomes a file-name prefix
// and a metrics key, so it is kept to letters, digits, '_' and '-', and may not shadow a split.
std::vector<NamedSources> parse_extra_tests(const Reader& r, const Entry& e, const Fields& dflt,
                                            const ParsedSources& train) {
  if (!e.value.IsMap() || e.value.size() == 0)
    r.type_error(e, "a map {name: source, ...} (e.g. {official: {file: test.csv}})");
  std::vector<NamedSources> out;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    Entry item{it->first.Scalar(), it->first, it->second, e.path + "." + it->first.Scalar()};
    const std::string& name = item.key;
    const bool ok_chars =
        !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '_' || c == '-';
        });
    if (!ok_chars)
      r.fail(item.key_node.Mark(), item.path,
             "a test set name may hold only letters, digits, '_' and '-' (it names output files)");
    for (const char* taken : {"train", "test", "validation", "val"})
      if (name == taken)
        r.fail(item.key_node.Mark(), item.path,
               "'" + name + "' is the name of a built-in split; choose another name");
    for (const NamedSources& prev : out)
      if (prev.name == name) r.fail(item.key_node.Mark(), item.path, "key given twice");
    NamedSources ns;
    ns.name = name;
    ns.loc = r.loc(item.where());
    ns.sources = parse_sources(r, item, dflt, &train).sources;
    out.push_back(std::move(ns));
  }
  return out;
}

}  // namespace

DataConfig parse_data(const Reader& r, const Entry& s) {
  DataConfig d;
  d.loc = r.loc(s.where());
  d.labels_loc = d.loc;
  const std::vector<std::string> keys = {
      "synthetic",        "train",       "test",        "test_split",   "validation",
      "validation_split", "extra_tests", "labels",      "drop_labels",  "clean",
      "format",           "header",      "text_column", "label_column", "label",
      "filter",           "encoding",    "on_bad_row",  "max_file_mb"};
  std::vector<Entry> all = r.entries(s.value, s.where(), s.path, keys, /*allow_null=*/false);
  const Entry *synthetic = nullptr, *train = nullptr, *test = nullptr, *test_split = nullptr,
              *validation = nullptr, *validation_split = nullptr, *extra = nullptr, *drop = nullptr;
  Fields dflt;
  for (const Entry& e : all) {
    if (read_field(r, e, dflt)) continue;
    if (e.key == "synthetic") {
      synthetic = &e;
      d.synthetic = parse_synthetic(r, e);
    } else if (e.key == "train")
      train = &e;
    else if (e.key == "test")
      test = &e;
    else if (e.key == "validation")
      validation = &e;
    else if (e.key == "test_split") {
      test_split = &e;
      d.test_split = r.number(e, kRate);
    } else if (e.key == "validation_split") {
      validation_split = &e;
      d.validation_split = r.number(e, kRate);
    } else if (e.key == "extra_tests")
      extra = &e;
    else if (e.key == "labels")
      parse_labels(r, e, d);
    else if (e.key == "drop_labels") {
      drop = &e;
      d.drop_labels = r.str_list(e);
    } else if (e.key == "clean") {
      d.clean = r.str_list(e);
      check_clean_steps(r, e, d.clean);
    } else if (e.key == "max_file_mb") {
      d.max_file_mb = r.integer(e, 1, int64_t{1} << 30);  // up to 1 PiB: no shift overflows
    }
  }
  if (synthetic) {
    for (const Entry& e : all)
      if (e.key != "synthetic")
        r.fail(
            e.key_node.Mark(), e.path,
            "a synthetic dataset takes no other data keys (remove '" + e.key + "' or 'synthetic')");
    return d;
  }
  if (!train)
    r.fail(s.where(), s.path + ".train",
           "missing required value (a data file path, or `synthetic: {}`)");
  if (test && test_split)
    r.fail(test_split->key_node.Mark(), test_split->path,
           "give either data.test or data.test_split, not both");
  ParsedSources tr = parse_sources(r, *train, dflt, nullptr);
  d.train = tr.sources;
  if (test) d.test = parse_sources(r, *test, dflt, &tr).sources;
  if (validation) d.validation = parse_sources(r, *validation, dflt, &tr).sources;
  if (validation && validation_split && d.validation_split > 0)
    r.fail(validation_split->key_node.Mark(), validation_split->path,
           "give either data.validation or data.validation_split, not both");
  if (extra) d.extra_tests = parse_extra_tests(r, *extra, dflt, tr);
  if (drop) {
    for (const std::string& l : d.drop_labels) {
      const bool mapped =
          d.label_map.count(l) || std::find(d.labels.begin(), d.labels.end(), l) != d.labels.end();
      if (mapped) r.fail(*drop, "label \"" + l + "\" is both a class in data.labels and dropped");
    }
  }
  return d;
}

}  // namespace ember::config_detail
