// Issue 14 (9): clear messages for hostile sizes and file kinds. An allocation too large for
// the machine says what it was for, its shape and its size (not a bare std::bad_alloc); a data
// file that decompresses past data.max_file_mb is refused naming the file and the limit (a
// gzip bomb); a directory, FIFO or character device given as a config, data file, bundle or
// checkpoint is refused as such; a padding value the Embedding cannot look up is a config
// error at parse time.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>
#include <sstream>

#include "engine/config/config.h"
#include "engine/core/tensor.h"
#include "engine/data/sequence.h"
#include "engine/io/bundle.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"
#include "tests/support/hardening_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
namespace fs = std::filesystem;
using test::replaced;

namespace {
// A gzip file of `n` bytes of 'a' (a 2 MiB text compresses to a few KiB).
void write_gzip(const fs::path& p, size_t n) {
  gzFile g = gzopen(p.c_str(), "wb9");
  REQUIRE(g);
  const std::string chunk(1 << 16, 'a');
  for (size_t done = 0; done < n; done += chunk.size())
    gzwrite(g, chunk.data(), static_cast<unsigned>(std::min(chunk.size(), n - done)));
  gzclose(g);
}

// A config reading `train_file` (lines, one label) and nothing else.
std::string lines_config(const std::string& train_file, const std::string& extra = "") {
  return "name: real\nseed: 1\ndata:\n  train: {file: " + train_file +
         ", format: lines, label: pos}\n  labels: [neg, pos]\n" + extra +
         "sequence: {maxlen: 8}\nmodel:\n  - Embedding: {input_dim: 48, output_dim: 4}\n"
         "  - LSTM: {units: 3}\n  - Dense: {units: 1, activation: sigmoid}\n";
}
}  // namespace

TEST_CASE("an allocation too large says what, how large and its shape", "[hardening][input][cpu]") {
  auto build = [](const std::string& yaml) {
    return build_model(parse_config(yaml, "big.yaml"), DType::kFloat32);
  };
  CHECK_THROWS_WITH(build(replaced(test::kTinyYaml, "input_dim: 48", "input_dim: 1000000000000")),
                    Contains("big.yaml:7:") && Contains("'embedding' (Embedding)") &&
                        Contains("float32[1000000000000, 4]") && Contains("GiB"));
  CHECK_THROWS_WITH(build(replaced(test::kTinyYaml, "units: 3", "units: 1000000000")),
                    Contains("'lstm' (LSTM)") && Contains("cannot allocate"));
  // Sizes whose product overflows 64 bits are refused, not wrapped.
  CHECK_THROWS_WITH(
      build(replaced(replaced(test::kTinyYaml, "input_dim: 48", "input_dim: 4611686018427387904"),
                     "output_dim: 4", "output_dim: 1099511627776")),
      Contains("'embedding' (Embedding)") && Contains("elements"));
  // A padded length no machine holds (a bundle whose config claims maxlen 10^12).
  CHECK_THROWS_WITH(pad_sequences({{1, 2}}, 1000000000000, PadSide::kPre, PadSide::kPre, 0),
                    Contains("int32[1, 1000000000000]") && Contains("cannot allocate"));
  // The limit is per tensor and can be lowered (the fuzz targets do).
  const size_t old = host_tensor_limit();
  set_host_tensor_limit(1 << 20);
  CHECK_THROWS_WITH(Tensor::empty({1 << 19}, DType::kFloat32),
                    Contains("float32[524288]") && Contains("2.0 MiB") && Contains("1.0 MiB"));
  set_host_tensor_limit(old);
  CHECK_NOTHROW(Tensor::empty({1 << 19}, DType::kFloat32));
}

TEST_CASE("a data file past data.max_file_mb is refused naming it (gzip bomb)",
          "[hardening][input][cpu]") {
  test::TempDir dir("bomb");
  write_gzip(dir.path / "bomb.txt.gz", 3 << 20);
  Config cfg = parse_config(lines_config("bomb.txt.gz", "  max_file_mb: 1\n"), "bomb.yaml");
  CHECK(cfg.data.max_file_mb == 1);
  CHECK_THROWS_WITH(load_data(cfg, dir.str()),
                    Contains("bomb.txt.gz") && Contains("1 MiB") && Contains("data.max_file_mb"));
  // Under the limit the same file loads; plain files obey the limit too.
  Config roomy = parse_config(lines_config("bomb.txt.gz", "  max_file_mb: 8\n"), "ok.yaml");
  CHECK_NOTHROW(load_data(roomy, dir.str()));
  test::write_text(dir.path, "plain.txt", std::string(3 << 20, 'b'));
  Config plain = parse_config(lines_config("plain.txt", "  max_file_mb: 1\n"), "p.yaml");
  CHECK_THROWS_WITH(load_data(plain, dir.str()), Contains("plain.txt") && Contains("1 MiB"));
  CHECK_THAT(test::config_error_of(lines_config("x.txt", "  max_file_mb: 0\n")),
             Contains("data.max_file_mb"));
}

TEST_CASE("a directory, FIFO or device is refused as such wherever a file is read",
          "[hardening][input][cpu]") {
  test::TempDir dir("kinds");
  fs::create_directories(dir.path / "adir");
  REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
  const std::string adir = (dir.path / "adir").string(), fifo = (dir.path / "fifo").string();
  // Bundles and checkpoints (a FIFO would block the reader forever).
  CHECK_THROWS_WITH(load_bundle(adir), Contains(adir) && Contains("is a directory"));
  CHECK_THROWS_WITH(load_bundle("/dev/null"),
                    Contains("/dev/null") && Contains("character device"));
  CHECK_THROWS_WITH(load_bundle(fifo), Contains("FIFO"));
  // Configs.
  CHECK_THROWS_WITH(load_config(adir), Contains("is a directory"));
  CHECK_THROWS_WITH(load_config(fifo), Contains("FIFO"));
  // Data files: not "not found".
  for (const auto& [file, why] : {std::pair<std::string, std::string>{adir, "is a directory"},
                                  {"/dev/null", "character device"},
                                  {fifo, "FIFO"}}) {
    INFO(file);
    Config cfg = parse_config(lines_config(file), "k.yaml");
    CHECK_THROWS_WITH(load_data(cfg, dir.str()), Contains(why) && !Contains("not found"));
  }
  // --resume with a directory.
  Config cfg = parse_config(test::kTinyYaml, "tiny.yaml");
  TrainOptions opts;
  opts.out_dir = (dir.path / "run").string();
  opts.resume = adir;
  opts.progress = 0;
  std::ostringstream log;
  CHECK_THROWS_WITH(train_from_config(cfg, opts, log), Contains("is a directory"));
}

TEST_CASE("a padding value the Embedding cannot look up is a config error",
          "[hardening][input][config][cpu]") {
  for (const char* bad : {"48", "1000", "-1"}) {
    INFO(bad);
    const std::string yaml = replaced(test::kTinyYaml, "sequence: {maxlen: 8}",
                                      std::string("sequence: {maxlen: 8, value: ") + bad + "}");
    CHECK_THAT(test::config_error_of(yaml),
               StartsWith("configs/x.yaml:5:") && Contains("sequence.value"));
  }
  CHECK(test::config_error_of(replaced(test::kTinyYaml, "sequence: {maxlen: 8}",
                                       "sequence: {maxlen: 8, value: 47}")) == "");
}
