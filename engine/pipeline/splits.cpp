// The split steps of load_dataset (see splits.h): label mapping, cleaning, the stratified
// hold-out splits and texts_to_sequences.
#include "engine/pipeline/splits.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <thread>

#include "engine/data/dataset.h"

namespace ember::data::detail {

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

namespace {

bool parse_int(const std::string& s, long long* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0' && !std::isspace(static_cast<unsigned char>(s[0]));
}

}  // namespace

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

}  // namespace ember::data::detail
