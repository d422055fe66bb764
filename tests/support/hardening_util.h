// Helpers shared by the tests/test_hardening_*.cpp files (issue 14: hostile input, crashes,
// concurrency): a tiny synthetic config, a bundle of it written without training (its weights
// are the seed's initialisation, optionally tweaked), whole-file reads and writes, and the
// `ember` binary run through the shell with its exit code and output. Every path is the
// caller's; nothing here removes files it did not create.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "layers/model.h"
#include "tests/support/tiny_config.h"

namespace ember::test {

// kTinyYaml, the tiny synthetic config: tests/support/tiny_config.h.

// `text` with the first `from` replaced by `to`; REQUIREs that `from` occurs (a config edit
// that silently matched nothing would test the unedited config).
std::string replaced(std::string text, const std::string& from, const std::string& to);

// Writes `yaml` as <dir>/<name> and returns the path.
std::string write_text(const std::filesystem::path& dir, const std::string& name,
                       const std::string& text);
std::string read_text(const std::filesystem::path& path);  // "" when missing

// Builds kTinyYaml's model (or `yaml`'s), lets `tweak` change it, saves it as a bundle at
// `path` (synthetic tokenizer, classes negative/positive) and returns `path`.
std::string write_bundle(const std::filesystem::path& path,
                         const std::function<void(Model&)>& tweak = {},
                         const std::string& yaml = kTinyYaml,
                         const std::vector<std::string>& class_names = {"negative", "positive"});

struct CliResult {
  int code;         // exit status; 128 + n when killed by signal n
  std::string out;  // stdout and stderr together
};
// Runs `ember ARGS` through /bin/sh (ARGS may hold redirections and pipes).
CliResult run_ember(const std::string& args);
// Runs a whole shell command line.
CliResult run_shell(const std::string& cmd);

}  // namespace ember::test
