// Evaluation of a trained model: per-class probabilities for every row (binary models give
// {1-p, p}; logits go through sigmoid/softmax; a per-step model is read at its last step,
// which is how Models C and D define their per-review prediction), and from them the metrics
// of engine/eval/metrics.h as a struct, a JSON object and scikit-learn's text report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/eval/metrics.h"
#include "layers/model.h"

namespace ember {

struct Scores {
  int64_t rows = 0, classes = 0;
  std::vector<double> probs;  // [rows * classes]
  std::vector<int32_t> pred;  // argmax (binary: p > 0.5)
};

// Appends the rows of one batch's model output ([B,K] or per-step [B,T,K], any device) to s.
void append_scores(const Tensor& output, bool from_logits, Scores* s);

// Inference over tokens [N,T] int32 in batches of batch_size, dropout off, no graph.
Scores model_scores(Model& model, const Tensor& tokens, bool from_logits, int64_t batch_size);

// Throws ember::Error "<source>: the model's output for row i is nan (...)" at the first
// row whose probabilities are not all finite: a diverged model must not reach the metrics.
void check_scores_finite(const Scores& s, const std::string& source);

struct Evaluation {
  metrics::ConfusionMatrix confusion;
  metrics::Report report;
  double auc = 0;  // binary ROC AUC, or one-vs-rest macro AUC; NaN when undefined
  int64_t rows = 0;
};
Evaluation evaluate_scores(const Scores& s, const Tensor& labels);
// {"rows", "accuracy", "auc", "macro": {...}, "weighted": {...}, "per_class": {name: {...}},
//  "confusion_matrix": [[...]] (rows = true class)}; extra keys (e.g. loss) are merged in.
std::string evaluation_json(const Evaluation& e, const std::vector<std::string>& class_names,
                            const std::vector<std::pair<std::string, double>>& extra = {});

}  // namespace ember
