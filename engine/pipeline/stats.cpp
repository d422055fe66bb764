// Dataset statistics for `ember data` (see stats.h). Word-level numbers (OOV rate) re-split
// the cleaned texts with the fitted tokenizer's own words(), so they count exactly the words
// texts_to_sequences saw; token lengths come from the loader's unpadded sequence lengths.
#include "engine/pipeline/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ember::data {

namespace {

int64_t code_points(const std::string& s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // every byte but UTF-8 continuations
  return n;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// One decimal, without a trailing ".0": 617, 435.8.
std::string number(double v) {
  std::string t = fmt("%.1f", v);
  if (t.size() > 2 && t.compare(t.size() - 2, 2, ".0") == 0) t.resize(t.size() - 2);
  return t;
}

std::string pct(double share) {
  return fmt("%.1f%%", 100.0 * share);
}

std::string pad_left(const std::string& s, size_t w) {
  return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}
std::string pad_right(const std::string& s, size_t w) {
  return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}

SplitStats split_stats(const char* name, const SplitReport& r, const Tokenizer& tok,
                       int64_t maxlen) {
  SplitStats s;
  s.name = name;
  s.rows = r.rows;
  s.class_counts = r.class_counts;
  s.filtered_out = r.filtered_out;
  s.dropped_labels = r.dropped_labels;
  s.dropped_by_clean = r.dropped_by_clean;
  for (int32_t len : r.sequence_lengths) s.truncated += len > maxlen;
  const std::optional<int64_t> nw = tok.config().num_words;
  for (const std::string& t : r.texts) {
    for (const std::string& w : tok.words(t)) {
      const int32_t id = tok.index_of(w);
      ++s.words;
      s.oov_words += id == 0 || (nw && id >= *nw);
    }
  }
  return s;
}

}  // namespace

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  p.count = static_cast<int64_t>(v.size());
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {  // numpy's default 'linear' method
    const double pos = q * (v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, v.size() - 1);
    return v[lo] + (v[hi] - v[lo]) * (pos - lo);
  };
  p.min = v.front();
  p.max = v.back();
  p.p25 = at(0.25);
  p.p50 = at(0.50);
  p.p75 = at(0.75);
  p.p90 = at(0.90);
  p.p95 = at(0.95);
  p.p99 = at(0.99);
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / v.size();
  return p;
}

DataStats compute_stats(const Config& cfg, const DataSplits& data, const LoadReport& rep) {
  DataStats s;
  s.name = cfg.name;
  s.data_dir = rep.data_dir;
  s.files = rep.files;
  s.class_names = data.class_names;
  s.test_from_split = rep.test_from_split;
  s.test_split = cfg.data.test_split;
  s.validation_from_split = rep.validation_from_split;
  s.validation_split = cfg.data.validation_split;
  s.clean = cfg.data.clean;
  s.maxlen = rep.maxlen;
  s.warnings = rep.warnings;
  const Tokenizer& tok = rep.tokenizer;
  s.splits.push_back(split_stats("train", rep.train, tok, rep.maxlen));
  if (rep.validation.rows || !cfg.data.validation.empty() || rep.validation_from_split)
    s.splits.push_back(split_stats("validation", rep.validation, tok, rep.maxlen));
  if (rep.test.rows || !cfg.data.test.empty() || rep.test_from_split)
    s.splits.push_back(split_stats("test", rep.test, tok, rep.maxlen));
  for (const auto& [name, r] : rep.extra_tests)
    s.splits.push_back(split_stats(name.c_str(), r, tok, rep.maxlen));

  std::vector<double> chars, tokens;
  chars.reserve(rep.train.texts.size());
  for (const std::string& t : rep.train.texts) chars.push_back(double(code_points(t)));
  for (int32_t n : rep.train.sequence_lengths) tokens.push_back(n);
  s.chars = percentiles(std::move(chars));
  s.tokens = percentiles(std::move(tokens));

  s.oov_token = cfg.tokenizer.oov_token;
  s.num_words = cfg.tokenizer.num_words;
  const int64_t indexed = static_cast<int64_t>(tok.index_word().size());
  s.distinct_words = indexed - (s.oov_token ? 1 : 0);
  // Ids 1..num_words-1 are kept; the oov token, when set, holds id 1.
  const int64_t kept_ids = s.num_words ? std::min(indexed, *s.num_words - 1) : indexed;
  s.kept_words = std::max<int64_t>(0, kept_ids - (s.oov_token ? 1 : 0));
  s.vocab_size = tok.vocab_size();
  try {
    check_embedding_fits(cfg, s.vocab_size, "the tokenizer's vocabulary");
  } catch (const Error& e) {
    s.warnings.push_back(e.what());
  }
  return s;
}

