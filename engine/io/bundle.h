// The one-file bundle: a safetensors file whose tensors are the model's weights (named
// "lstm/kernel", ...) and whose metadata holds everything else needed to use it in a fresh
// process: the config's YAML text, the fitted tokenizer (JSON), the cleaning steps and the
// class names. A training checkpoint is a bundle plus optimizer slots ("optimizer/..."),
// callback state and the run position (metadata "ember.checkpoint"). Written atomically.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/data/clean.h"
#include "engine/data/tokenizer.h"
#include "engine/io/safetensors.h"
#include "layers/model.h"

namespace ember {

constexpr const char* kBundleFormat = "ember-bundle-1";

struct BundleContents {
  std::string config_text;                     // the YAML the model was trained from
  std::string config_name;                     // for messages: "runs/x/config.yaml"
  const data::Tokenizer* tokenizer = nullptr;  // null for synthetic data (ids are the words)
  std::vector<std::string> clean_steps;
  std::vector<std::string> class_names;
  int64_t maxlen = 0;       // the padded length training used (sequence.maxlen may be unset)
  int64_t train_limit = 0;  // `ember train --limit N`: training took the first N rows (0: all)
  // Extra tensors and metadata (checkpoints: optimizer slots, run state).
  std::vector<std::pair<std::string, Tensor>> extra_tensors;
  std::map<std::string, std::string> extra_metadata;
};

void save_bundle(const std::string& path, Model& model, const BundleContents& contents);

// Everything a bundle holds, rebuilt: the model with its weights (on the CPU), tokenizer and
// cleaner. Throws ember::Error saying the file is truncated, corrupted, foreign or from
// another Ember version, or that its weights do not fit its config.
struct Bundle {
  Config config;
  std::unique_ptr<Model> model;
  std::unique_ptr<data::Tokenizer> tokenizer;  // null when the bundle has none
  std::unique_ptr<data::Cleaner> cleaner;
  std::vector<std::string> class_names;
  int64_t maxlen = 0;
  int64_t train_limit = 0;            // as in BundleContents; evaluate's validation split needs it
  SafetensorsFile file;               // the raw tensors and metadata (checkpoint state lives here)
  std::string source;                 // where it was read from, for messages
  std::vector<std::string> warnings;  // for the user: e.g. a file without tensor checksums
};
// Also refuses class names that do not fit the model's output (one unit: 2 classes; else one
// per unit; no name twice), a maxlen other than the embedded config's, and non-finite weights.
Bundle load_bundle(const std::string& path);
// The same from a file already parsed; `source` names it in messages.
Bundle bundle_from_file(SafetensorsFile file, const std::string& source);

// Throws ember::Error naming `source`, the weight, the value and its element when a float
// tensor (on the CPU) holds a NaN or an infinity; integer tensors always pass.
void check_weight_finite(const std::string& source, const std::string& name, const Tensor& t);

struct Prediction {
  int32_t label = 0;
  std::vector<double> probabilities;  // one per class
};
// Cleans, tokenizes and pads each text as at training time, then runs the model in inference
// mode. A per-step model (Dense on [B,T,C]) is read at its last step. Empty texts are valid.
std::vector<Prediction> predict(Bundle& b, const std::vector<std::string>& texts);

}  // namespace ember
