// Config loading: YAML text -> the typed Config of engine/config/config.h. This file holds the
// entry points and the top-level, tokenizer and sequence sections; the data section is in
// data_section.cpp, the model list in model_section.cpp (through the layer registry) and the
// train section in train_section.cpp. Every error is a ConfigError that starts with
// "file:line:column:" (1-based) and names the key path. Checks that span sections
// (sequence.maxlen needed by a model) run after all sections are read.
#include "engine/parse/load_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/config/config_reader.h"
#include "engine/core/regular_file.h"
#include "engine/data/unicode.h"
#include "engine/parse/sections.h"

namespace ember {

namespace config_detail {
namespace {

// The Tokenizer refuses an oov_token, filters or split that is not valid UTF-8: say so here,
// with the file and key, rather than when training or predict builds it.
std::string utf8_str(const Reader& r, const Entry& e) {
  std::string v = r.str(e);
  if (!data::unicode::is_valid(v)) r.fail(e, "is not valid UTF-8");
  return v;
}

TokenizerConfig parse_tokenizer(const Reader& r, const Entry& s) {
  TokenizerConfig t;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path,
                 {"num_words", "oov_token", "filters", "lower", "split", "char_level"})) {
    if (e.key == "num_words") {
      if (e.value.IsNull())
        t.num_words.reset();
      else
        t.num_words = r.positive_int(e);
    } else if (e.key == "oov_token") {
      if (e.value.IsNull())
        t.oov_token.reset();
      else
        t.oov_token = utf8_str(r, e);
    } else if (e.key == "filters") {
      t.filters = e.value.IsNull() ? std::string() : utf8_str(r, e);
    } else if (e.key == "lower")
      t.lower = r.boolean(e);
    else if (e.key == "split")
      t.split = utf8_str(r, e);
    else if (e.key == "char_level")
      t.char_level = r.boolean(e);
  }
  if (t.split.empty() && !t.char_level) r.fail(s.where(), s.path + ".split", "must not be empty");
  return t;
}

SequenceConfig parse_sequence(const Reader& r, const Entry& s) {
  SequenceConfig q;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path, {"maxlen", "padding", "truncating", "value"})) {
    if (e.key == "maxlen")
      q.maxlen = r.positive_int(e);
    else if (e.key == "padding")
      q.padding = r.pick(e, {PadSide::kPre, PadSide::kPost}, pad_side_name);
    else if (e.key == "truncating")
      q.truncating = r.pick(e, {PadSide::kPre, PadSide::kPost}, pad_side_name);
    else if (e.key == "value")
      q.value = r.integer(e, 0, INT32_MAX);  // a token id
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
  const Entry* data = nullptr;
  std::vector<Entry> top = r.entries(
      root, start, "", {"name", "seed", "data", "tokenizer", "sequence", "model", "train"},
      /*allow_null=*/false);
  for (const Entry& e : top) {
    if (e.key == "name") {
      c.name = r.str(e);
      if (c.name.empty()) r.fail(e, "must not be empty");
      // The default run directory is runs/<name>: one plain component, never a way out.
      const bool control = std::any_of(c.name.begin(), c.name.end(),
                                       [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
      if (c.name == "." || c.name == ".." || control ||
          c.name.find_first_of("/\\") != std::string::npos)
        r.fail(e, "\"" + c.name +
                      "\" cannot name a run directory (runs/<name>): use no '/', "
                      "'\\' or control characters, and not '.' or '..'");
    } else if (e.key == "seed")
      c.seed = static_cast<uint64_t>(r.integer(e, 0));
    else if (e.key == "data") {
      data = &e;
      c.data = parse_data(r, e);
    } else if (e.key == "tokenizer")
      c.tokenizer = parse_tokenizer(r, e);
    else if (e.key == "sequence") {
      sequence = &e;
      c.sequence = parse_sequence(r, e);
    } else if (e.key == "model") {
      model = &e;
      c.model = parse_model(r, e);
    } else if (e.key == "train")
      c.train = parse_train(r, e);
  }
  if (data && c.data.validation_split > 0 && c.train.validation_split > 0)
    r.fail(data->where(), "data.validation_split",
           "give either data.validation_split (stratified) or train.validation_split (Keras's "
           "last rows), not both");
  // The padding id is looked up like any token: the first Embedding must hold it, or the
  // first batch would fail (or, with mask_zero, a non-zero pad would be read as a word).
  if (sequence && !c.model.empty())
    if (const auto* emb = std::get_if<EmbeddingOptions>(&c.model.front().options))
      if (c.sequence.value >= emb->input_dim)
        for (const Entry& e : r.entries(sequence->value, sequence->where(), sequence->path,
                                        {"maxlen", "padding", "truncating", "value"}))
          if (e.key == "value")
            r.fail(e, "padding id " + std::to_string(c.sequence.value) +
                          " is not below the Embedding's input_dim " +
                          std::to_string(emb->input_dim) + " (" + c.model.front().loc.str() +
                          "); padding ids are token ids, usually 0");
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
  Config c = config_detail::parse_root(reader, root);
  c.text = yaml_text;
  return c;
}

Config with_seed(const Config& c, uint64_t seed) {
  const std::string line = "seed: " + std::to_string(seed);
  const std::string fail = c.path + ": --seed " + std::to_string(seed) +
                           ": cannot write the seed into this config's text; put `" + line +
                           "` in the file instead";
  YAML::Node root;
  try {
    root = YAML::Load(c.text);
  } catch (const YAML::Exception&) {
    throw ConfigError(fail);
  }
  if (!root.IsMap() || root.size() == 0 || root.Style() == YAML::EmitterStyle::Flow)
    throw ConfigError(fail);
  // The line (0-based) to replace, or to insert before: where the top-level key sits.
  int at = -1;
  bool replace = false;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Mark m = it->first.Mark();
    if (at < 0) at = m.line;
    if (it->first.as<std::string>() == "seed") {
      if (m.column != 0) throw ConfigError(fail);
      at = m.line;
      replace = true;
      break;
    }
  }
  std::istringstream in(c.text);
  std::string out, l;
  for (int n = 0; std::getline(in, l); ++n) {
    if (n == at) {
      out += line + "  # from --seed\n";
      if (replace) continue;
    }
    out += l + "\n";
  }
  Config r;
  try {
    r = parse_config(out, c.path);
  } catch (const ConfigError&) {
    throw ConfigError(fail);
  }
  if (r.seed != seed) throw ConfigError(fail);
  return r;
}

Config load_config(const std::string& path) {
  // Checked before opening: opening a FIFO for reading blocks until someone writes to it.
  try {
    require_regular_file(path, "config file ");  // a directory or FIFO: say which
  } catch (const Error& e) {
    throw ConfigError(e.what());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file (does it exist?)");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": error while reading the config file");
  return parse_config(text.str(), path);
}

}  // namespace ember
