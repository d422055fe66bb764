// Run-directory files (see run_outputs.h).
#include "engine/train/run_outputs.h"

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

#include "engine/eval/plots.h"
#include "engine/io/safetensors.h"

namespace ember {

namespace fs = std::filesystem;

std::string history_csv(const std::vector<EpochRow>& h) {
  std::ostringstream s;
  s << "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n";
  s << std::setprecision(9);
  for (const EpochRow& e : h) {
    s << e.epoch << ',' << e.loss << ',' << e.accuracy << ',';
    if (e.has_val)
      s << e.val_loss << ',' << e.val_accuracy;
    else
      s << ',';
    s << ',' << e.learning_rate << ',' << std::setprecision(4) << e.seconds << std::setprecision(9)
      << '\n';
  }
  return s.str();
}

void write_history(const std::string& run_dir, const std::vector<EpochRow>& h) {
  const fs::path dir(run_dir);
  write_file_atomically((dir / "history.csv").string(), history_csv(h));
  if (h.empty()) return;
  plots::Series acc{"train", {}}, val_acc{"validation", {}}, loss{"train", {}},
      val_loss{"validation", {}};
  for (const EpochRow& e : h) {
    acc.values.push_back(e.accuracy);
    loss.values.push_back(e.loss);
    val_acc.values.push_back(e.has_val ? e.val_accuracy : NAN);
    val_loss.values.push_back(e.has_val ? e.val_loss : NAN);
  }
  const bool has_val = h.back().has_val;
  std::vector<plots::Series> a{acc}, l{loss};
  if (has_val) {
    a.push_back(val_acc);
    l.push_back(val_loss);
  }
  write_file_atomically((dir / "accuracy.svg").string(),
                        plots::line_chart("Accuracy", "accuracy", a));
  write_file_atomically((dir / "loss.svg").string(), plots::line_chart("Loss", "loss", l));
}

void write_evaluation(const std::string& run_dir, const std::string& split, const Evaluation& e,
                      const std::vector<std::string>& names, double loss) {
  const fs::path dir(run_dir);
  const std::string stem = split == "test" ? "" : split + "_";
  write_file_atomically((dir / (stem + "metrics.json")).string(),
                        evaluation_json(e, names, {{"loss", loss}}) + "\n");
  write_file_atomically((dir / (stem + "classification_report.txt")).string(),
                        metrics::format_report(e.report, names, 4));
  write_file_atomically(
      (dir / (stem + "confusion_matrix.svg")).string(),
      plots::confusion_matrix_chart("Confusion matrix (" + split + ")", e.confusion, names));
}

void remove_stale_outputs(const std::string& run_dir, bool wrote_last_ckpt, bool resumed,
                          bool history_empty) {
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(run_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_split_file(name) || name == "model.ember" ||
        (wrote_last_ckpt && name == "interrupted.ckpt") ||
        (!wrote_last_ckpt && !resumed && name == "last.ckpt") ||
        (history_empty && (name == "accuracy.svg" || name == "loss.svg")))
      stale.push_back(it->path());
  }
  for (const fs::path& p : stale) fs::remove(p, ec);  // best effort: a leftover is only stale
}

std::string losses_before(const std::string& text, const std::string& header, uint64_t steps,
                          std::string* warning) {
  std::istringstream in(text);
  std::string line, kept;
  uint64_t next = 0;
  std::getline(in, line);  // the header
  const bool header_ok = line == header;
  while (header_ok && next < steps && std::getline(in, line)) {
    const size_t comma = line.find(',');
    if (comma == std::string::npos || line.substr(0, comma) != std::to_string(next)) break;
    kept += line + "\n";
    ++next;
  }
  if (next == steps) return kept;
  if (warning)
    *warning = text.empty() ? "no losses.csv beside the checkpoint"
               : !header_ok ? "its losses.csv's columns are not " + header
                            : "its losses.csv lacks step " + std::to_string(next);
  return "";
}

}  // namespace ember
