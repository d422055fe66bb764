// load_dataset (see loader.h). Rows travel as (text, raw label, where it came from) until the
// labels are mapped, so every data error can name file:line. Files are cached by path and read
// options while the splits are gathered: IMDB's one CSV serves train and test but is parsed
// once. Every split (train, test, validation, then each extra test) goes through the same
// named steps in one loop each, in that order (the order matters only for which row an
// unknown-label error names first); the per-row steps live in splits.h.
#include "engine/pipeline/loader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "engine/core/regular_file.h"
#include "engine/data/clean.h"
#include "engine/data/reader.h"
#include "engine/data/sequence.h"
#include "engine/pipeline/splits.h"

namespace ember::data {

namespace fs = std::filesystem;

namespace {

using detail::Row;
using detail::Split;

// Streams of the stratified test and validation splits: apart from epoch shuffles (2^63 +
// epoch), dropout and each other.
constexpr uint64_t kTestSplitStream = (1ULL << 63) | (1ULL << 62);
constexpr uint64_t kValidationSplitStream = (1ULL << 63) | (1ULL << 60);

std::string where(const DataSource& s) {
  return s.loc.str() + ": " + s.path;
}

class Gatherer {
 public:
  Gatherer(std::string dir, LoadReport* report, size_t max_bytes)
      : dir_(std::move(dir)), report_(report), max_bytes_(max_bytes) {}

  std::vector<Row> rows(const std::vector<DataSource>& sources, SplitReport* split) {
    std::vector<Row> out;
    for (const DataSource& s : sources) add(s, split, &out);
    return out;
  }

 private:
  std::string resolve(const DataSource& s) const {
    fs::path p(s.file);
    if (p.is_absolute()) return p.string();
    return (fs::path(dir_) / p).lexically_normal().string();
  }

  const Table& table(const DataSource& s) {
    const std::string path = resolve(s);
    const std::string key = path + '\n' + data::table_format_name(s.format) +
                            (s.header ? "h" : "-") + data::text_encoding_name(s.encoding) +
                            data::bad_rows_name(s.on_bad_row);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    std::error_code ec;
    if (!fs::exists(path, ec))
      throw Error(where(s) + ": data file not found: " + path +
                  " (data paths are relative to the data directory '" + dir_ +
                  "'; pass --data-dir DIR or set EMBER_DATA)");
    try {
      require_regular_file(path, "data file ");  // a directory, FIFO or device: say which
    } catch (const Error& e) {
      throw Error(where(s) + ": " + e.what());
    }
    ReadOptions o;
    o.format = s.format;
    o.header = s.header;
    o.encoding = s.encoding;
    o.on_bad_row = s.on_bad_row;
    o.max_bytes = max_bytes_;
    o.limit_name = "data.max_file_mb";
    Table t;
    try {
      t = read_table(path, o);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(e.what());
    }
    FileReport f;
    f.path = path;
    f.rows = static_cast<int64_t>(t.rows.size());
    f.skipped_rows = t.skipped_rows;
    f.skipped_lines = t.skipped_lines;
    if (report_) report_->files.push_back(f);
    return cache_.emplace(key, std::move(t)).first->second;
  }

  static size_t column(const Table& t, const DataSource& s, const std::string& key,
                       const std::string& name) {
    try {
      return t.column_index(name);
    } catch (const std::exception& e) {
      throw Error(where(s) + "." + key + ": " + e.what());
    }
  }

  void add(const DataSource& s, SplitReport* split, std::vector<Row>* out) {
    const Table& t = table(s);
    const size_t text_col =
        s.format == data::TableFormat::kLines ? 0 : column(t, s, "text_column", s.text_column);
    const size_t label_col = s.label ? 0 : column(t, s, "label_column", s.label_column);
    std::vector<std::pair<size_t, const std::string*>> filter;
    for (const auto& [col, value] : s.filter)
      filter.emplace_back(column(t, s, "filter." + col, col), &value);
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const std::vector<std::string>& r = t.rows[i];
      bool keep = true;
      for (const auto& [col, value] : filter) keep = keep && r[col] == *value;
      if (!keep) {
        ++split->filtered_out;
        continue;
      }
      out->push_back({r[text_col], s.label ? *s.label : r[label_col], &s, t.line_numbers[i]});
    }
  }

  std::string dir_;
  LoadReport* report_;
  std::map<std::string, Table> cache_;
  size_t max_bytes_;
};

}  // namespace

std::string resolve_data_dir(const std::string& cli) {
  if (!cli.empty()) return cli;
  const char* env = std::getenv("EMBER_DATA");
  if (env && *env) return env;
  return "data";
}

