// Pictures for the run directory, as self-contained SVG (no plotting library, opens in any
// browser): training curves (one line per series over epochs), the confusion matrix as a
// shaded grid with counts, and a grouped bar chart for `ember compare`. Text is escaped;
// non-finite values are left out of lines rather than drawn at infinity.
#pragma once

#include <string>
#include <vector>

#include "engine/eval/metrics.h"

namespace ember::plots {

struct Series {
  std::string name;
  std::vector<double> values;  // one per epoch (x = 1, 2, ...)
};

std::string line_chart(const std::string& title, const std::string& y_label,
                       const std::vector<Series>& series);

std::string confusion_matrix_chart(const std::string& title, const metrics::ConfusionMatrix& cm,
                                   const std::vector<std::string>& class_names);

// groups[g] holds one value per series name in `series_names` (e.g. runs x metrics).
std::string bar_chart(const std::string& title, const std::vector<std::string>& group_names,
                      const std::vector<std::string>& series_names,
                      const std::vector<std::vector<double>>& values);

std::string xml_escape(const std::string& s);

}  // namespace ember::plots
