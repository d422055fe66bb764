// Reading a config file: YAML -> the typed Config of engine/config/config.h, every value
// checked, the layers through their registry (layers/registry.h). This layer sits above
// layers/ because the model section asks the registry which layer types and keys exist.
#pragma once

#include <string>

#include "engine/config/config.h"

namespace ember {

// Parses and validates a config file. Throws ConfigError (file:line:column, key path).
Config load_config(const std::string& path);
Config parse_config(const std::string& yaml_text, const std::string& file_name);

// `--seed N`: the config with seed N, its text rewritten to say so (the top-level `seed:` line
// replaced, or one added before the first key), because the text is what a run directory's
// config.yaml and a bundle keep, and `ember evaluate` redraws test_split / validation_split
// rows from that text's seed. Throws ConfigError where the text cannot be rewritten (a
// flow-style top level); the rewritten text is parsed again and must give seed N.
Config with_seed(const Config& c, uint64_t seed);

}  // namespace ember
