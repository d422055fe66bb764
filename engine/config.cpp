// Config loading: YAML text -> the typed Config of engine/config.h. This file holds the entry
// points and the top-level, data, tokenizer and sequence sections; the model list is in
// config_layers.cpp and the train section in config_train.cpp. Every error is a ConfigError
// that starts with "file:line:column:" (1-based) and names the key path. Checks that span
// sections (sequence.maxlen needed by a model) run after all sections are read.
#include "engine/config.h"

#include <fstream>
#include <sstream>

#include "engine/config_reader.h"

namespace ember {

std::string SourceLoc::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

namespace config_detail {
namespace {

SyntheticConfig parse_synthetic(const Reader& r, const Entry& s) {
  SyntheticConfig c;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path, {"n_train", "n_val", "n_test", "maxlen", "seed"})) {
    if (e.key == "n_train") c.n_train = r.positive_int(e);
    else if (e.key == "n_val") c.n_val = r.integer(e, 0);
    else if (e.key == "n_test") c.n_test = r.integer(e, 0);
    else if (e.key == "maxlen") c.maxlen = r.integer(e, 4);  // texts are 4..maxlen tokens
    else if (e.key == "seed") c.seed = static_cast<uint64_t>(r.integer(e, 0));
  }
  return c;
}

std::map<std::string, std::string> parse_filter(const Reader& r, const Entry& f) {
  std::map<std::string, std::string> out;
  if (!f.value.IsMap()) r.type_error(f, "a map {column: value}");
  for (auto it = f.value.begin(); it != f.value.end(); ++it) {
    Entry e{it->first.Scalar(), it->first, it->second, f.path + "." + it->first.Scalar()};
    if (out.count(e.key)) r.fail(e.key_node.Mark(), e.path, "key given twice");
    out[e.key] = r.str(e);
  }
  return out;
}

void parse_labels(const Reader& r, const Entry& l, DataConfig& d) {
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
}

void parse_test(const Reader& r, const Entry& t, DataConfig& d) {
  if (t.value.IsScalar()) {
    d.test = r.str(t);
    return;
  }
  if (!t.value.IsMap()) r.type_error(t, "a file path or a map {file, filter}");
  for (const Entry& e : r.entries(t.value, t.where(), t.path, {"file", "filter"})) {
    if (e.key == "file") d.test = r.str(e);
    else d.test_filter = parse_filter(r, e);
  }
}

DataConfig parse_data(const Reader& r, const Entry& s) {
  DataConfig d;
  d.loc = r.loc(s.where());
  const std::vector<std::string> keys = {
      "synthetic", "train",      "format",   "filter", "text_column", "label_column",
      "labels",    "test",       "test_split", "validation", "clean", "encoding",
      "on_bad_row", "label"};
  std::vector<Entry> all = r.entries(s.value, s.where(), s.path, keys, /*allow_null=*/false);
  const Entry* synthetic = nullptr;
  const Entry* test = nullptr;
  const Entry* test_split = nullptr;
  bool has_train = false;
  for (const Entry& e : all) {
    if (e.key == "synthetic") {
      synthetic = &e;
      d.synthetic = parse_synthetic(r, e);
    } else if (e.key == "train") {
      d.train = r.str(e);
      has_train = true;
    } else if (e.key == "format") d.format = r.choice(e, {"csv", "tsv", "lines"});
    else if (e.key == "filter") d.filter = parse_filter(r, e);
    else if (e.key == "text_column") d.text_column = r.str(e);
    else if (e.key == "label_column") d.label_column = r.str(e);
    else if (e.key == "labels") parse_labels(r, e, d);
    else if (e.key == "test") {
      test = &e;
      parse_test(r, e, d);
    } else if (e.key == "test_split") {
      test_split = &e;
      d.test_split = r.number(e, kRate);
    } else if (e.key == "validation") d.validation = r.str(e);
    else if (e.key == "clean") d.clean = r.str_list(e);
    else if (e.key == "encoding") d.encoding = r.str(e);
    else if (e.key == "on_bad_row") d.on_bad_row = r.choice(e, {"error", "skip"});
    else if (e.key == "label") d.label = r.integer(e, 0);
  }
  if (synthetic) {
    for (const Entry& e : all)
      if (e.key != "synthetic")
        r.fail(e.key_node.Mark(), e.path,
               "a synthetic dataset takes no other data keys (remove '" + e.key +
                   "' or 'synthetic')");
  } else if (!has_train) {
    r.fail(s.where(), s.path + ".train",
           "missing required value (a data file path, or `synthetic: {}`)");
  }
  if (test && test_split)
    r.fail(test_split->key_node.Mark(), test_split->path,
           "give either data.test or data.test_split, not both");
  return d;
}

TokenizerConfig parse_tokenizer(const Reader& r, const Entry& s) {
  TokenizerConfig t;
  for (const Entry& e : r.entries(s.value, s.where(), s.path,
                                  {"num_words", "oov_token", "filters", "lower", "split",
                                   "char_level"})) {
    if (e.key == "num_words") {
      if (e.value.IsNull()) t.num_words.reset();
      else t.num_words = r.positive_int(e);
    } else if (e.key == "oov_token") {
      if (e.value.IsNull()) t.oov_token.reset();
      else t.oov_token = r.str(e);
    } else if (e.key == "filters") {
      t.filters = e.value.IsNull() ? std::string() : r.str(e);
    } else if (e.key == "lower") t.lower = r.boolean(e);
    else if (e.key == "split") t.split = r.str(e);
    else if (e.key == "char_level") t.char_level = r.boolean(e);
  }
  if (t.split.empty() && !t.char_level) r.fail(s.where(), s.path + ".split", "must not be empty");
  return t;
}

SequenceConfig parse_sequence(const Reader& r, const Entry& s) {
  SequenceConfig q;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path, {"maxlen", "padding", "truncating", "value"})) {
    if (e.key == "maxlen") q.maxlen = r.positive_int(e);
    else if (e.key == "padding") q.padding = r.choice(e, {"pre", "post"});
    else if (e.key == "truncating") q.truncating = r.choice(e, {"pre", "post"});
    else if (e.key == "value") q.value = r.integer(e, INT32_MIN, INT32_MAX);
  }
  return q;
}