void check_embedding_fits(const Config& cfg, int64_t vocab_size, const std::string& why) {
  for (size_t i = 0; i < cfg.model.size(); ++i) {
    const LayerConfig& l = cfg.model[i];
    const auto* emb = std::get_if<EmbeddingOptions>(&l.options);
    if (!emb) continue;
    if (emb->input_dim < vocab_size) {
      const std::string name = l.name.empty() ? "embedding" : l.name;
      throw Error(l.loc.str() + ": model[" + std::to_string(i) + "].Embedding.input_dim: layer '" +
                  name + "' (Embedding) has input_dim " + std::to_string(emb->input_dim) +
                  ", but the data uses token ids up to " + std::to_string(vocab_size - 1) + " (" +
                  why + "); set input_dim: " + std::to_string(vocab_size) +
                  " or lower tokenizer.num_words");
    }
    return;  // only the first Embedding reads token ids
  }
}

namespace {

// One split on its way through the pipeline: where its rows come from, what they become, and
// where its report and padded dataset go. Index 0 is train, 1 test, 2 validation, then the
// extra tests in config order.
struct SplitWork {
  std::string name;  // "train", "test", "validation", "extra_tests.<name>" (label errors)
  const std::vector<DataSource>* sources;
  SplitReport* report;
  Dataset* out;
  std::vector<Row> rows;
  Split split;
  std::vector<std::vector<int32_t>> seqs;
};
constexpr size_t kTrain = 0, kTest = 1, kValidation = 2;

// The named splits, with rep.extra_tests and out.extra_tests sized and named (so that the
// pointers into them stay valid).
std::vector<SplitWork> named_splits(const DataConfig& d, LoadReport& rep, DataSplits& out) {
  rep.extra_tests.assign(d.extra_tests.size(), {});
  out.extra_tests.clear();
  for (const NamedSources& e : d.extra_tests) out.extra_tests.emplace_back(e.name, Dataset());
  std::vector<SplitWork> w;
  w.push_back({"train", &d.train, &rep.train, &out.train, {}, {}, {}});
  w.push_back({"test", &d.test, &rep.test, &out.test, {}, {}, {}});
  w.push_back({"validation", &d.validation, &rep.validation, &out.val, {}, {}, {}});
  for (size_t i = 0; i < d.extra_tests.size(); ++i) {
    rep.extra_tests[i].first = d.extra_tests[i].name;
    w.push_back({"extra_tests." + d.extra_tests[i].name,
                 &d.extra_tests[i].sources,
                 &rep.extra_tests[i].second,
                 &out.extra_tests[i].second,
                 {},
                 {},
                 {}});
  }
  return w;
}

// 1. Rows of every split, with their raw labels; the parsed tables are freed on return.
void read_rows(const DataConfig& d, const std::string& data_dir, LoadReport& rep,
               std::vector<SplitWork>& splits) {
  Gatherer g(data_dir, &rep, static_cast<size_t>(d.max_file_mb) << 20);
  for (SplitWork& w : splits) w.rows = g.rows(*w.sources, w.report);
}

// 2. Labels: raw label -> class id for every split; unknown labels are one error for all.
detail::LabelMap map_all_labels(const DataConfig& d, std::vector<SplitWork>& splits) {
  detail::LabelMap labels = detail::make_label_map(d, splits[kTrain].rows);
  std::map<std::string, detail::Unknown> unknown;
  for (SplitWork& w : splits)
    w.split = detail::map_labels(w.rows, labels, w.name.c_str(), w.report, &unknown);
  if (!unknown.empty()) detail::unknown_labels_error(d, unknown);
  if (splits[kTrain].split.texts.empty())
    throw Error(d.loc.str() +
                ": data.train: no rows left to train on (check the filters and "
                "drop_labels)");
  return labels;
}

// 4. Stratified test split of the cleaned training rows, then the validation split of what
// is left (both before the tokenizer: it sees neither).
void hold_out(const Config& cfg, int64_t k, LoadReport& rep, std::vector<SplitWork>& splits) {
  const DataConfig& d = cfg.data;
  Split* train = &splits[kTrain].split;
  if (d.test_split > 0) {
    detail::stratified_split(train, &splits[kTest].split, d.test_split, k, cfg.seed,
                             kTestSplitStream, d.loc, "data.test_split", "test");
    rep.test_from_split = true;
  }
  if (d.validation_split > 0) {
    detail::stratified_split(train, &splits[kValidation].split, d.validation_split, k, cfg.seed,
                             kValidationSplitStream, d.loc, "data.validation_split", "validation");
    rep.validation_from_split = true;
  }
}

// 5. The tokenizer on the training texts only (or the one given), every split's ids, and the
// padded length: sequence.maxlen, or Keras's maxlen=None, the longest training sequence.
void tokenize(const Config& cfg, LoadReport& rep, std::vector<SplitWork>& splits) {
  if (rep.fitted) {
    rep.tokenizer = *rep.fitted;
  } else {
    rep.tokenizer = Tokenizer(cfg.tokenizer);
    rep.tokenizer.fit_on_texts(splits[kTrain].split.texts);
  }
  for (SplitWork& w : splits) w.seqs = detail::to_sequences(rep.tokenizer, w.split.texts);
  int64_t maxlen = cfg.sequence.maxlen;
  if (maxlen <= 0) {
    maxlen = 1;
    for (const auto& s : splits[kTrain].seqs) maxlen = std::max<int64_t>(maxlen, s.size());
  }
  rep.maxlen = maxlen;
}

// Token id -> word for the ids the data can hold: "" (padding), then word_index order.
std::vector<std::string> vocab_of(const Tokenizer& tok) {
  const int64_t ids = std::min<int64_t>(tok.vocab_size(), tok.index_word().size() + 1);
  std::vector<std::string> vocab;
  vocab.reserve(ids);
  vocab.push_back("");
  for (int64_t i = 1; i < ids; ++i) vocab.push_back(tok.index_word()[i - 1]);
  return vocab;
}

// 6. One split's report, padded tokens and labels (texts and lengths kept when asked).
void finish(const Config& cfg, size_t k, int64_t maxlen, bool keep_texts, SplitWork& w) {
  SplitReport& r = *w.report;
  Split& s = w.split;
  r.rows = static_cast<int64_t>(s.labels.size());
  r.class_counts = detail::counts_of(s.labels, k);
  if (s.labels.empty()) return;
  w.out->tokens = pad_sequences(w.seqs, maxlen, cfg.sequence.padding, cfg.sequence.truncating,
                                static_cast<int32_t>(cfg.sequence.value));
  w.out->labels = Tensor::empty({r.rows}, DType::kInt32);
  std::copy(s.labels.begin(), s.labels.end(), w.out->labels.data<int32_t>());
  if (keep_texts) {
    r.texts = std::move(s.texts);
    r.sequence_lengths.reserve(w.seqs.size());
    for (const auto& q : w.seqs) r.sequence_lengths.push_back(static_cast<int32_t>(q.size()));
  }
  w.seqs.clear();
  w.seqs.shrink_to_fit();
}

// 7. What the user should look at. Keras's validation_split takes the last rows before
// shuffling: in file order (two files, one per class) that can be a single class.
void warn_validation(const Config& cfg, const std::vector<int32_t>& train_labels,
                     const detail::LabelMap& labels, LoadReport& rep) {
  const double vs = cfg.train.validation_split;
  if (vs > 0 && !rep.test_from_split) {
    const int64_t n = rep.train.rows;
    const int64_t at = static_cast<int64_t>(std::floor(n * (1.0 - vs)));
    std::set<int32_t> classes(train_labels.begin() + at, train_labels.end());
    if (at < n && classes.size() == 1 && labels.names.size() > 1)
      rep.warnings.push_back("train.validation_split takes the last " + std::to_string(n - at) +
                             " training rows (before shuffling, as "
                             "Keras does), and they are all class '" +
                             labels.names[*classes.begin()] +
                             "': the rows are in file order; "
                             "use data.validation_split or data.validation instead");
  }
  if (vs > 0 && !cfg.data.validation.empty())
    rep.warnings.push_back(
        "data.validation is not used: train.validation_split is set and "
        "takes precedence");
}

}  // namespace

DataSplits load_dataset(const Config& cfg, const std::string& data_dir, LoadReport* report) {
  const DataConfig& d = cfg.data;
  if (!d.real())
    throw Error(d.loc.str() + ": data: no training data (give data.train, or data.synthetic)");
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  rep.data_dir = data_dir;

  DataSplits out;
  std::vector<SplitWork> splits = named_splits(d, rep, out);
  read_rows(d, data_dir, rep, splits);
  const detail::LabelMap labels = map_all_labels(d, splits);
  const size_t k = labels.names.size();
  if (!d.clean.empty()) {  // 3. Cleaning.
    Cleaner cleaner(d.clean);
    for (SplitWork& w : splits) detail::clean_split(cleaner, &w.split, w.report);
  }
  hold_out(cfg, static_cast<int64_t>(k), rep, splits);
  tokenize(cfg, rep, splits);
  out.class_names = labels.names;
  out.vocab = vocab_of(rep.tokenizer);
  for (SplitWork& w : splits) finish(cfg, k, rep.maxlen, rep.keep_texts, w);
  warn_validation(cfg, splits[kTrain].split.labels, labels, rep);
  return out;
}

}  // namespace ember::data
