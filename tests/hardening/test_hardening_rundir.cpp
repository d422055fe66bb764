// Issue 14 (2)-(4): the run directory under failure and concurrency. A train that fails (a
// mistyped --resume path, a config that does not match the checkpoint, a NaN in the first
// epoch) leaves an existing run directory byte for byte as it was; a run resumed in place ends
// with the same losses.csv and history.csv as one that never stopped; a second run on the same
// directory is refused naming the first one's pid; two writers of one file never share a
// temporary name.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "engine/io/safetensors.h"
#include "engine/parse/load_config.h"
#include "engine/train/run_lock.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"
#include "tests/support/hardening_util.h"
#include "tests/support/test_util.h"

using namespace ember;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
// Every file of a directory tree and its bytes.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      files[fs::relative(e.path(), dir).string()] = test::read_text(e.path());
  return files;
}

TrainResult train(const std::string& yaml, const fs::path& out, const std::string& resume = "",
                  std::optional<int64_t> epochs = {}) {
  Config cfg = parse_config(yaml, "tiny.yaml");
  TrainOptions opts;
  opts.out_dir = out.string();
  opts.resume = resume;
  opts.epochs = epochs;
  opts.progress = 0;
  // The CPU: in an emulator build `auto` takes the emulated GPU, whose loss stays finite
  // (~1e37) where the CPU's turns NaN at the overflow the NaN case relies on.
  opts.device = "cpu";
  std::ostringstream log;
  return train_from_config(cfg, opts, log);
}

// history.csv without its seconds column (wall time differs between runs).
std::string history_sans_seconds(const fs::path& file) {
  std::istringstream in(test::read_text(file));
  std::string out, line;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}
}  // namespace

TEST_CASE("a failed train leaves an existing run directory as it was", "[hardening][rundir][cpu]") {
  test::TempDir dir("failed_train");
  const fs::path run = dir.path / "run";
  train(test::kTinyYaml, run);
  const auto before = snapshot(run);
  REQUIRE(before.count("model.ember"));
  REQUIRE(before.count("metrics.json"));

  SECTION("a mistyped --resume path") {
    CHECK_THROWS_WITH(train(test::kTinyYaml, run, (run / "lats.ckpt").string()),
                      Contains("lats.ckpt"));
  }
  SECTION("a config that does not match the checkpoint") {
    CHECK_THROWS_WITH(train(test::replaced(test::kTinyYaml, "units: 3", "units: 5"), run,
                            (run / "last.ckpt").string()),
                      Contains("lstm/kernel"));
  }
  SECTION("a NaN loss in the first epoch of a new run") {
    CHECK_THROWS_WITH(train(test::replaced(test::kTinyYaml, "optimizer: adam",
                                           "optimizer: {name: adam, learning_rate: 1e30}"),
                            run),
                      Contains("at step"));
  }
  const auto after = snapshot(run);
  for (const auto& [name, bytes] : before) {
    INFO(name);
    CHECK(after.count(name));
    CHECK((after.count(name) && after.at(name) == bytes));
  }
  for (const auto& [name, bytes] : after) {
    INFO(name);
    CHECK((before.count(name) || name == ".lock"));
  }
}

TEST_CASE("a run resumed in place writes the files of an uninterrupted run",
          "[hardening][rundir][cpu]") {
  test::TempDir dir("resume_files");
  const std::string yaml = test::replaced(test::kTinyYaml, "epochs: 2", "epochs: 3");
  train(yaml, dir.path / "full");

  // Stopped after its first step (Ctrl-C's path), then resumed in place.
  interrupt_requested().store(true);
  TrainResult part = train(yaml, dir.path / "part");
  interrupt_requested().store(false);
  REQUIRE(part.interrupted);
  train(yaml, dir.path / "part", (dir.path / "part" / "interrupted.ckpt").string());
  CHECK(test::read_text(dir.path / "part" / "losses.csv") ==
        test::read_text(dir.path / "full" / "losses.csv"));
  CHECK(history_sans_seconds(dir.path / "part" / "history.csv") ==
        history_sans_seconds(dir.path / "full" / "history.csv"));
  CHECK_FALSE(fs::exists(dir.path / "part" / "interrupted.ckpt"));  // superseded by last.ckpt

  // Two epochs, then on to three from last.ckpt.
  train(yaml, dir.path / "two", "", 2);
  train(yaml, dir.path / "two", (dir.path / "two" / "last.ckpt").string());
  CHECK(test::read_text(dir.path / "two" / "losses.csv") ==
        test::read_text(dir.path / "full" / "losses.csv"));
  CHECK(history_sans_seconds(dir.path / "two" / "history.csv") ==
        history_sans_seconds(dir.path / "full" / "history.csv"));
  const std::string losses = test::read_text(dir.path / "full" / "losses.csv");
  CHECK(losses.rfind("step,loss\n0,", 0) == 0);
  CHECK_THAT(losses, Contains("\n11,"));  // 4 steps x 3 epochs, numbered from 0
}

TEST_CASE("a run directory is locked: a second holder is refused naming the first's pid",
          "[hardening][rundir][cpu]") {
  test::TempDir dir("lock");
  {
    RunLock first(dir.str());
    CHECK_THROWS_WITH(RunLock(dir.str()),
                      Contains(dir.str()) && Contains("pid " + std::to_string(::getpid())));
  }
  // Released with its holder; a lock file left by a dead process is no obstacle (flock
  // locks die with their process), whatever pid it names.
  test::write_text(dir.path, ".lock", "999999\n");
  CHECK_NOTHROW(RunLock(dir.str()));
}

TEST_CASE("concurrent atomic writes of one file never share a temporary",
          "[hardening][rundir][cpu]") {
  test::TempDir dir("tmp_names");
  const std::string path = (dir.path / "f.txt").string();
  const std::string a(1 << 16, 'a'), b(1 << 16, 'b');
  std::string errors;
  auto writer = [&](const std::string& text, std::string* err) {
    try {
      for (int i = 0; i < 200; ++i) write_file_atomically(path, text);
    } catch (const std::exception& e) {
      *err = e.what();
    }
  };
  std::string ea, eb;
  std::thread t1(writer, std::cref(a), &ea), t2(writer, std::cref(b), &eb);
  t1.join();
  t2.join();
  CHECK(ea == "");
  CHECK(eb == "");
  const std::string got = test::read_text(path);
  CHECK((got == a || got == b));
  for (const auto& e : fs::directory_iterator(dir.path)) CHECK(e.path().filename() == "f.txt");
}
