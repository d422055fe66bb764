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

}  // namespace ember
