// Run directory file names and checkpoint filepath rules (see run_files.h).
#include "engine/config/run_files.h"

#include <cstdio>
#include <filesystem>
#include <regex>

#include "engine/core/check.h"

namespace ember {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
// The per-split files of write_evaluation, which carry a "<split>_" prefix for extra tests.
const char* const kSplitFiles[] = {"metrics.json", "classification_report.txt",
                                   "confusion_matrix.svg"};
}  // namespace

bool is_split_file(const std::string& name) {
  for (const char* f : kSplitFiles)
    if (ends_with(name, f)) return true;
  return false;
}

bool is_run_file(const std::string& name) {
  for (const char* f : {"config.yaml", "history.csv", "losses.csv", "last.ckpt", "interrupted.ckpt",
                        "model.ember", "accuracy.svg", "loss.svg", ".lock"})
    if (name == f) return true;
  return is_split_file(name);
}

std::string expand_checkpoint_path(const std::string& pattern, int64_t epoch,
                                   const std::map<std::string, double>& logs) {
  // {name} or {name:spec} with a printf-like spec (04d, .4f).
  static const std::regex field(R"(\{([A-Za-z_]+)(?::([0-9.]*[df]))?\})");
  std::string out;
  auto begin = std::sregex_iterator(pattern.begin(), pattern.end(), field);
  size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const std::smatch& m = *it;
    out += pattern.substr(last, m.position() - last);
    last = m.position() + m.length();
    const std::string key = m[1], spec = m[2];
    double v;
    if (key == "epoch") {
      v = static_cast<double>(epoch + 1);
    } else {
      auto found = logs.find(key);
      if (found == logs.end())
        throw Error("ModelCheckpoint filepath names '{" + key + "}', which the logs do not have");
      v = found->second;
    }
    char buf[64];
    const std::string fmt = "%" + (spec.empty() ? std::string(key == "epoch" ? "d" : "g") : spec);
    if (fmt.back() == 'd')
      std::snprintf(buf, sizeof buf, fmt.c_str(), static_cast<int>(v));
    else
      std::snprintf(buf, sizeof buf, fmt.c_str(), v);
    out += buf;
  }
  return out + pattern.substr(last);
}

std::string checkpoint_path_problem(const std::string& pattern) {
  // Expanded with every key an epoch's logs can hold: digits never form '..' or a run file's
  // name, but "{epoch}_metrics.json" expands to an extra test's metrics file.
  std::string path;
  try {
    path = expand_checkpoint_path(
        pattern, 0,
        {{"loss", 0}, {"accuracy", 0}, {"val_loss", 0}, {"val_accuracy", 0}, {"lr", 0}});
  } catch (const Error& e) {
    return std::string(e.what()) + " (they have loss, accuracy, val_loss, val_accuracy, lr)";
  }
  const std::filesystem::path p(path);
  if (p.is_absolute())
    return "'" + pattern + "' is absolute; give a path relative to the run directory";
  if (path.empty() || path.back() == '/') return "'" + pattern + "' names a directory, not a file";
  for (const auto& part : p) {
    if (part == "..") return "'" + pattern + "' uses '..', which would leave the run directory";
    if (is_run_file(part.string()))
      return "'" + pattern + "' would write over the run's own " + part.string() +
             "; choose another name";
  }
  return "";
}

}  // namespace ember