std::string format_stats(const DataStats& s) {
  std::ostringstream o;
  o << s.name << ": data directory " << s.data_dir << "\n";
  for (const FileReport& f : s.files) {
    o << "  " << f.path << ": " << f.rows << " rows";
    if (f.skipped_rows) {
      o << ", " << f.skipped_rows << " bad rows skipped (lines";
      for (int64_t l : f.skipped_lines) o << ' ' << l;
      o << (f.skipped_rows > int64_t(f.skipped_lines.size()) ? " ...)" : ")");
    }
    o << "\n";
  }
  if (s.test_from_split) o << "  test: a stratified " << pct(s.test_split) << " of train\n";
  if (s.validation_from_split)
    o << "  validation: a stratified " << pct(s.validation_split) << " of train"
      << (s.test_from_split ? " (after the test split)" : "") << "\n";
  if (!s.clean.empty()) {
    o << "  clean:";
    for (const std::string& c : s.clean) o << ' ' << c;
    o << "\n";
  }

  // Rows and label distribution: cells first, then columns as wide as their widest cell.
  std::vector<std::vector<std::string>> table{{"split", "rows"}};
  for (const std::string& c : s.class_names) table[0].push_back(c);
  for (const SplitStats& sp : s.splits) {
    table.push_back({sp.name, std::to_string(sp.rows)});
    for (int64_t n : sp.class_counts)
      table.back().push_back(std::to_string(n) + " (" + pct(sp.rows ? double(n) / sp.rows : 0) +
                             ")");
  }
  std::vector<size_t> width(table[0].size(), 0);
  for (const auto& r : table)
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  o << "\n";
  for (const auto& r : table) {
    o << pad_right(r[0], width[0]);
    for (size_t i = 1; i < r.size(); ++i) o << pad_left(r[i], width[i] + 3);
    o << "\n";
  }

  // Dropped rows.
  o << "\nrows dropped:";
  bool any = false;
  int64_t bad = 0;
  for (const FileReport& f : s.files) bad += f.skipped_rows;
  for (const SplitStats& sp : s.splits) {
    for (const auto& [label, n] : sp.dropped_labels) {
      o << (any ? "," : "") << ' ' << sp.name << " label \"" << label << "\" " << n;
      any = true;
    }
    if (sp.dropped_by_clean) {
      o << (any ? "," : "") << ' ' << sp.name << " cleaning " << sp.dropped_by_clean;
      any = true;
    }
  }
  if (bad) o << (any ? "," : "") << " bad rows " << bad, any = true;
  if (!any) o << " none";
  bool filtered = false;
  for (const SplitStats& sp : s.splits) filtered = filtered || sp.filtered_out;
  if (filtered) {
    o << " (rows left out by filters:";
    for (const SplitStats& sp : s.splits) o << ' ' << sp.name << ' ' << sp.filtered_out;
    o << ")";
  }
  o << "\n";

  // Lengths.
  const char* cols[] = {"min", "p25", "p50", "p75", "p90", "p95", "p99", "max", "mean"};
  o << "\n" << pad_right("cleaned train texts", 22);
  for (const char* c : cols) o << pad_left(c, 8);
  o << "\n";
  auto row = [&](const char* label, const Percentiles& p) {
    o << pad_right(label, 22);
    for (double v : {p.min, p.p25, p.p50, p.p75, p.p90, p.p95, p.p99, p.max})
      o << pad_left(number(v), 8);
    o << pad_left(fmt("%.1f", p.mean), 8) << "\n";
  };
  row("characters", s.chars);
  row("tokens", s.tokens);

  // Vocabulary, OOV, truncation.
  o << "\nvocabulary: " << s.distinct_words << " distinct words in the training texts";
  if (s.num_words)
    o << "; num_words " << *s.num_words << " keeps the " << s.kept_words << " most frequent";
  else
    o << "; no num_words: all are kept";
  if (s.oov_token) o << "; oov_token \"" << *s.oov_token << "\" (id 1)";
  o << "; Embedding input_dim >= " << s.vocab_size << "\n";
  o << "OOV rate (words not in the kept vocabulary):";
  for (const SplitStats& sp : s.splits)
    o << ' ' << sp.name << ' ' << pct(sp.oov_rate()) << (&sp == &s.splits.back() ? "" : ",");
  o << "\ntexts cut at maxlen " << s.maxlen << ":";
  for (const SplitStats& sp : s.splits)
    o << ' ' << sp.name << ' ' << sp.truncated << " of " << sp.rows << " ("
      << pct(sp.truncated_share()) << ")" << (&sp == &s.splits.back() ? "" : ",");
  o << "\n";
  for (const std::string& wn : s.warnings) o << "\nwarning: " << wn << "\n";
  return o.str();
}

