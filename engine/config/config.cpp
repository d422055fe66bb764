// The few functions of the config types (config.h): the names of their enums (the parser reads
// through these, so each name is written once) and source locations.
// Reading a config file into them is the parse layer's (engine/parse/load_config.h).
#include "engine/config/config.h"

#include <string>

namespace ember {

const char* loss_name(Loss l) {
  return l == Loss::kBinaryCrossentropy ? "binary_crossentropy" : "sparse_categorical_crossentropy";
}

const char* optimizer_name(OptimizerKind k) {
  return k == OptimizerKind::kAdam ? "adam" : "sgd";
}

const char* callback_name(CallbackKind k) {
  switch (k) {
    case CallbackKind::kEarlyStopping:
      return "EarlyStopping";
    case CallbackKind::kReduceLROnPlateau:
      return "ReduceLROnPlateau";
    case CallbackKind::kModelCheckpoint:
      return "ModelCheckpoint";
    case CallbackKind::kStopAtThreshold:
      return "StopAtThreshold";
  }
  return "?";
}

const char* monitor_mode_name(MonitorMode m) {
  switch (m) {
    case MonitorMode::kAuto:
      return "auto";
    case MonitorMode::kMin:
      return "min";
    case MonitorMode::kMax:
      return "max";
  }
  return "?";
}

std::string SourceLoc::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace ember
