// `ember baseline CONFIG`: the two simple models a neural result should be read against, on
// the config's own data pipeline (same cleaning, tokenizer, maxlen and splits as training):
//  - majority: every row gets the most frequent training class (its probabilities are the
//    training class frequencies, so AUC is 0.5);
//  - bow_logreg: multinomial logistic regression on binary bag-of-words features (token id
//    present in the padded row or not; ids 1..V-1 as the tokenizer numbers them), fitted on
//    the training rows with scikit-learn's default objective, C * sum(log loss) + ||W||^2 / 2
//    (C = 1, bias not penalised), by L-BFGS until the largest gradient entry is below 1e-5
//    of its start or 1,000 iterations. No hyper-parameter is tuned: nothing looks at a test
//    set before it is scored.
// Both are scored on validation, test and every data.extra_tests set that has rows.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/dataset.h"
#include "engine/eval/evaluate.h"

namespace ember {

struct BaselineOptions {
  std::string data_dir;  // "" = $EMBER_DATA, else ./data
  std::string out_dir;   // "" = write nothing; else baseline_<model>_<split>_metrics.json, ...
  bool json = false;     // one JSON object per (model, split) line instead of the table
};

// The fitted logistic regression: W [V, K] row-major, b [K].
struct BowLogreg {
  int64_t vocab = 0, classes = 0;
  std::vector<double> w, b;
  int iterations = 0;
  double objective = 0;  // C * sum(log loss) + ||W||^2 / 2 at the end
};

// Fits on tokens [N,T] int32 (0 = padding, ids < vocab) and labels [N] int32 in [0, K).
BowLogreg fit_bow_logreg(const Dataset& train, int64_t vocab, int64_t classes, double c = 1.0,
                         int max_iter = 1000);
// Class probabilities for every row of d.
Scores bow_logreg_scores(const BowLogreg& m, const Dataset& d);
// Every row scored with the training class frequencies.
Scores majority_scores(const std::vector<int64_t>& train_counts, int64_t rows);

int baseline_command(const Config& cfg, const BaselineOptions& opts, std::ostream& out);

}  // namespace ember
