// Metrics against hand-computed cases: confusion matrix orientation, per-class and averaged
// precision/recall/F1 (zero division -> 0), the report's layout, and ROC AUC with ties
// (seed 000's Keras AUC printed 0.0 every epoch; ours must be right).
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/eval/metrics.h"

using namespace ember::metrics;
using Catch::Matchers::Contains;

TEST_CASE("confusion matrix and report, by hand", "[metrics][cpu]") {
  // true:  0 0 0 1 1 2
  // pred:  0 0 1 1 0 2
  ConfusionMatrix cm = confusion_matrix({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 0, 2}, 3);
  CHECK(cm.at(0, 0) == 2);
  CHECK(cm.at(0, 1) == 1);  // a true 0 predicted as 1
  CHECK(cm.at(1, 0) == 1);
  CHECK(cm.at(2, 2) == 1);
  CHECK(cm.total() == 6);
  Report r = classification_report(cm);
  // class 0: tp 2, predicted 3, actual 3 -> p = r = 2/3; class 1: tp 1, predicted 2, actual 2
  // -> 1/2; class 2: 1/1. Weighted precision: (2/3*3 + 1/2*2 + 1*1) / 6 = 2/3.
  CHECK(r.per_class[0].precision == Approx(2.0 / 3));
  CHECK(r.per_class[0].recall == Approx(2.0 / 3));
  CHECK(r.per_class[1].f1 == Approx(0.5));
  CHECK(r.per_class[2].f1 == Approx(1.0));
  CHECK(r.accuracy == Approx(4.0 / 6));
  CHECK(r.macro.f1 == Approx((2.0 / 3 + 0.5 + 1.0) / 3));
  CHECK(r.weighted.f1 == Approx((2.0 / 3 * 3 + 0.5 * 2 + 1.0 * 1) / 6));
  CHECK(r.per_class[1].support == 2);

  const std::string text = format_report(r, {"neg", "neu", "pos"});
  CHECK_THAT(text, Contains("              precision    recall  f1-score   support\n\n"));
  CHECK_THAT(text, Contains("         neg       0.67      0.67      0.67         3\n"));
  CHECK_THAT(text, Contains("    accuracy                           0.67         6\n"));
  CHECK_THAT(text, Contains("weighted avg       0.67      0.67      0.67         6\n"));
}

TEST_CASE("a class never predicted scores 0, not NaN", "[metrics][cpu]") {
  Report r = classification_report(confusion_matrix({0, 1, 1}, {1, 1, 1}, 2));
  CHECK(r.per_class[0].precision == 0.0);
  CHECK(r.per_class[0].f1 == 0.0);
  CHECK(r.per_class[1].precision == Approx(2.0 / 3));
  CHECK_THROWS_WITH(confusion_matrix({0, 2}, {0, 0}, 2), Contains("row 1"));
}

TEST_CASE("ROC AUC with and without ties", "[metrics][cpu]") {
  // Perfect separation and its reverse.
  CHECK(roc_auc({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}) == 1.0);
  CHECK(roc_auc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}) == 0.0);
  // Hand count of pairs (pos, neg) with pos > neg, ties counting 1/2:
  // pos {0.35, 0.8}, neg {0.1, 0.4}: 0.35 beats 0.1 (1), loses to 0.4; 0.8 beats both (2).
  CHECK(roc_auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}) == Approx(0.75));
  // All scores tied: every pair is a half -> 0.5 (a constant model is chance, not 0).
  CHECK(roc_auc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}) == 0.5);
  // Partial ties: pos {0.5, 0.7}, neg {0.5, 0.2}: 0.5~0.5 (0.5), 0.5>0.2 (1), 0.7>both (2).
  CHECK(roc_auc({0.5, 0.7, 0.5, 0.2}, {1, 1, 0, 0}) == Approx(3.5 / 4));
  CHECK(std::isnan(roc_auc({0.1, 0.2}, {1, 1})));
  CHECK_THROWS_WITH(roc_auc({0.1, 0.2}, {0, 2}), Contains("0 or 1"));
}

TEST_CASE("one-vs-rest macro AUC", "[metrics][cpu]") {
  // Three rows, three classes, each row's own class gets the highest probability.
  std::vector<double> p{0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7};
  CHECK(roc_auc_ovr_macro(p, {0, 1, 2}, 3) == 1.0);
  // Class 0's scores {0.8, 0.2, 0.1} vs y==0 {1,0,0}: 1; class 1 {0.1,0.7,0.2}: 1;
  // class 2 {0.1, 0.1, 0.7} with y==2 {0,0,1}: 1. Now swap rows 1 and 2's labels:
  // class 1 scores {0.1,0.7,0.2} vs {0,0,1}: pos 0.2 beats 0.1, loses to 0.7 -> 0.5;
  // class 2 scores {0.1,0.1,0.7} vs {0,1,0}: pos 0.1 ties 0.1 (0.5), loses to 0.7 -> 0.25.
  CHECK(roc_auc_ovr_macro(p, {0, 2, 1}, 3) == Approx((1.0 + 0.5 + 0.25) / 3));
}
