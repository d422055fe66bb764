// ember: the command line. `ember train CONFIG` trains, `ember summary CONFIG` prints the
// Keras-style layer table, `ember data CONFIG` describes the dataset a config loads,
// `ember evaluate|predict BUNDLE` use a trained model, `ember compare RUN...` charts runs,
// `ember baseline CONFIG` scores majority-class and bag-of-words baselines on the same data.
// Every error the user can fix reaches here as an exception and is printed as one message with
// exit code 1 (2 for usage errors, 130 after Ctrl-C); nothing below calls exit().
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "engine/baseline.h"
#include "engine/commands.h"
#include "engine/config.h"
#include "engine/data/loader.h"
#include "engine/data/stats.h"
#include "engine/device.h"
#include "engine/trainer.h"
#include "layers/builder.h"

namespace {

// `ember data`: load with the texts kept, print the statistics, optionally save the tokenizer.
int data_command(const ember::Config& cfg, const std::string& data_dir, bool json,
                 const std::string& vocab_path) {
  if (!cfg.data.real())
    throw ember::Error(cfg.data.loc.str() +
                       ": data: `ember data` describes data files; this config uses "
                       "data.synthetic (engine/synthetic.h describes that set)");
  ember::data::LoadReport rep;
  rep.keep_texts = true;
  ember::DataSplits splits =
      ember::data::load_dataset(cfg, ember::data::resolve_data_dir(data_dir), &rep);
  ember::data::DataStats stats = ember::data::compute_stats(cfg, splits, rep);
  if (!vocab_path.empty()) {
    std::ofstream f(vocab_path, std::ios::binary | std::ios::trunc);
    if (!f) throw ember::Error("--vocab: cannot write " + vocab_path);
    f << rep.tokenizer.to_json() << "\n";
    if (!f.flush()) throw ember::Error("--vocab: writing " + vocab_path + " failed (disk full?)");
  }
  if (json)
    std::cout << ember::data::stats_json(stats) << "\n";
  else
    std::cout << ember::data::format_stats(stats);
  if (!vocab_path.empty() && !json) std::cout << "\ntokenizer written to " << vocab_path << "\n";
  return 0;
}

extern "C" void on_sigint(int) {
  // Only an atomic store here; the trainer writes the checkpoint at the end of its step. A
  // second Ctrl-C falls back to the default action and ends the process at once.
  ember::interrupt_requested().store(true);
  std::signal(SIGINT, SIG_DFL);
}

}  // namespace

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
  train->add_option("--data-dir", topts.data_dir,
                    "directory the config's data paths are relative to (default $EMBER_DATA, "
                    "else ./data)");
  train->add_option("--out", topts.out_dir, "run directory (default runs/<name>)");
  train->add_option("--epochs", epochs, "override train.epochs");
  train->add_option("--limit", topts.limit, "train on the first N rows only");
  train->add_option("--max-steps", topts.max_steps, "stop after N training steps");
  train->add_option("--seed", seed, "override the config's seed");
  train->add_option("--resume", topts.resume, "continue from a checkpoint (last.ckpt, interrupted.ckpt)");

  auto* summary = app.add_subcommand("summary", "print the model's layers, shapes and parameters");
  summary->add_option("config", config_path, "config file (YAML)")->required();

  std::string data_dir, vocab_path;
  bool json = false;
  auto* data = app.add_subcommand(
      "data", "dataset statistics: rows, labels, lengths, vocabulary, OOV rate, truncation");
  data->add_option("config", config_path, "config file (YAML)")->required();
  data->add_option("--data-dir", data_dir,
                   "directory the config's data paths are relative to (default $EMBER_DATA, "
                   "else ./data)");
  data->add_flag("--json", json, "print one JSON object instead of tables");
  data->add_option("--vocab", vocab_path, "write the fitted tokenizer as JSON to this file");
  data->add_option("--seed", seed, "override the config's seed (it picks the test_split rows)");

  ember::BaselineOptions bopts;
  auto* baseline = app.add_subcommand(
      "baseline", "majority-class and bag-of-words logistic-regression baselines on the data");
  baseline->add_option("config", config_path, "config file (YAML)")->required();
  baseline->add_option("--data-dir", bopts.data_dir,
                       "directory the config's data paths are relative to (default "
                       "$EMBER_DATA, else ./data)");
  baseline->add_option("--out", bopts.out_dir,
                       "write baseline_<model>_<split>_metrics.json (and reports) here");
  baseline->add_flag("--json", bopts.json, "one JSON object per baseline and split");
  baseline->add_option("--seed", seed, "override the config's seed (it picks split rows)");

  std::string bundle_path, eval_config, svg_path = "compare.svg";
  std::vector<std::string> texts, runs;
  ember::EvaluateOptions eopts;
  auto* evaluate = app.add_subcommand("evaluate", "metrics of a trained bundle on its test data");
  evaluate->add_option("bundle", bundle_path, "a model.ember bundle")->required();
  evaluate->add_option("--config", eopts.config, "evaluate on this config's data instead");
  evaluate->add_option("--data-dir", eopts.data_dir, "data directory");
  evaluate->add_flag("--json", eopts.json, "print one JSON object");
  evaluate->add_option("--split", eopts.split,
                       "test (default), validation, or a data.extra_tests name");
  auto* predict = app.add_subcommand("predict", "label and class probabilities for texts");
  predict->add_option("bundle", bundle_path, "a model.ember bundle")->required();
  predict->add_option("texts", texts, "texts to classify (none: one per line on stdin)");
  predict->add_flag("--json", json, "one JSON object per line");
  auto* compare = app.add_subcommand("compare", "chart the test metrics of several runs");
  compare->add_option("runs", runs, "run directories")->required();
  compare->add_option("--out", svg_path, "SVG file to write")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*evaluate) return ember::evaluate_command(bundle_path, eopts, std::cout);
    if (*predict) {
      if (texts.empty())
        for (std::string line; std::getline(std::cin, line);) texts.push_back(line);
      return ember::predict_command(bundle_path, texts, json, std::cout);
    }
    if (*compare) return ember::compare_command(runs, svg_path, std::cout);
    ember::Config cfg = ember::load_config(config_path);
    if (seed >= 0) cfg.seed = static_cast<uint64_t>(seed);
    if (*summary) {
      ember::Model model = ember::build_model(cfg, ember::DType::kFloat32);
      std::cout << model.summary();
      return 0;
    }
    if (*data) return data_command(cfg, data_dir, json, vocab_path);
    if (*baseline) return ember::baseline_command(cfg, bopts, std::cout);
    if (epochs > 0) topts.epochs = epochs;
    std::signal(SIGINT, on_sigint);
    ember::TrainResult r = ember::train_from_config(cfg, topts, std::cout);
    return r.interrupted ? 130 : 0;
  } catch (const ember::Error& e) {
    std::cerr << "ember: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ember: error: " << e.what() << "\n";
  }
  return 1;
}
