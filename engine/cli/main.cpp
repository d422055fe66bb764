// ember: the command line. `ember train CONFIG` trains, `ember summary CONFIG` prints the
// Keras-style layer table, `ember data CONFIG` describes the dataset a config loads,
// `ember evaluate|predict BUNDLE` use a trained model, `ember compare RUN...` charts runs,
// `ember baseline CONFIG` scores majority-class and bag-of-words baselines on the same data.
// Every error the user can fix reaches here as an exception and is printed as one message with
// exit code 1 (2 for usage errors; 130, 143 or 129 after SIGINT, SIGTERM or SIGHUP, which save
// interrupted.ckpt); nothing below calls exit().
#include <CLI/CLI.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>

#include "engine/cli/baseline.h"
#include "engine/cli/commands.h"
#include "engine/config/config.h"
#include "engine/core/device.h"
#include "engine/core/parallel.h"
#include "engine/data/reader.h"
#include "engine/parse/load_config.h"
#include "engine/pipeline/loader.h"
#include "engine/pipeline/stats.h"
#include "engine/train/dist_job.h"
#include "engine/train/trainer.h"
#include "layers/builder.h"

namespace {

// `ember data`: load with the texts kept, print the statistics, optionally save the tokenizer.
int data_command(const ember::Config& cfg, const std::string& data_dir, bool json,
                 const std::string& vocab_path) {
  if (!cfg.data.real())
    throw ember::Error(cfg.data.loc.str() +
                       ": data: `ember data` describes data files; this config uses "
                       "data.synthetic (engine/pipeline/synthetic.h describes that set)");
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

// The signal that asked training to stop (0: none). SIGINT (Ctrl-C), SIGTERM (what schedulers
// and `kill` send) and SIGHUP (a closed terminal) all save interrupted.ckpt; the exit code is
// then the shell's 128 + signal number (130, 143, 129).
std::atomic<int> g_stop_signal{0};

extern "C" void on_stop_signal(int sig) {
  // Only atomic stores here; the trainer writes the checkpoint at the end of its step. A
  // second signal of the same kind falls back to the default action and ends the process.
  g_stop_signal.store(sig);
  ember::interrupt_requested().store(true);
  std::signal(sig, SIG_DFL);
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a read or write in progress carries on
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

// CLI11 check for an integer option: at least `min` (and at most `max`), with a message
// naming what it means.
CLI::Validator at_least(int64_t min, const std::string& meaning,
                        int64_t max = std::numeric_limits<int64_t>::max()) {
  const bool bounded = max != std::numeric_limits<int64_t>::max();
  const std::string range = bounded ? "in " + std::to_string(min) + ".." + std::to_string(max)
                                    : ">= " + std::to_string(min);
  return CLI::Validator(
      [min, max, meaning, range](std::string& s) -> std::string {
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0' || errno == ERANGE || v < min || v > max)
          return "expected an integer " + range + " (" + meaning + "), got " + s;
        return "";
      },
      bounded ? "INT in " + std::to_string(min) + ".." + std::to_string(max)
              : "INT>=" + std::to_string(min));
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
  // Values that make no sense are refused, not silently ignored; "not given" is the option
  // being absent, never a special number.
  train->add_option("--epochs", epochs, "override train.epochs")
      ->check(at_least(1, "the number of epochs to train"));
  train->add_option("--limit", topts.limit, "train on the first N rows only")
      ->check(at_least(1, "rows to train on"));
  train
      ->add_option("--max-steps", topts.max_steps,
                   "stop once N training steps are done in all (0: write the initialised "
                   "model.ember and stop)")
      ->check(at_least(0, "training steps; 0 writes the initialised bundle"));
  train->add_option("--seed", seed, "override the config's seed")->check(at_least(0, "a seed"));
  train->add_option("--resume", topts.resume,
                    "continue from a checkpoint (last.ckpt, interrupted.ckpt)");
  // The CPU path's thread pool (engine/core/parallel.h); EMBER_NUM_THREADS when absent.
  int64_t threads = 0;
  auto add_threads = [&threads](CLI::App* sub) {
    sub->add_option("--threads", threads,
                    "CPU threads (default $EMBER_NUM_THREADS, else every core)")
        ->check(at_least(1, "CPU threads", 1024));
  };
  add_threads(train);

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
  data->add_option("--seed", seed, "override the config's seed (it picks the test_split rows)")
      ->check(at_least(0, "a seed"));

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
  baseline->add_option("--seed", seed, "override the config's seed (it picks split rows)")
      ->check(at_least(0, "a seed"));

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
  add_threads(evaluate);
  auto* predict = app.add_subcommand("predict", "label and class probabilities for texts");
  predict->add_option("bundle", bundle_path, "a model.ember bundle")->required();
  predict->add_option("texts", texts, "texts to classify (none: one per line on stdin)");
  predict->add_flag("--json", json, "one JSON object per line");
  add_threads(predict);
  auto* compare = app.add_subcommand("compare", "chart the test metrics of several runs");
  compare->add_option("runs", runs, "run directories")->required();
  compare->add_option("--out", svg_path, "SVG file to write")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 prints the message (or the help); every usage error exits 2, as documented.
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (threads > 0) ember::par::set_num_threads(static_cast<int>(threads));
    if (*evaluate) return ember::evaluate_command(bundle_path, eopts, std::cout);
    if (*predict) {
      if (texts.empty()) {
        // Lines as training reads a `lines` file (BOM skipped, CRLF or LF), so a text typed
        // on Windows tokenizes as it did in training.
        const std::string in((std::istreambuf_iterator<char>(std::cin)),
                             std::istreambuf_iterator<char>());
        texts = ember::data::split_lines(in);
      }
      return ember::predict_command(bundle_path, texts, json, std::cout);
    }
    if (*compare) return ember::compare_command(runs, svg_path, std::cout);
    ember::Config cfg = ember::load_config(config_path);
    if (seed >= 0) cfg = ember::with_seed(cfg, static_cast<uint64_t>(seed));
    if (*summary) {
      ember::Model model = ember::build_model(cfg, ember::DType::kFloat32);
      std::cout << model.summary();
      return 0;
    }
    if (*data) return data_command(cfg, data_dir, json, vocab_path);
    if (*baseline) return ember::baseline_command(cfg, bopts, std::cout);
    if (epochs > 0) topts.epochs = epochs;
    install_stop_handlers();
    ember::TrainResult r = ember::train_from_config(cfg, topts, std::cout);
    if (!r.interrupted) return 0;
    const int sig = g_stop_signal.load();
    const char* name = sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "SIGINT";
    std::cerr << "ember: stopped by " << name << "\n";
    return 128 + (sig ? sig : SIGINT);
  } catch (const ember::dist::ReportedByRankZero&) {
    // A data-parallel job's rank other than 0: rank 0 prints the job's error.
  } catch (const ember::Error& e) {
    std::cerr << "ember: " << e.what() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "ember: error: " << e.what() << "\n";
  }
  return 1;
}
