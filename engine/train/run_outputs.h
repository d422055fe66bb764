// What a run directory holds besides checkpoints: history.csv (per epoch: loss, accuracy,
// val_*, learning rate, seconds), curve pictures (accuracy.svg, loss.svg), and for the test
// set metrics.json, classification_report.txt and confusion_matrix.svg. Every file is
// written atomically.
#pragma once

#include <string>
#include <vector>

#include "engine/config/run_files.h"  // is_run_file, which the run outputs reserve
#include "engine/eval/evaluate.h"
#include "engine/train/checkpoint.h"

namespace ember {

std::string history_csv(const std::vector<EpochRow>& history);
// history.csv and the curve pictures.
void write_history(const std::string& run_dir, const std::vector<EpochRow>& history);
// metrics.json, classification_report.txt, confusion_matrix.svg for one evaluated split.
void write_evaluation(const std::string& run_dir, const std::string& split, const Evaluation& e,
                      const std::vector<std::string>& class_names, double loss);

// Called once a run has written its first files into a directory that may hold an earlier
// run's: removes what no longer describes the directory's run. The final model and every
// split's metrics go (the end of the run writes them again); so does interrupted.ckpt when a
// last.ckpt was just written (it is older), and a fresh run's last.ckpt when it has just
// written interrupted.ckpt; the curves go while the history is empty. User-named
// ModelCheckpoint files are left alone.
void remove_stale_outputs(const std::string& run_dir, bool wrote_last_ckpt, bool resumed,
                          bool history_empty);

// The rows of `losses_csv` (a run's losses.csv) for steps 0 .. steps-1, as its own text
// ("0,0.69\n1,0.68\n..."), when the file holds every one of them in order; else "" and a
// warning saying what is missing. Rows after `steps` (written after the checkpoint a run
// resumes from) are dropped.
// `header` is the file's first line as this run writes it ("step,loss" or
// "step,loss,grad_norm"); a file with another header keeps nothing.
std::string losses_before(const std::string& losses_csv, const std::string& header, uint64_t steps,
                          std::string* warning);

}  // namespace ember
