// The sections of a config file, one parser per file of engine/parse (internal to it):
// data_section.cpp, model_section.cpp, train_section.cpp; load_config.cpp reads the rest.
#pragma once

#include <vector>

#include "engine/config/config.h"
#include "engine/config/config_reader.h"

namespace ember::config_detail {

DataConfig parse_data(const Reader& r, const Entry& data);
std::vector<LayerConfig> parse_model(const Reader& r, const Entry& model);
TrainConfig parse_train(const Reader& r, const Entry& train);

}  // namespace ember::config_detail