std::string stats_json(const DataStats& s) {
  using nlohmann::json;
  json j;
  j["name"] = s.name;
  j["data_dir"] = s.data_dir;
  j["files"] = json::array();
  for (const FileReport& f : s.files)
    j["files"].push_back({{"path", f.path},
                          {"rows", f.rows},
                          {"skipped_rows", f.skipped_rows},
                          {"skipped_lines", f.skipped_lines}});
  j["class_names"] = s.class_names;
  j["clean"] = s.clean;
  j["test_from_split"] = s.test_from_split;
  j["validation_from_split"] = s.validation_from_split;
  j["splits"] = json::object();
  for (const SplitStats& sp : s.splits) {
    json labels = json::object();
    for (size_t c = 0; c < sp.class_counts.size(); ++c)
      labels[s.class_names[c]] = sp.class_counts[c];
    j["splits"][sp.name] = {{"rows", sp.rows},
                            {"labels", labels},
                            {"filtered_out", sp.filtered_out},
                            {"dropped_labels", sp.dropped_labels},
                            {"dropped_by_clean", sp.dropped_by_clean},
                            {"truncated", sp.truncated},
                            {"truncated_share", sp.truncated_share()},
                            {"words", sp.words},
                            {"oov_words", sp.oov_words},
                            {"oov_rate", sp.oov_rate()}};
  }
  auto lengths = [](const Percentiles& p) {
    return json{{"count", p.count}, {"min", p.min},  {"p25", p.p25}, {"p50", p.p50},
                {"p75", p.p75},     {"p90", p.p90},  {"p95", p.p95}, {"p99", p.p99},
                {"max", p.max},     {"mean", p.mean}};
  };
  j["train_lengths"] = {{"characters", lengths(s.chars)}, {"tokens", lengths(s.tokens)}};
  j["vocabulary"] = {{"distinct_words", s.distinct_words},
                     {"num_words", s.num_words ? json(*s.num_words) : json(nullptr)},
                     {"kept_words", s.kept_words},
                     {"oov_token", s.oov_token ? json(*s.oov_token) : json(nullptr)},
                     {"vocab_size", s.vocab_size}};
  j["maxlen"] = s.maxlen;
  j["warnings"] = s.warnings;
  // Replace rather than throw on a byte sequence that is not UTF-8 (a label, say).
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ember::data
