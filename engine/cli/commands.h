// The `ember evaluate`, `ember predict` and `ember compare` commands as library functions, so
// tests can run them without a process. Each prints to `out` and returns the exit code; user
// errors throw ember::Error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace ember {

struct EvaluateOptions {
  std::string config;    // "" = the config inside the bundle
  std::string data_dir;  // "" = $EMBER_DATA, else ./data
  bool json = false;
  std::string split;  // "" = test (validation when there is none); or validation / an extra test
};
// Metrics of a bundle on one split of its config's data (by default the test split, else the
// validation split), tokenized with the bundle's own tokenizer.
int evaluate_command(const std::string& bundle, const EvaluateOptions& opts, std::ostream& out);

// One prediction per text: "label<TAB>p(class 0) p(class 1) ..." or, with json, one JSON
// object per line {"text", "label", "probabilities": {class: p}}.
int predict_command(const std::string& bundle, const std::vector<std::string>& texts, bool json,
                    std::ostream& out);

// Reads each run directory's metrics.json and draws seed 001's comparison chart (accuracy,
// macro F1 and each class's F1 per run) to `svg_path`; prints the same as a table.
int compare_command(const std::vector<std::string>& runs, const std::string& svg_path,
                    std::ostream& out);

}  // namespace ember
