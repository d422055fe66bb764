// Every config the repository ships (configs/*.yaml, configs/recipes/*.yaml) parses, and each
// recipe keeps its faithful config's protocol: configs/recipes/<seed>_recipe.yaml has the
// same data section as configs/<seed>.yaml (same files, splits, labels and cleaning, so the
// same test set) and the same layer types in the same order (the same architecture family;
// options such as mask_zero or a dropout rate may differ). No data is read.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/parse/load_config.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path());
  return out;
}

std::vector<std::string> layer_types(const YAML::Node& model) {
  std::vector<std::string> out;
  for (const YAML::Node& layer : model)
    out.push_back(layer.IsMap() ? layer.begin()->first.as<std::string>() : layer.as<std::string>());
  return out;
}

}  // namespace

TEST_CASE("every shipped config parses", "[config][cpu]") {
  const fs::path root = fs::path(EMBER_SOURCE_DIR) / "configs";
  std::vector<fs::path> files = yaml_files(root);
  const std::vector<fs::path> recipes = yaml_files(root / "recipes");
  files.insert(files.end(), recipes.begin(), recipes.end());
  REQUIRE(files.size() >= 9 + 3);  // the seed configs, synthetic.yaml and the recipes
  for (const fs::path& f : files) {
    INFO(f.string());
    CHECK_NOTHROW(load_config(f.string()));
  }
}

TEST_CASE("a recipe keeps its faithful config's data and layer types", "[config][cpu]") {
  const fs::path root = fs::path(EMBER_SOURCE_DIR) / "configs";
  const std::string suffix = "_recipe";
  int checked = 0;
  for (const fs::path& r : yaml_files(root / "recipes")) {
    INFO(r.string());
    const std::string stem = r.stem().string();
    REQUIRE(stem.size() > suffix.size());
    REQUIRE(stem.substr(stem.size() - suffix.size()) == suffix);
    const fs::path faithful = root / (stem.substr(0, stem.size() - suffix.size()) + ".yaml");
    REQUIRE(fs::exists(faithful));
    const YAML::Node a = YAML::LoadFile(r.string()), b = YAML::LoadFile(faithful.string());
    CHECK(a["name"].as<std::string>() == stem);  // runs/<name> never collides
    CHECK(YAML::Dump(a["data"]) == YAML::Dump(b["data"]));
    CHECK(layer_types(a["model"]) == layer_types(b["model"]));
    ++checked;
  }
  CHECK(checked >= 3);
}
