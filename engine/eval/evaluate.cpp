// Evaluation (see evaluate.h).
#include "engine/eval/evaluate.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/data/dataset.h"

namespace ember {

void append_scores(const Tensor& output, bool from_logits, Scores* s) {
  Tensor y = output.to(Device::cpu()).to(DType::kFloat64);
  const int64_t n = y.size(0), k = y.size(-1), steps = y.ndim() == 3 ? y.size(1) : 1;
  s->classes = k == 1 ? 2 : k;
  s->rows += n;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = y.data<double>() + (i * steps + (steps - 1)) * k;
    if (k == 1) {
      const double q = from_logits ? 1.0 / (1.0 + std::exp(-row[0])) : row[0];
      s->probs.push_back(1.0 - q);
      s->probs.push_back(q);
      s->pred.push_back(q > 0.5 ? 1 : 0);
      continue;
    }
    std::vector<double> p(row, row + k);
    if (from_logits) {
      const double m = *std::max_element(p.begin(), p.end());
      double z = 0;
      for (double& v : p) z += (v = std::exp(v - m));
      for (double& v : p) v /= z;
    }
    s->pred.push_back(static_cast<int32_t>(std::max_element(p.begin(), p.end()) - p.begin()));
    s->probs.insert(s->probs.end(), p.begin(), p.end());
  }
}

Scores model_scores(Model& model, const Tensor& tokens, bool from_logits, int64_t batch_size) {
  EMBER_CHECK_ARG(tokens.ndim() == 2, "model_scores: tokens must be [N,T], got " << tokens.str());
  ag::NoGradGuard no_grad;
  Scores s;
  const int64_t rows = tokens.size(0), t = tokens.size(1);
  for (int64_t b = 0; b < rows; b += batch_size) {
    const int64_t n = std::min(batch_size, rows - b);
    Tensor chunk = Tensor::empty({n, t}, DType::kInt32);
    std::copy_n(tokens.data<int32_t>() + b * t, n * t, chunk.data<int32_t>());
    append_scores(model.forward(chunk, RunContext{}).x.value(), from_logits, &s);
  }
  return s;
}

void check_scores_finite(const Scores& s, const std::string& source) {
  for (size_t i = 0; i < s.probs.size(); ++i)
    if (!std::isfinite(s.probs[i]))
      throw Error(source + ": the model's output for row " +
                  std::to_string(i / static_cast<size_t>(std::max<int64_t>(1, s.classes))) +
                  " is " + std::to_string(s.probs[i]) +
                  " (non-finite weights or activations; was the model trained to a NaN?)");
}

Evaluation evaluate_scores(const Scores& s, const Tensor& labels) {
  EMBER_CHECK_ARG(labels.numel() == s.rows,
                  "evaluate_scores: " << labels.numel() << " labels for " << s.rows << " rows");
  std::vector<int32_t> y(labels.data<int32_t>(), labels.data<int32_t>() + labels.numel());
  Evaluation e;
  e.rows = s.rows;
  e.confusion = metrics::confusion_matrix(y, s.pred, s.classes);
  e.report = metrics::classification_report(e.confusion);
  if (s.classes == 2) {
    std::vector<double> pos(s.rows);
    for (int64_t i = 0; i < s.rows; ++i) pos[i] = s.probs[i * 2 + 1];
    e.auc = metrics::roc_auc(pos, y);
  } else {
    e.auc = metrics::roc_auc_ovr_macro(s.probs, y, s.classes);
  }
  return e;
}

std::string evaluation_json(const Evaluation& e, const std::vector<std::string>& names,
                            const std::vector<std::pair<std::string, double>>& extra) {
  using json = nlohmann::ordered_json;
  auto scores = [](const metrics::ClassScores& c) {
    return json{
        {"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}};
  };
  json j;
  j["rows"] = e.rows;
  for (const auto& [k, v] : extra) j[k] = v;
  j["accuracy"] = e.report.accuracy;
  j["auc"] = std::isnan(e.auc) ? json(nullptr) : json(e.auc);
  j["macro"] = scores(e.report.macro);
  j["weighted"] = scores(e.report.weighted);
  json per = json::object();
  for (size_t c = 0; c < e.report.per_class.size(); ++c)
    per[c < names.size() ? names[c] : std::to_string(c)] = scores(e.report.per_class[c]);
  j["per_class"] = per;
  json cm = json::array();
  for (int64_t t = 0; t < e.confusion.num_classes; ++t) {
    json row = json::array();
    for (int64_t p = 0; p < e.confusion.num_classes; ++p) row.push_back(e.confusion.at(t, p));
    cm.push_back(row);
  }
  j["confusion_matrix"] = cm;
  return j.dump(2);
}

}  // namespace ember
