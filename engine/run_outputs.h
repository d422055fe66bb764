// What a run directory holds besides checkpoints: history.csv (per epoch: loss, accuracy,
// val_*, learning rate, seconds), curve pictures (accuracy.svg, loss.svg), and for the test
// set metrics.json, classification_report.txt and confusion_matrix.svg. Every file is
// written atomically.
#pragma once

#include <string>
#include <vector>

#include "engine/checkpoint.h"
#include "engine/evaluate.h"

namespace ember {

std::string history_csv(const std::vector<EpochRow>& history);
// history.csv and the curve pictures.
void write_history(const std::string& run_dir, const std::vector<EpochRow>& history);
// metrics.json, classification_report.txt, confusion_matrix.svg for one evaluated split.
void write_evaluation(const std::string& run_dir, const std::string& split, const Evaluation& e,
                      const std::vector<std::string>& class_names, double loss);

}  // namespace ember
