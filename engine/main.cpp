// ember: the command line. `ember train CONFIG` trains, `ember summary CONFIG` prints the
// Keras-style layer table. Every error the user can fix reaches here as an exception and is
// printed as one message with exit code 1 (2 for usage errors); nothing below calls exit().
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "engine/config.h"
#include "engine/device.h"
#include "engine/trainer.h"
#include "layers/builder.h"

int main(int argc, char** argv) {
  ember::tune_host_allocator();
  CLI::App app{"ember: train, evaluate and run recurrent text models from one YAML file"};
  app.require_subcommand(1);

  std::string config_path;
  ember::TrainOptions topts;
  int64_t epochs = -1;
  int64_t seed = -1;
  auto* train = app.add_subcommand("train", "train the model a config describes");
  train->add_option("config", config_path, "config file (YAML)")->required();
  train->add_option("--device", topts.device, "auto, cpu or cuda")->capture_default_str();
  train->add_option("--out", topts.out_dir, "run directory (default runs/<name>)");
  train->add_option("--epochs", epochs, "override train.epochs");
  train->add_option("--limit", topts.limit, "train on the first N rows only");
  train->add_option("--max-steps", topts.max_steps, "stop after N training steps");
  train->add_option("--seed", seed, "override the config's seed");

  auto* summary = app.add_subcommand("summary", "print the model's layers, shapes and parameters");
  summary->add_option("config", config_path, "config file (YAML)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    ember::Config cfg = ember::load_config(config_path);
    if (*summary) {
      ember::Model model = ember::build_model(cfg, ember::DType::kFloat32);
      std::cout << model.summary();
      return 0;
    }
    if (epochs > 0) topts.epochs = epochs;
    if (seed >= 0) cfg.seed = static_cast<uint64_t>(seed);
    ember::train_from_config(cfg, topts, std::cout);
    return 0;
  } catch (const ember::Error& e) {
    std::cerr << "ember: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ember: error: " << e.what() << "\n";
  }
  return 1;
}
