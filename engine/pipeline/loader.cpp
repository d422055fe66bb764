// load_dataset (see loader.h). Rows travel as (text, raw label, where it came from) until the
// labels are mapped, so every data error can name file:line. Files are cached by path and read
// options while the splits are gathered: IMDB's one CSV serves train and test but is parsed
// once. Cleaning and texts_to_sequences run on two threads (both are const and per text);
// the results do not depend on the thread count.
#include "engine/pipeline/loader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "engine/data/clean.h"
#include "engine/data/reader.h"
#include "engine/core/regular_file.h"
#include "engine/data/sequence.h"

namespace ember::data {

namespace fs = std::filesystem;

namespace {

// Streams of the stratified test and validation splits: apart from epoch shuffles (2^63 +
// epoch), dropout and each other.
constexpr uint64_t kTestSplitStream = (1ULL << 63) | (1ULL << 62);
constexpr uint64_t kValidationSplitStream = (1ULL << 63) | (1ULL << 60);

struct Row {
  std::string text;
  std::string label;  // raw
  const DataSource* source;
  int64_t line;
};

struct Split {
  std::vector<std::string> texts;
  std::vector<int32_t> labels;
};

std::string where(const DataSource& s) {
  return s.loc.str() + ": " + s.path;
}

// Runs f(i) for i in [0, n) on up to two threads, in contiguous chunks.
void parallel_for(size_t n, const std::function<void(size_t, size_t)>& f) {
  const size_t threads = n < 2000 ? 1 : std::min<size_t>(2, std::thread::hardware_concurrency());
  if (threads <= 1) {
    f(0, n);
    return;
  }
  const size_t half = n / 2;
  std::exception_ptr err;
  std::thread t([&] {
    try {
      f(half, n);
    } catch (...) {
      err = std::current_exception();
    }
  });
  f(0, half);
  t.join();
  if (err) std::rethrow_exception(err);
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
    const std::string key =
        path + '\n' + s.format + (s.header ? "h" : "-") + s.encoding + s.on_bad_row;
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
    const size_t text_col = s.format == "lines" ? 0 : column(t, s, "text_column", s.text_column);
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

bool parse_int(const std::string& s, long long* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0' && !std::isspace(static_cast<unsigned char>(s[0]));
}

// raw label -> class id, and the class names, from data.labels (or inferred from train).
struct LabelMap {
  std::map<std::string, int32_t> id;
  std::set<std::string> drop;
  std::vector<std::string> names;
};

LabelMap make_label_map(const DataConfig& d, const std::vector<Row>& train) {
  LabelMap m;
  m.drop.insert(d.drop_labels.begin(), d.drop_labels.end());
  if (!d.labels.empty()) {
    for (size_t i = 0; i < d.labels.size(); ++i) m.id[d.labels[i]] = static_cast<int32_t>(i);
    m.names = d.labels;
  } else if (!d.label_map.empty()) {
    int64_t k = 0;
    for (const auto& [raw, id] : d.label_map) k = std::max(k, id + 1);
    m.names.assign(k, "");
    for (const auto& [raw, id] : d.label_map) {
      m.id[raw] = static_cast<int32_t>(id);
      m.names[id] += (m.names[id].empty() ? "" : "|") + raw;
    }
  } else {
    // No labels given: the distinct training labels, in numeric order when all are integers
    // ("-1" < "0" < "1"), else in string order, as scikit-learn's LabelEncoder sorts.
    std::set<std::string> seen;
    for (const Row& r : train)
      if (!m.drop.count(r.label)) seen.insert(r.label);
    std::vector<std::string> v(seen.begin(), seen.end());
    long long a, b;
    bool numeric =
        std::all_of(v.begin(), v.end(), [&](const std::string& s) { return parse_int(s, &a); });
    if (numeric)
      std::stable_sort(v.begin(), v.end(), [&](const std::string& x, const std::string& y) {
        parse_int(x, &a);
        parse_int(y, &b);
        return a < b;
      });
    for (size_t i = 0; i < v.size(); ++i) m.id[v[i]] = static_cast<int32_t>(i);
    m.names = v;
  }
  return m;
}

struct Unknown {
  int64_t count = 0;
  std::string first;  // file:line (split)
};

// Rows -> (texts, class ids); dropped labels counted, unknown ones collected.
Split map_labels(std::vector<Row>& rows, const LabelMap& m, const char* split_name,
                 SplitReport* rep, std::map<std::string, Unknown>* unknown) {
  Split s;
  for (Row& r : rows) {
    if (m.drop.count(r.label)) {
      ++rep->dropped_labels[r.label];
      continue;
    }
    auto it = m.id.find(r.label);
    if (it == m.id.end()) {
      Unknown& u = (*unknown)[r.label];
      if (u.count++ == 0)
        u.first = r.source->file + ":" + std::to_string(r.line) + " (" + split_name + ")";
      continue;
    }
    s.texts.push_back(std::move(r.text));
    s.labels.push_back(it->second);
  }
  rows.clear();
  rows.shrink_to_fit();
  return s;
}

[[noreturn]] void unknown_labels_error(const DataConfig& d,
                                       const std::map<std::string, Unknown>& unknown) {
  std::vector<std::pair<std::string, Unknown>> v(unknown.begin(), unknown.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  const bool given = !d.labels.empty() || !d.label_map.empty();
  std::string msg = d.labels_loc.str() + ": data.labels: " + std::to_string(v.size()) +
                    " raw label" + (v.size() == 1 ? " is" : "s are") +
                    (given ? " neither in data.labels nor in data.drop_labels: "
                           : " not among the training labels: ");
  // Every label up to 20; past that the label column is most likely the wrong column.
  const size_t shown = std::min<size_t>(v.size(), 20);
  for (size_t i = 0; i < shown; ++i)
    msg += (i ? ", \"" : "\"") + v[i].first + "\" (" + std::to_string(v[i].second.count) +
           (v[i].second.count == 1 ? " row" : " rows") + ", first at " + v[i].second.first + ")";
  if (shown < v.size()) {
    int64_t rest = 0;
    for (size_t i = shown; i < v.size(); ++i) rest += v[i].second.count;
    msg += " and " + std::to_string(v.size() - shown) + " more (" + std::to_string(rest) +
           " rows; is label_column the right column?)";
  }
  msg += given ? "; add them to data.labels, or to data.drop_labels to drop their rows"
               : "; list the classes in data.labels";
  throw Error(msg);
}

void clean_split(const Cleaner& cleaner, Split* s, SplitReport* rep) {
  std::vector<char> keep(s->texts.size(), 1);
  parallel_for(s->texts.size(), [&](size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) {
      out.clear();
      if (cleaner.apply(s->texts[i], &out))
        s->texts[i].swap(out);
      else
        keep[i] = 0;
    }
  });
  size_t w = 0;
  for (size_t i = 0; i < s->texts.size(); ++i) {
    if (!keep[i]) {
      ++rep->dropped_by_clean;
      continue;
    }
    if (w != i) {
      s->texts[w] = std::move(s->texts[i]);
      s->labels[w] = s->labels[i];
    }
    ++w;
  }
  s->texts.resize(w);
  s->labels.resize(w);
}

// Stratified split: per-class sizes as scikit-learn's StratifiedShuffleSplit (the train share
// of each class by largest remainder, ties to the lower class id instead of at random; test
// takes the rest), rows picked and ordered by one seeded permutation. `key` names the config
// key in errors (data.test_split, data.validation_split), `held` the held-out side.
void stratified_split(Split* train, Split* test, double fraction, int64_t num_classes,
                      uint64_t seed, uint64_t stream, const SourceLoc& loc, const char* key,
                      const char* held) {
  const int64_t n = static_cast<int64_t>(train->labels.size());
  const int64_t n_test = static_cast<int64_t>(std::ceil(fraction * n));
  const int64_t n_train = n - n_test;
  if (n_test < num_classes || n_train < num_classes)
    throw Error(loc.str() + ": " + key + ": " + std::to_string(fraction) + " of " +
                std::to_string(n) + " rows leaves " + std::to_string(n_train) + " train and " +
                std::to_string(n_test) + " " + held +
                " rows; a stratified split needs at least one "
                "row per class (" +
                std::to_string(num_classes) + ") on each side");
  std::vector<int64_t> count(num_classes, 0);
  for (int32_t y : train->labels) ++count[y];
  std::vector<int64_t> take(num_classes);
  std::vector<double> rem(num_classes);
  int64_t given = 0;
  for (int64_t c = 0; c < num_classes; ++c) {
    const double exact = static_cast<double>(count[c]) / n * n_train;
    take[c] = static_cast<int64_t>(std::floor(exact));
    rem[c] = exact - take[c];
    given += take[c];
  }
  std::vector<int64_t> by_rem(num_classes);
  for (int64_t c = 0; c < num_classes; ++c) by_rem[c] = c;
  std::stable_sort(by_rem.begin(), by_rem.end(),
                   [&](int64_t a, int64_t b) { return rem[a] > rem[b]; });
  for (int64_t i = 0; given < n_train; ++i, ++given) ++take[by_rem[i % num_classes]];

  std::vector<int64_t> order = permutation(n, seed, stream);
  Split tr, te;
  std::vector<int64_t> taken(num_classes, 0);
  for (int64_t i : order) {
    const int32_t y = train->labels[i];
    Split& dst = taken[y]++ < take[y] ? tr : te;
    dst.texts.push_back(std::move(train->texts[i]));
    dst.labels.push_back(y);
  }
  *train = std::move(tr);
  *test = std::move(te);
}

std::vector<int64_t> counts_of(const std::vector<int32_t>& labels, size_t k) {
  std::vector<int64_t> c(k, 0);
  for (int32_t y : labels) ++c[y];
  return c;
}

std::vector<std::vector<int32_t>> to_sequences(const Tokenizer& tok,
                                               const std::vector<std::string>& texts) {
  std::vector<std::vector<int32_t>> seqs(texts.size());
  parallel_for(texts.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) seqs[i] = tok.text_to_sequence(texts[i]);
  });
  return seqs;
}

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

DataSplits load_dataset(const Config& cfg, const std::string& data_dir, LoadReport* report) {
  const DataConfig& d = cfg.data;
  if (!d.real())
    throw Error(d.loc.str() + ": data: no training data (give data.train, or data.synthetic)");
  LoadReport local;
  LoadReport& rep = report ? *report : local;
  rep.data_dir = data_dir;

  // 1. Rows of every split, with their raw labels.
  std::vector<Row> train_rows, test_rows, val_rows;
  std::vector<std::vector<Row>> extra_rows(d.extra_tests.size());
  rep.extra_tests.assign(d.extra_tests.size(), {});
  {
    Gatherer g(data_dir, &rep, static_cast<size_t>(d.max_file_mb) << 20);
    train_rows = g.rows(d.train, &rep.train);
    test_rows = g.rows(d.test, &rep.test);
    val_rows = g.rows(d.validation, &rep.validation);
    for (size_t i = 0; i < d.extra_tests.size(); ++i) {
      rep.extra_tests[i].first = d.extra_tests[i].name;
      extra_rows[i] = g.rows(d.extra_tests[i].sources, &rep.extra_tests[i].second);
    }
  }  // the parsed tables are freed here

  // 2. Labels.
  LabelMap labels = make_label_map(d, train_rows);
  std::map<std::string, Unknown> unknown;
  Split train = map_labels(train_rows, labels, "train", &rep.train, &unknown);
  Split test = map_labels(test_rows, labels, "test", &rep.test, &unknown);
  Split val = map_labels(val_rows, labels, "validation", &rep.validation, &unknown);
  std::vector<Split> extra(d.extra_tests.size());
  std::vector<std::string> extra_names(d.extra_tests.size());
  for (size_t i = 0; i < extra.size(); ++i) {
    extra_names[i] = "extra_tests." + d.extra_tests[i].name;
    extra[i] = map_labels(extra_rows[i], labels, extra_names[i].c_str(),
                          &rep.extra_tests[i].second, &unknown);
  }
  if (!unknown.empty()) unknown_labels_error(d, unknown);
  const size_t k = labels.names.size();
  if (train.texts.empty())
    throw Error(d.loc.str() +
                ": data.train: no rows left to train on (check the filters and "
                "drop_labels)");

  // 3. Cleaning.
  if (!d.clean.empty()) {
    Cleaner cleaner(d.clean);
    clean_split(cleaner, &train, &rep.train);
    clean_split(cleaner, &test, &rep.test);
    clean_split(cleaner, &val, &rep.validation);
    for (size_t i = 0; i < extra.size(); ++i)
      clean_split(cleaner, &extra[i], &rep.extra_tests[i].second);
  }

  // 4. Stratified test split of the cleaned training rows, then the validation split of what
  // is left (both before the tokenizer: it sees neither).
  if (d.test_split > 0) {
    stratified_split(&train, &test, d.test_split, static_cast<int64_t>(k), cfg.seed,
                     kTestSplitStream, d.loc, "data.test_split", "test");
    rep.test_from_split = true;
  }
  if (d.validation_split > 0) {
    stratified_split(&train, &val, d.validation_split, static_cast<int64_t>(k), cfg.seed,
                     kValidationSplitStream, d.loc, "data.validation_split", "validation");
    rep.validation_from_split = true;
  }

  // 5. Tokenizer on the training texts only, then ids and padding for every split.
  if (rep.fitted) {
    rep.tokenizer = *rep.fitted;
  } else {
    rep.tokenizer = Tokenizer(cfg.tokenizer);
    rep.tokenizer.fit_on_texts(train.texts);
  }
  std::vector<std::vector<int32_t>> seq_train = to_sequences(rep.tokenizer, train.texts);
  std::vector<std::vector<int32_t>> seq_test = to_sequences(rep.tokenizer, test.texts);
  std::vector<std::vector<int32_t>> seq_val = to_sequences(rep.tokenizer, val.texts);
  std::vector<std::vector<std::vector<int32_t>>> seq_extra(extra.size());
  for (size_t i = 0; i < extra.size(); ++i)
    seq_extra[i] = to_sequences(rep.tokenizer, extra[i].texts);
  int64_t maxlen = cfg.sequence.maxlen;
  if (maxlen <= 0) {  // Keras's maxlen=None: the longest training sequence
    maxlen = 1;
    for (const auto& s : seq_train) maxlen = std::max<int64_t>(maxlen, s.size());
  }
  rep.maxlen = maxlen;

  DataSplits out;
  out.class_names = labels.names;
  // Token id -> word for the ids the data can hold: "" (padding), then word_index order.
  const int64_t ids =
      std::min<int64_t>(rep.tokenizer.vocab_size(), rep.tokenizer.index_word().size() + 1);
  out.vocab.reserve(ids);
  out.vocab.push_back("");
  for (int64_t i = 1; i < ids; ++i) out.vocab.push_back(rep.tokenizer.index_word()[i - 1]);

  auto finish = [&](Split& s, std::vector<std::vector<int32_t>>& seqs, SplitReport& r,
                    Dataset& ds) {
    r.rows = static_cast<int64_t>(s.labels.size());
    r.class_counts = counts_of(s.labels, k);
    if (s.labels.empty()) return;
    ds.tokens = pad_sequences(seqs, maxlen, cfg.sequence.padding, cfg.sequence.truncating,
                              static_cast<int32_t>(cfg.sequence.value));
    ds.labels = Tensor::empty({r.rows}, DType::kInt32);
    std::copy(s.labels.begin(), s.labels.end(), ds.labels.data<int32_t>());
    if (rep.keep_texts) {
      r.texts = std::move(s.texts);
      r.sequence_lengths.reserve(seqs.size());
      for (const auto& q : seqs) r.sequence_lengths.push_back(static_cast<int32_t>(q.size()));
    }
    seqs.clear();
    seqs.shrink_to_fit();
  };
  finish(train, seq_train, rep.train, out.train);
  finish(test, seq_test, rep.test, out.test);
  finish(val, seq_val, rep.validation, out.val);
  for (size_t i = 0; i < extra.size(); ++i) {
    out.extra_tests.emplace_back(d.extra_tests[i].name, Dataset());
    finish(extra[i], seq_extra[i], rep.extra_tests[i].second, out.extra_tests.back().second);
  }

  // Keras's validation_split takes the last rows before shuffling: in file order (two
  // files, one per class) that can be a single class.
  const double vs = cfg.train.validation_split;
  if (vs > 0 && !rep.test_from_split) {
    const int64_t n = rep.train.rows;
    const int64_t at = static_cast<int64_t>(std::floor(n * (1.0 - vs)));
    std::set<int32_t> classes(train.labels.begin() + at, train.labels.end());
    if (at < n && classes.size() == 1 && k > 1)
      rep.warnings.push_back("train.validation_split takes the last " + std::to_string(n - at) +
                             " training rows (before shuffling, as "
                             "Keras does), and they are all class '" +
                             labels.names[*classes.begin()] +
                             "': the rows are in file order; "
                             "use data.validation_split or data.validation instead");
  }
  if (vs > 0 && !d.validation.empty())
    rep.warnings.push_back(
        "data.validation is not used: train.validation_split is set and "
        "takes precedence");
  return out;
}

}  // namespace ember::data
