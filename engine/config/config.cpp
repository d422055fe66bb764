// The few functions of the config types (config.h): the loss names and source locations.
// Reading a config file into them is the parse layer's (engine/parse/load_config.h).
#include "engine/config/config.h"

#include <string>

namespace ember {

const char* loss_name(Loss l) {
  return l == Loss::kBinaryCrossentropy ? "binary_crossentropy" : "sparse_categorical_crossentropy";
}

std::string SourceLoc::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace ember
