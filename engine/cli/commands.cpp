// evaluate, predict and compare (see commands.h).
#include "engine/cli/commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>

#include "engine/data/dataset.h"
#include "engine/eval/evaluate.h"
#include "engine/eval/plots.h"
#include "engine/io/bundle.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"

namespace ember {

namespace fs = std::filesystem;
// Ordered: an object's keys keep insertion order, so probabilities come in class-id order.
using json = nlohmann::ordered_json;

namespace {
// U+2028 and U+2029 are valid unescaped in JSON but end a line for JavaScript and for many
// line-based readers of JSON lines; nlohmann writes them raw. In dumped JSON their bytes can
// only stand inside a string (everything else is ASCII), so replacing them is always safe.
std::string escape_line_separators(std::string s) {
  for (size_t at = 0; (at = s.find("\xE2\x80", at)) != std::string::npos;) {
    if (at + 2 < s.size() && (s[at + 2] == '\xA8' || s[at + 2] == '\xA9')) {
      s.replace(at, 3, s[at + 2] == '\xA8' ? "\\u2028" : "\\u2029");
      at += 6;
    } else {
      at += 2;
    }
  }
  return s;
}

// Warnings go to stderr, so predict's stdout stays one answer per line.
void warn(const Bundle& b) {
  for (const std::string& w : b.warnings) std::cerr << "ember: warning: " << w << "\n";
}
}  // namespace

int evaluate_command(const std::string& path, const EvaluateOptions& opts, std::ostream& out) {
  Bundle b = load_bundle(path);
  warn(b);
  Config cfg = opts.config.empty() ? b.config : load_config(opts.config);
  data::LoadReport rep;
  rep.fitted = b.tokenizer.get();
  DataSplits data = load_data(cfg, opts.data_dir, &rep);
  const std::string where = opts.config.empty() ? path : opts.config;
  std::string name = opts.split;
  if (name.empty()) name = data.test.empty() ? "validation" : "test";
  const Dataset* chosen = nullptr;
  std::string known = "test, validation";
  if (name == "test") chosen = &data.test;
  // The validation rows training saw, train.validation_split's included (cut as the trainer
  // cuts them, from the first --limit rows when the run had one), so the numbers match the
  // run's val_* columns. Under --config the rows are that config's, so the run's --limit,
  // which counted rows of the bundle's own data, does not apply.
  Dataset val;
  if (name == "validation") {
    const int64_t limit = opts.config.empty() ? b.train_limit : 0;
    fit_splits(head(data.train, limit), data.val, cfg.train.validation_split, nullptr, &val);
    chosen = &val;
  }
  for (const auto& [n, ds] : data.extra_tests) {
    known += ", " + n;
    if (n == name) chosen = &ds;
  }
  if (!chosen)
    throw Error(where + ": --split " + name + ": no such split (this config has: " + known + ")");
  const Dataset& split = *chosen;
  if (split.empty())
    throw Error(where + (opts.split.empty()
                             ? std::string(": the config has neither a test nor a validation "
                                           "split to evaluate on")
                             : ": the " + name + " split of this config has no rows"));
  if (data.class_names != b.class_names)
    throw Error(path +
                ": the bundle's classes differ from the data's (was it trained on this "
                "config's data?)");
  TrainOptions topts;
  topts.write_run_dir = false;
  Trainer trainer(cfg, *b.model, data, topts);
  Scores sc;
  EvalResult r = trainer.evaluate(split, &sc);
  check_scores_finite(sc, path + " on the " + name + " split");
  Evaluation ev = evaluate_scores(sc, split.labels);
  if (opts.json) {
    out << evaluation_json(ev, b.class_names, {{"loss", r.loss}}) << "\n";
  } else {
    out << name << ": " << split.size() << " rows, loss " << std::setprecision(4) << std::fixed
        << r.loss << ", accuracy " << ev.report.accuracy << ", AUC " << ev.auc << "\n\n"
        << metrics::format_report(ev.report, b.class_names, 4);
  }
  return 0;
}

int predict_command(const std::string& path, const std::vector<std::string>& texts, bool as_json,
                    std::ostream& out) {
  Bundle b = load_bundle(path);
  warn(b);
  std::vector<Prediction> preds = predict(b, texts);
  for (size_t i = 0; i < preds.size(); ++i) {
    const Prediction& p = preds[i];
    const std::string label = p.label < static_cast<int32_t>(b.class_names.size())
                                  ? b.class_names[p.label]
                                  : std::to_string(p.label);
    if (as_json) {
      json probs = json::object();
      for (size_t c = 0; c < p.probabilities.size(); ++c)
        probs[c < b.class_names.size() ? b.class_names[c] : std::to_string(c)] = p.probabilities[c];
      json line = {{"text", texts[i]}, {"label", label}, {"probabilities", probs}};
      // Invalid UTF-8 in a text must not abort the answer: replace it in the echo.
      out << escape_line_separators(line.dump(-1, ' ', false, json::error_handler_t::replace))
          << "\n";
    } else {
      out << label << '\t';
      for (size_t c = 0; c < p.probabilities.size(); ++c) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.4f", c ? " " : "", p.probabilities[c]);
        out << buf;
      }
      out << "\n";
    }
  }
  return 0;
}

int compare_command(const std::vector<std::string>& runs, const std::string& svg_path,
                    std::ostream& out) {
  if (runs.empty()) throw Error("compare: name at least one run directory");
  std::vector<std::string> names, series{"accuracy", "macro F1"};
  std::vector<std::vector<double>> values;
  std::vector<std::string> class_names;
  for (const std::string& run : runs) {
    const fs::path m = fs::path(run) / "metrics.json";
    std::ifstream f(m);
    if (!f) throw Error(m.string() + ": cannot open (did that run finish with a test split?)");
    json j;
    try {
      j = json::parse(f);
    } catch (const json::exception& e) {
      throw Error(m.string() + ": not valid JSON: " + e.what());
    }
    try {
      std::vector<std::string> cls;
      for (auto it = j.at("per_class").begin(); it != j.at("per_class").end(); ++it)
        cls.push_back(it.key());
      if (class_names.empty()) {
        class_names = cls;
        for (const auto& c : cls) series.push_back("F1 " + c);
      } else if (cls != class_names) {
        throw Error(m.string() + ": its classes differ from " + runs.front() + "'s");
      }
      std::vector<double> row{j.at("accuracy").get<double>(), j.at("macro").at("f1").get<double>()};
      for (const auto& c : cls) row.push_back(j.at("per_class").at(c).at("f1").get<double>());
      values.push_back(row);
    } catch (const json::exception& e) {
      throw Error(m.string() + ": missing fields: " + e.what());
    }
    names.push_back(fs::path(run).filename().empty()
                        ? fs::path(run).parent_path().filename().string()
                        : fs::path(run).filename().string());
  }
  write_file_atomically(svg_path, plots::bar_chart("Model comparison", names, series, values));
  out << std::left << std::setw(24) << "run";
  for (const auto& s : series) out << std::right << std::setw(14) << s;
  out << "\n";
  for (size_t r = 0; r < names.size(); ++r) {
    out << std::left << std::setw(24) << names[r];
    for (double v : values[r])
      out << std::right << std::setw(14) << std::fixed << std::setprecision(4) << v;
    out << "\n";
  }
  out << "chart written to " << svg_path << "\n";
  return 0;
}

}  // namespace ember
