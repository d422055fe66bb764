// Model: naming, shape checking, parameter creation and the Keras-style summary table.
// Default names follow Keras: one counter per base name ("dense", "dense_1", ...), skipping
// names already taken. The summary's column stops (29, 55, 65) are Keras 2.9+'s for a
// Sequential model, widened for the whole table when a layer's "name (Type)" is longer.
#include "layers/model.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <sstream>

namespace ember {

std::string keras_snake_case(const std::string& type) {
  // Keras's to_snake_case: '_' before a capitalized word ("GlobalMaxPooling1D" ->
  // "Global_Max_Pooling1D"), then between a lower-case and an upper-case letter; "1D" keeps
  // no '_' (digit before the capital), so the result is "global_max_pooling1d".
  static const std::regex kWordAfterAny("(.)([A-Z][a-z0-9]+)");
  static const std::regex kUpperAfterLower("([a-z])([A-Z])");
  std::string s = std::regex_replace(type, kWordAfterAny, "$1_$2");
  s = std::regex_replace(s, kUpperAfterLower, "$1_$2");
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Model::Model(std::string name) : name_(std::move(name)) {}

bool Model::name_taken(const std::string& n) const {
  for (const auto& l : layers_)
    if (l->name == n) return true;
  return false;
}

std::string Model::default_name(const Layer& layer) {
  // As Keras: only default-named layers advance the counter, so a user-named LSTM before an
  // unnamed one leaves the latter "lstm".
  const std::string base = keras_snake_case(layer.type());
  int& count = name_counters_[base];
  std::string n = count == 0 ? base : base + "_" + std::to_string(count);
  ++count;
  while (name_taken(n)) n = base + "_" + std::to_string(count++);
  return n;
}

void Model::add(std::unique_ptr<Layer> layer, SourceLoc loc) {
  EMBER_CHECK_ARG(layer != nullptr, "Model::add: null layer");
  EMBER_CHECK_ARG(!built_, "Model::add after build()");
  const std::string where = loc.file.empty() ? std::string() : loc.str() + ": ";
  if (layer->name.empty()) {
    layer->name = default_name(*layer);
  } else if (name_taken(layer->name)) {
    throw ConfigError(where + "layer name '" + layer->name +
                      "' is already used by another layer; names must be unique");
  }
  if (layers_.empty() && std::string(layer->type()) != "Embedding") {
    throw ConfigError(where + "layer '" + layer->name + "' (" + layer->type() +
                      ") cannot be the first layer: the model's input is token ids, so it "
                      "must start with an Embedding");
  }
  layer->index = static_cast<int>(layers_.size());
  layers_.push_back(std::move(layer));
  locs_.push_back(std::move(loc));
  shapes_.emplace_back();
}

// A layer's shape complaint without check.h's " (layers/x.cpp:12)" site, which means nothing
// to a user reading a config error.
static std::string strip_site(const std::string& what) {
  static const std::regex kSite(" \\(([A-Za-z0-9_]+/)+[A-Za-z0-9_]+\\.(cpp|cu|cuh|h):[0-9]+\\)$");
  return std::regex_replace(what, kSite, "");
}

void Model::build(int64_t maxlen, DType dt, uint64_t seed) {
  EMBER_CHECK_ARG(!built_, "Model::build called twice on '" << name_ << "'");
  EMBER_CHECK_ARG(maxlen > 0, "Model::build: maxlen must be positive, got " << maxlen);
  EMBER_CHECK_ARG(!layers_.empty(), "Model::build: model '" << name_ << "' has no layers");
  FeatureShape shape{maxlen};
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    try {
      FeatureShape out = l.output_shape(shape);
      InitRng rng(seed, static_cast<uint64_t>(i));
      l.build(shape, dt, rng);
      shapes_[i] = out;
      shape = out;
    } catch (const std::invalid_argument& e) {
      std::string msg = locs_[i].file.empty() ? std::string() : locs_[i].str() + ": ";
      msg += "layer '" + l.name + "' (" + l.type() + ") ";
      if (i == 0) {
        msg += "cannot read the model input " + feature_shape_str(shape);
      } else {
        const Layer& prev = *layers_[i - 1];
        msg += "cannot follow '" + prev.name + "' (" + prev.type() + ")";
      }
      throw ConfigError(msg + ": " + strip_site(e.what()));
    } catch (const AllocationError& e) {
      // Weights too large for the machine (a typo'd input_dim or units): name the layer.
      std::string msg = locs_[i].file.empty() ? std::string() : locs_[i].str() + ": ";
      throw AllocationError(msg + "layer '" + l.name + "' (" + l.type() + "): " + e.what());
    }
  }
  maxlen_ = maxlen;
  built_ = true;
}

LayerIO Model::forward(const Tensor& tokens, const RunContext& ctx) {
  EMBER_CHECK_ARG(built_, "Model::forward before build() on '" << name_ << "'");
  EMBER_CHECK_ARG(tokens.ndim() == 2 && tokens.dtype() == DType::kInt32,
                  "Model::forward expects token ids int32 [B,T], got " << tokens.str());
  LayerIO io;
  io.x = ag::Var(tokens.to(device_), /*requires_grad=*/false);  // a no-op when already there
  for (auto& l : layers_) io = l->forward(io, ctx);
  return io;
}

void Model::to(Device dev) {
  for (ag::Var* p : parameters()) {
    p->mutable_value() = p->value().to(dev);
    p->zero_grad();
  }
  device_ = dev;
}

std::vector<std::pair<std::string, ag::Var*>> Model::named_parameters() {
  std::vector<std::pair<std::string, ag::Var*>> out;
  for (auto& l : layers_)
    for (Param& p : l->params()) out.emplace_back(l->name + "/" + p.name, &p.var);
  return out;
}

std::vector<ag::Var*> Model::parameters() {
  std::vector<ag::Var*> out;
  for (auto& l : layers_)
    for (Param& p : l->params()) out.push_back(&p.var);
  return out;
}

int64_t Model::param_count() const {
  int64_t n = 0;
  for (const auto& l : layers_) n += l->param_count();
  return n;
}

FeatureShape Model::output_shape() const {
  EMBER_CHECK_ARG(built_, "Model::output_shape before build() on '" << name_ << "'");
  return shapes_.back();
}

// 1234567 -> "1,234,567", as Keras prints the totals.
static std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string Model::summary() const {
  // Cells start at columns 0, 29 and 55, each with one leading space, as Keras's; where a
  // "name (Type)" cell is longer (global_max_pooling1d (GlobalMaxPooling1D)), the columns move
  // right for the whole table instead of Keras's truncation, so rows stay aligned and whole.
  size_t first = 28;
  for (const auto& l : layers_)
    first = std::max(first, l->name.size() + std::string(l->type()).size() + 5);
  const size_t kStops[] = {first, first + 26};
  const std::string rule_thin(first + 37, '_'), rule_thick(first + 37, '=');
  auto row = [&](const std::string& a, const std::string& b, const std::string& c) {
    std::string line;
    const std::string cells[] = {a, b, c};
    for (int i = 0; i < 3; ++i) {
      line += ' ' + cells[i];
      if (i < 2 && line.size() < kStops[i]) line += std::string(kStops[i] - line.size(), ' ');
    }
    return line + "\n";
  };
  std::ostringstream o;
  o << "Model: \"" << name_ << "\"\n" << rule_thin << "\n";
  o << row("Layer (type)", "Output Shape", "Param #") << rule_thick << "\n";
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = *layers_[i];
    std::string shape = built_ ? feature_shape_str(shapes_[i]) : "?";
    o << row(l.name + " (" + l.type() + ")", shape, std::to_string(l.param_count()));
  }
  const int64_t total = param_count();
  o << rule_thick << "\n";
  o << "Total params: " << with_commas(total) << "\n";
  o << "Trainable params: " << with_commas(total) << "\n";
  o << "Non-trainable params: 0\n";
  o << rule_thin << "\n";
  return o.str();
}

}  // namespace ember
