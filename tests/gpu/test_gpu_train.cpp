// Whole-model GPU training against the CPU: configs/synthetic.yaml (dropout, recurrent dropout
// and masks all on) for 20 steps from the same seed. The GPU draws the same dropout masks, so
// its losses follow the CPU's to 1e-4 relative; two GPU runs give identical losses. Once
// through the trainer API, and once as a user runs it: `ember train --device cuda` against
// `ember train --device cpu`, comparing the run directories' losses.csv.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"
#include "tests/support/hardening_util.h"

using namespace ember;

namespace {
std::vector<double> losses_on(Device dev) {
  Config cfg = load_config(std::string(EMBER_SOURCE_DIR) + "/configs/synthetic.yaml");
  DataSplits data = load_data(cfg);
  Model model = build_model(cfg, DType::kFloat32);
  model.to(dev);
  TrainOptions opts;
  opts.write_run_dir = false;
  opts.max_steps = 20;
  std::ostringstream log;
  return Trainer(cfg, model, data, opts).fit(log).step_losses;
}

// The GPU's 20 step losses follow the CPU's to 1e-4 relative; prints the parity line.
void check_follows(const std::vector<double>& cpu, const std::vector<double>& gpu,
                   const char* name) {
  REQUIRE(cpu.size() == 20);
  REQUIRE(gpu.size() == 20);
  double worst = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double rel = std::fabs(gpu[i] - cpu[i]) / std::fabs(cpu[i]);
    worst = std::fmax(worst, rel);
    INFO("step " << i << ": cpu " << cpu[i] << " gpu " << gpu[i]);
    CHECK(rel <= 1e-4);
  }
  std::printf("parity %s: max_rel=%.3g\n", name, worst);
}
}  // namespace

TEST_CASE("GPU training follows the CPU losses and repeats itself exactly", "[gpu][train]") {
  std::vector<double> cpu = losses_on(Device::cpu());
  std::vector<double> gpu = losses_on(Device::cuda(0));
  std::vector<double> gpu2 = losses_on(Device::cuda(0));
  check_follows(cpu, gpu, "training_losses_20_steps");
  CHECK(gpu == gpu2);  // bitwise: same seed, same result
}

namespace {

// `ember train configs/synthetic.yaml --device DEV --max-steps 20` into a fresh directory;
// returns its losses.csv as one loss per step (the run must exit 0).
std::vector<double> cli_losses(const std::string& device) {
  namespace fs = std::filesystem;
  const fs::path out =
      fs::temp_directory_path() / ("ember_gpu_train_" + device + "_" + std::to_string(::getpid()));
  fs::remove_all(out);
  const std::string args = std::string("train ") + EMBER_SOURCE_DIR +
                           "/configs/synthetic.yaml --device " + device + " --max-steps 20 --out " +
                           out.string();
  const test::CliResult run = test::run_ember(args);
  INFO("ember " << args << "\n" << run.out);
  REQUIRE(run.code == 0);
  std::ifstream in(out / "losses.csv");
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "step,loss");
  std::vector<double> losses;
  while (std::getline(in, line)) losses.push_back(std::stod(line.substr(line.find(',') + 1)));
  fs::remove_all(out);
  return losses;
}

}  // namespace

TEST_CASE("ember train --device cuda follows ember train --device cpu", "[gpu][train][cli]") {
  const std::vector<double> cpu = cli_losses("cpu");
  const std::vector<double> gpu = cli_losses("cuda");
  check_follows(cpu, gpu, "cli_training_losses_20_steps");
}
