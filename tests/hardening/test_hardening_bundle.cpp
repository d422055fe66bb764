// Issue 14 (8) and the bundle half of (9): bundles and checkpoints check themselves. Every
// tensor's CRC-32 is stored in the safetensors metadata ("ember.crc32") and verified on load,
// so a flipped bit is refused naming the tensor; files without checksums (bundles from before
// them, other tools' files) still load and say so; class names must match the model's output
// size; a bundle's maxlen must be its config's.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/cli/commands.h"
#include "engine/io/bundle.h"
#include "engine/io/safetensors.h"
#include "engine/parse/load_config.h"
#include "engine/train/checkpoint.h"
#include "layers/builder.h"
#include "tests/support/hardening_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
// The file's metadata with `edit` applied, written back (tensors untouched) without checksums
// when `checksums` is false.
std::string rewrite(const std::string& path, const fs::path& out,
                    const std::function<void(std::map<std::string, std::string>&)>& edit,
                    bool checksums = true) {
  SafetensorsFile f = load_safetensors(path);
  if (edit) edit(f.metadata);
  write_file_atomically(out.string(), serialize_safetensors(f.tensors, f.metadata, checksums));
  return out.string();
}

std::string last_weight_name() {
  Model m = build_model(parse_config(test::kTinyYaml, "tiny.yaml"), DType::kFloat32);
  return m.named_parameters().back().first;
}
}  // namespace

TEST_CASE("a flipped bit in a tensor is refused naming the tensor", "[hardening][bundle][cpu]") {
  test::TempDir dir("crc");
  const std::string path = test::write_bundle(dir.path / "m.ember");
  std::string bytes = test::read_text(path);
  CHECK_NOTHROW(load_bundle(path));
  bytes.back() ^= 0x10;  // the last byte belongs to the last tensor
  const std::string bad = test::write_text(dir.path, "flipped.ember", bytes);
  CHECK_THROWS_WITH(load_safetensors(bad), Contains("flipped.ember") &&
                                               Contains("'" + last_weight_name() + "'") &&
                                               Contains("checksum"));
  CHECK_THROWS_WITH(load_bundle(bad), Contains("checksum"));
  // The file stays a plain safetensors file: the checksums are one metadata string.
  SafetensorsFile f = load_safetensors(path);
  CHECK(f.checksummed);
  CHECK(f.metadata.count("ember.crc32") == 0);  // consumed by the check
  const uint64_t n = [&] {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(bytes[i])) << (8 * i);
    return v;
  }();
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  REQUIRE(header["__metadata__"]["ember.crc32"].is_string());
  CHECK(nlohmann::json::parse(header["__metadata__"]["ember.crc32"].get<std::string>())
            .contains(last_weight_name()));
}

TEST_CASE("checkpoints verify their tensors too", "[hardening][bundle][cpu]") {
  test::TempDir dir("crc_ckpt");
  const std::string path = test::write_bundle(dir.path / "m.ember");
  // Tamper with the checksum list instead of the data: a tensor left out, or one made up.
  CHECK_THROWS_WITH(load_safetensors(rewrite(
                        path, dir.path / "a.ember",
                        [](auto& m) { m["ember.crc32"] = R"({"nope": "00000000"})"; }, false)),
                    Contains("no checksum") || Contains("nope"));
  CHECK_THROWS_WITH(
      load_safetensors(rewrite(
          path, dir.path / "b.ember", [](auto& m) { m["ember.crc32"] = "[1, 2"; }, false)),
      Contains("ember.crc32"));
}

TEST_CASE("files without checksums still load, and say so", "[hardening][bundle][cpu]") {
  test::TempDir dir("crc_old");
  const std::string old = rewrite(test::write_bundle(dir.path / "m.ember"), dir.path / "old.ember",
                                  {}, /*checksums=*/false);
  SafetensorsFile f = load_safetensors(old);
  CHECK_FALSE(f.checksummed);
  Bundle b = load_bundle(old);
  REQUIRE(b.warnings.size() == 1);
  CHECK_THAT(b.warnings[0], Contains("old.ember") && Contains("checksum"));
  test::CliResult r = test::run_ember("predict " + old + " 'not good'");
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Contains("warning") && Contains("checksum"));
}

TEST_CASE("class names must fit the model's output", "[hardening][bundle][cpu]") {
  test::TempDir dir("classes");
  const std::string path = test::write_bundle(dir.path / "m.ember");
  CHECK_THROWS_WITH(
      load_bundle(rewrite(path, dir.path / "three.ember",
                          [](auto& m) { m["ember.class_names"] = R"(["a", "b", "c"])"; })),
      Contains("three.ember") && Contains("3 class names") && Contains("2"));
  CHECK_THROWS_WITH(load_bundle(rewrite(path, dir.path / "dup.ember",
                                        [](auto& m) { m["ember.class_names"] = R"(["a", "a"])"; })),
                    Contains("'a'") && Contains("twice"));
}

TEST_CASE("a bundle's maxlen must be its config's", "[hardening][bundle][cpu]") {
  test::TempDir dir("maxlen");
  const std::string path = test::write_bundle(dir.path / "m.ember");
  for (const char* bad : {"1000000000", "0", "-3", "8x"}) {
    INFO(bad);
    CHECK_THROWS_WITH(load_bundle(rewrite(path, dir.path / "big.ember",
                                          [&](auto& m) { m["ember.maxlen"] = bad; })),
                      Contains("big.ember") && Contains("maxlen"));
  }
}

TEST_CASE("a bundle's train limit must be a row count", "[hardening][bundle][cpu]") {
  test::TempDir dir("limit");
  const std::string path = test::write_bundle(dir.path / "m.ember");
  CHECK(load_bundle(path).train_limit == 0);  // no key: every row
  CHECK(load_bundle(rewrite(path, dir.path / "ok.ember", [](auto& m) {
          m["ember.train_limit"] = "250";
        })).train_limit == 250);
  for (const char* bad : {"0", "-3", "8x", "", "1000000000000000000000"}) {
    INFO(bad);
    CHECK_THROWS_WITH(load_bundle(rewrite(path, dir.path / "bad.ember",
                                          [&](auto& m) { m["ember.train_limit"] = bad; })),
                      Contains("bad.ember") && Contains("train_limit"));
  }
}
