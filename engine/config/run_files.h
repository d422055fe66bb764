// The file names a run directory reserves and the rules for a ModelCheckpoint filepath inside
// it. They sit in the config layer because the config parser refuses a bad filepath with its
// YAML location before any training starts; the callbacks (engine/train/callbacks.h) and the
// run outputs (engine/train/run_outputs.h) use the same rules when they write.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace ember {

// True for the names of the files a run writes itself (config.yaml, history.csv, losses.csv,
// last.ckpt, interrupted.ckpt, model.ember, the curves, and every split's metrics.json,
// classification_report.txt and confusion_matrix.svg, with or without a "<split>_" prefix)
// and for the lock, .lock. A ModelCheckpoint may not write over any of them.
bool is_run_file(const std::string& file_name);
// True for a split's evaluation files (metrics.json, classification_report.txt,
// confusion_matrix.svg), with or without a "<split>_" prefix.
bool is_split_file(const std::string& file_name);

// Expands the placeholders of a ModelCheckpoint filepath: {epoch} (1-based, from the 0-based
// `epoch`) and any key of `logs`, each optionally with a printf-like spec ({val_loss:.4f},
// {epoch:04d}). Throws ember::Error naming a key the logs do not have.
std::string expand_checkpoint_path(const std::string& pattern, int64_t epoch,
                                   const std::map<std::string, double>& logs);
// "" when `pattern` (before or after expansion) names a file inside the run directory that
// is not one of the run's own and uses only placeholders the logs can hold; else why not.
// Absolute paths, '..' components and directory names ("ckpts/") are refused: a checkpoint
// must never leave or overwrite the run.
std::string checkpoint_path_problem(const std::string& pattern);

}  // namespace ember
