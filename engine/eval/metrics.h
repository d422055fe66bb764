// Classification metrics on host vectors: confusion matrix (rows = true class, columns =
// predicted), per-class precision/recall/F1 with macro and weighted averages (a ratio with a
// zero denominator counts as 0, scikit-learn's zero_division=0), accuracy, ROC AUC for binary
// scores and one-vs-rest macro AUC for several classes, and a text report in
// scikit-learn's classification_report layout. AUC handles ties exactly: it is the
// Mann-Whitney statistic with average ranks, which equals the area under the ROC curve drawn
// through tied scores as one step (the trapezoid rule). AUC is NaN when a class is absent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember::metrics {

struct ConfusionMatrix {
  int64_t num_classes = 0;
  std::vector<int64_t> counts;  // [true * K + predicted]
  int64_t at(int64_t true_class, int64_t predicted) const {
    return counts[true_class * num_classes + predicted];
  }
  int64_t total() const;
};

// Labels outside [0, K) throw naming the row.
ConfusionMatrix confusion_matrix(const std::vector<int32_t>& y_true,
                                 const std::vector<int32_t>& y_pred, int64_t num_classes);

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct Report {
  std::vector<ClassScores> per_class;
  ClassScores macro, weighted;  // support = total
  double accuracy = 0;
};

Report classification_report(const ConfusionMatrix& cm);
// scikit-learn's layout: right-aligned names, columns of width 9, `digits` decimals.
std::string format_report(const Report& r, const std::vector<std::string>& class_names,
                          int digits = 2);

// Binary ROC AUC: scores for the positive class, y in {0, 1}. A NaN or infinite score throws
// ember::Error naming its row (so does the multi-class form below).
double roc_auc(const std::vector<double>& scores, const std::vector<int32_t>& y);
// Multi-class: probs[n * K + k]; the unweighted mean of each class's one-vs-rest AUC
// (classes absent from y or always present are skipped; NaN when none is defined).
double roc_auc_ovr_macro(const std::vector<double>& probs, const std::vector<int32_t>& y,
                         int64_t num_classes);

}  // namespace ember::metrics
