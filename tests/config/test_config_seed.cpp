// `--seed N` (with_seed): the config's text is rewritten to hold seed N, since the text is
// what config.yaml and a bundle keep and `ember evaluate` redraws seeded splits from it. The
// top-level `seed:` line is replaced (nested seeds untouched) or one is added before the first
// key; a text that cannot be rewritten is refused, naming --seed. End to end: the bundle of a
// --seed run evaluates on the test rows its own run was scored on.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "engine/cli/commands.h"
#include "engine/config/config.h"
#include "engine/parse/load_config.h"
#include "engine/train/trainer.h"
#include "tests/support/dist_test_util.h"
#include "tests/support/loader_test_util.h"
#include "tests/support/test_util.h"
#include "tests/support/tiny_config.h"

using namespace ember;
using Catch::Matchers::Contains;

namespace {

// The tiny model without its first line, `seed: 1`; data and sequence stay.
const std::string kNoSeed = test::kTinyModelYaml.substr(test::kTinyModelYaml.find('\n') + 1);
const std::string kModelOnly = "sequence: {maxlen: 8}\n" + kNoSeed.substr(kNoSeed.find("model:"));

}  // namespace

TEST_CASE("with_seed replaces the top-level seed line", "[config][cpu]") {
  const Config c = parse_config("name: a\nseed: 7  # the notebook's\n" + kNoSeed, "a.yaml");
  const Config r = with_seed(c, 2);
  CHECK(r.seed == 2);
  CHECK(r.path == c.path);
  CHECK_THAT(r.text, Contains("\nseed: 2  # from --seed\n") && !Contains("seed: 7"));
  CHECK(parse_config(r.text, "again.yaml").seed == 2);
  CHECK(r.model.size() == c.model.size());
  CHECK(r.name == "a");
}

TEST_CASE("with_seed adds a seed line before the first key", "[config][cpu]") {
  const std::string head = "# a comment\n---\n";
  const Config c = parse_config(head + "name: b\n" + kNoSeed, "b.yaml");
  const Config r = with_seed(c, 11);
  CHECK(r.seed == 11);
  CHECK(r.text.rfind(head + "seed: 11  # from --seed\nname: b\n", 0) == 0);
}

TEST_CASE("with_seed leaves a nested seed alone", "[config][cpu]") {
  const Config c = parse_config(
      "data: {synthetic: {n_train: 8, n_val: 4, n_test: 4, maxlen: 5, seed: 3}}\n"
      "seed: 4\n" +
          kModelOnly,
      "c.yaml");
  const Config r = with_seed(c, 9);
  CHECK(r.seed == 9);
  CHECK_THAT(r.text, Contains("seed: 3}}") && Contains("\nseed: 9  # from --seed\n"));
}

TEST_CASE("with_seed refuses a text it cannot rewrite", "[config][cpu]") {
  const Config flow = parse_config("{name: d, seed: 1}", "d.yaml");
  try {
    with_seed(flow, 5);
    FAIL("expected an error");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), Contains("d.yaml: --seed 5: cannot write the seed") &&
                             Contains("put `seed: 5` in the file"));
  }
  // A seed value on its own line after `seed:` leaves a stray line behind: refused too.
  const Config split = parse_config("seed:\n  1\n" + kNoSeed, "e.yaml");
  CHECK_THROWS_AS(with_seed(split, 5), ConfigError);
}

TEST_CASE("a --seed run's bundle evaluates on the rows the run was scored on", "[config][cpu]") {
  test::TempDir d("seedeval");
  test::write_film_files(d, 6, "bad film", "good film");
  // Varied rows, so another seed's test_split would hold other texts.
  std::string rows = "text,label\n";
  for (int i = 0; i < 40; ++i)
    rows += std::string(i % 2 ? "good" : "bad") + " film " + std::to_string(i) + "," +
            (i % 2 ? "pos" : "neg") + "\n";
  d.write("films.csv", rows);
  const Config cfg = parse_config(std::string("name: films\nseed: 1\n") + test::kFilmsData +
                                      R"(tokenizer: {num_words: 50}
sequence: {maxlen: 4}
model:
  - Embedding: {input_dim: 50, output_dim: 4}
  - LSTM: {units: 3}
  - Dense: {units: 1, activation: sigmoid}
train: {optimizer: {name: adam, learning_rate: 0.05}, epochs: 2, batch_size: 8}
)",
                                  "films.yaml");
  INFO(test::train_in(d, with_seed(cfg, 6)));
  std::ifstream in(d.path / "run" / "metrics.json");
  const nlohmann::json trained = nlohmann::json::parse(in);
  CHECK(parse_config(test::read_file((d.path / "run" / "config.yaml").string()), "c").seed == 6);

  EvaluateOptions eo{"", d.str(), true, "test"};
  std::ostringstream out;
  REQUIRE(evaluate_command((d.path / "run" / "model.ember").string(), eo, out) == 0);
  const nlohmann::json j = nlohmann::json::parse(out.str());
  CHECK(j["rows"] == trained["rows"]);
  CHECK(j["loss"].get<double>() == Approx(trained["loss"].get<double>()).epsilon(1e-6));
  CHECK(j["confusion_matrix"] == trained["confusion_matrix"]);
}
