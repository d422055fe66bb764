// Metrics (see metrics.h).
#include "engine/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "engine/core/check.h"

namespace ember::metrics {

int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

ConfusionMatrix confusion_matrix(const std::vector<int32_t>& y_true,
                                 const std::vector<int32_t>& y_pred, int64_t num_classes) {
  EMBER_CHECK_ARG(
      y_true.size() == y_pred.size(),
      "confusion_matrix: " << y_true.size() << " labels but " << y_pred.size() << " predictions");
  ConfusionMatrix cm;
  cm.num_classes = num_classes;
  cm.counts.assign(num_classes * num_classes, 0);
  for (size_t i = 0; i < y_true.size(); ++i) {
    EMBER_CHECK_ARG(
        y_true[i] >= 0 && y_true[i] < num_classes && y_pred[i] >= 0 && y_pred[i] < num_classes,
        "confusion_matrix: row " << i << " has label " << y_true[i] << " / prediction " << y_pred[i]
                                 << ", outside [0, " << num_classes << ")");
    ++cm.counts[y_true[i] * num_classes + y_pred[i]];
  }
  return cm;
}

namespace {
double ratio(double a, double b) {
  return b > 0 ? a / b : 0.0;
}
}  // namespace

Report classification_report(const ConfusionMatrix& cm) {
  const int64_t k = cm.num_classes;
  Report r;
  const int64_t total = cm.total();
  int64_t correct = 0;
  for (int64_t c = 0; c < k; ++c) {
    int64_t tp = cm.at(c, c), predicted = 0, actual = 0;
    for (int64_t o = 0; o < k; ++o) {
      predicted += cm.at(o, c);
      actual += cm.at(c, o);
    }
    ClassScores s;
    s.precision = ratio(tp, predicted);
    s.recall = ratio(tp, actual);
    s.f1 = ratio(2 * s.precision * s.recall, s.precision + s.recall);
    s.support = actual;
    r.per_class.push_back(s);
    correct += tp;
  }
  for (const ClassScores& s : r.per_class) {
    r.macro.precision += s.precision / k;
    r.macro.recall += s.recall / k;
    r.macro.f1 += s.f1 / k;
    const double w = ratio(s.support, total);
    r.weighted.precision += s.precision * w;
    r.weighted.recall += s.recall * w;
    r.weighted.f1 += s.f1 * w;
  }
  r.macro.support = r.weighted.support = total;
  r.accuracy = ratio(correct, total);
  return r;
}

std::string format_report(const Report& r, const std::vector<std::string>& names, int digits) {
  EMBER_CHECK_ARG(
      names.size() == r.per_class.size(),
      "format_report: " << names.size() << " names for " << r.per_class.size() << " classes");
  size_t width = std::string("weighted avg").size();
  for (const auto& n : names) width = std::max(width, n.size());
  width = std::max(width, static_cast<size_t>(digits));
  const int w = static_cast<int>(width);
  std::string out;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%*s  %9s %9s %9s %9s\n\n", w, "", "precision", "recall",
                "f1-score", "support");
  out += buf;
  auto row = [&](const std::string& name, const ClassScores& s) {
    std::snprintf(buf, sizeof buf, "%*s  %9.*f %9.*f %9.*f %9lld\n", w, name.c_str(), digits,
                  s.precision, digits, s.recall, digits, s.f1, static_cast<long long>(s.support));
    out += buf;
  };
  for (size_t c = 0; c < names.size(); ++c) row(names[c], r.per_class[c]);
  out += "\n";
  std::snprintf(buf, sizeof buf, "%*s  %9s %9s %9.*f %9lld\n", w, "accuracy", "", "", digits,
                r.accuracy, static_cast<long long>(r.macro.support));
  out += buf;
  row("macro avg", r.macro);
  row("weighted avg", r.weighted);
  return out;
}

double roc_auc(const std::vector<double>& scores, const std::vector<int32_t>& y) {
  EMBER_CHECK_ARG(scores.size() == y.size(),
                  "roc_auc: " << scores.size() << " scores for " << y.size() << " labels");
  const size_t n = scores.size();
  // NaN breaks both the sort (no strict weak order) and the tie loop below (NaN == NaN is
  // false, so a tie group never advances): refuse it, and infinities with it, naming the row.
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(scores[i]))
      throw Error("roc_auc: the score of row " + std::to_string(i) + " is " +
                  std::to_string(scores[i]) + "; scores must be finite numbers");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' ranks, each tie group sharing its average rank (1-based).
  double rank_sum = 0;
  int64_t positives = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    const double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      EMBER_CHECK_ARG(y[order[k]] == 0 || y[order[k]] == 1,
                      "roc_auc: labels must be 0 or 1, row " << order[k] << " has " << y[order[k]]);
      if (y[order[k]] == 1) {
        rank_sum += avg_rank;
        ++positives;
      }
    }
    i = j;
  }
  const int64_t negatives = static_cast<int64_t>(n) - positives;
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  const double p = static_cast<double>(positives);
  return (rank_sum - p * (p + 1) / 2) / (p * static_cast<double>(negatives));
}

double roc_auc_ovr_macro(const std::vector<double>& probs, const std::vector<int32_t>& y,
                         int64_t num_classes) {
  EMBER_CHECK_ARG(probs.size() == y.size() * static_cast<size_t>(num_classes),
                  "roc_auc_ovr_macro: " << probs.size() << " probabilities for " << y.size()
                                        << " rows of " << num_classes << " classes");
  double sum = 0;
  int defined = 0;
  std::vector<double> s(y.size());
  std::vector<int32_t> is_c(y.size());
  for (int64_t c = 0; c < num_classes; ++c) {
    for (size_t i = 0; i < y.size(); ++i) {
      s[i] = probs[i * num_classes + c];
      is_c[i] = y[i] == c ? 1 : 0;
    }
    const double auc = roc_auc(s, is_c);
    if (!std::isnan(auc)) {
      sum += auc;
      ++defined;
    }
  }
  return defined ? sum / defined : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace ember::metrics
