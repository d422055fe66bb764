// Whole-model GPU training against the CPU: configs/synthetic.yaml (dropout, recurrent dropout
// and masks all on) for 20 steps from the same seed. The GPU draws the same dropout masks, so
// its losses follow the CPU's to 1e-4 relative; two GPU runs give identical losses.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/config.h"
#include "engine/trainer.h"
#include "layers/builder.h"

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
}  // namespace

TEST_CASE("GPU training follows the CPU losses and repeats itself exactly", "[gpu][train]") {
  std::vector<double> cpu = losses_on(Device::cpu());
  std::vector<double> gpu = losses_on(Device::cuda(0));
  std::vector<double> gpu2 = losses_on(Device::cuda(0));
  REQUIRE(cpu.size() == 20);
  REQUIRE(gpu.size() == 20);
  double worst = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double rel = std::fabs(gpu[i] - cpu[i]) / std::fabs(cpu[i]);
    worst = std::fmax(worst, rel);
    INFO("step " << i << ": cpu " << cpu[i] << " gpu " << gpu[i]);
    CHECK(rel <= 1e-4);
  }
  std::printf("parity training_losses_20_steps: max_rel=%.3g\n", worst);
  CHECK(gpu == gpu2);  // bitwise: same seed, same result
}