Config parse_root(const Reader& r, const YAML::Node& root) {
  Config c;
  c.path = r.file();
  YAML::Mark start;  // 0:0, the top of the file
  if (!root.IsDefined() || root.IsNull()) r.fail(start, "", "the config is empty");
  const Entry* model = nullptr;
  const Entry* sequence = nullptr;
  std::vector<Entry> top = r.entries(root, start, "",
                                     {"name", "seed", "data", "tokenizer", "sequence", "model",
                                      "train"},
                                     /*allow_null=*/false);
  for (const Entry& e : top) {
    if (e.key == "name") {
      c.name = r.str(e);
      if (c.name.empty()) r.fail(e, "must not be empty");
    } else if (e.key == "seed") c.seed = static_cast<uint64_t>(r.integer(e, 0));
    else if (e.key == "data") c.data = parse_data(r, e);
    else if (e.key == "tokenizer") c.tokenizer = parse_tokenizer(r, e);
    else if (e.key == "sequence") {
      sequence = &e;
      c.sequence = parse_sequence(r, e);
    } else if (e.key == "model") {
      model = &e;
      c.model = parse_model(r, e);
    } else if (e.key == "train") c.train = parse_train(r, e);
  }
  if (model && !c.model.empty() && c.sequence.maxlen <= 0) {
    if (sequence)
      r.fail(sequence->where(), "sequence.maxlen",
             "missing required value (the padded sequence length the model reads)");
    r.fail(model->key_node.Mark(), "sequence.maxlen",
           "missing required value: a model needs `sequence: {maxlen: N}`");
  }
  return c;
}

}  // namespace
}  // namespace config_detail

Config parse_config(const std::string& yaml_text, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    SourceLoc l{file_name, e.mark.line >= 0 ? e.mark.line + 1 : 1,
                e.mark.column >= 0 ? e.mark.column + 1 : 1};
    throw ConfigError(l.str() + ": YAML syntax error: " + e.msg);
  }
  config_detail::Reader reader(file_name);
  return config_detail::parse_root(reader, root);
}

Config load_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file (does it exist?)");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": error while reading the config file");
  return parse_config(text.str(), path);
}

}  // namespace ember
