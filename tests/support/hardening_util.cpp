// Helpers of the hardening tests (see hardening_util.h).
#include "tests/support/hardening_util.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "engine/config/config.h"
#include "engine/io/bundle.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/synthetic.h"
#include "layers/builder.h"

namespace ember::test {

namespace fs = std::filesystem;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string write_text(const fs::path& dir, const std::string& name, const std::string& text) {
  const fs::path p = dir / name;
  if (!p.parent_path().empty()) fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string write_bundle(const fs::path& path, const std::function<void(Model&)>& tweak,
                         const std::string& yaml, const std::vector<std::string>& class_names) {
  Config cfg = parse_config(yaml, "tiny.yaml");
  Model model = build_model(cfg, DType::kFloat32);
  if (tweak) tweak(model);
  const data::Tokenizer tok = synthetic_tokenizer();
  BundleContents c;
  c.config_text = cfg.text;
  c.config_name = cfg.path;
  c.tokenizer = &tok;
  c.class_names = class_names;
  c.maxlen = cfg.sequence.maxlen;
  save_bundle(path.string(), model, c);
  return path.string();
}

CliResult run_shell(const std::string& cmd) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  if (WIFSIGNALED(status)) return {128 + WTERMSIG(status), out};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

CliResult run_ember(const std::string& args) {
  return run_shell(std::string(EMBER_BINARY) + " " + args + " 2>&1");
}

}  // namespace ember::test
