// Bundles (see bundle.h).
#include "engine/io/bundle.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/data/sequence.h"
#include "engine/eval/evaluate.h"
#include "engine/parse/load_config.h"
#include "layers/builder.h"

namespace ember {

namespace {
using json = nlohmann::json;

[[noreturn]] void bad_bundle(const std::string& path, const std::string& what) {
  throw Error(path + ": not a usable Ember bundle: " + what);
}
}  // namespace

void check_weight_finite(const std::string& source, const std::string& name, const Tensor& t) {
  auto scan = [&](const auto* p) {
    for (int64_t i = 0; i < t.numel(); ++i)
      if (!std::isfinite(p[i]))
        throw Error(source + ": weight '" + name + "' holds " + std::to_string(p[i]) +
                    " at element " + std::to_string(i) + " of " + t.str() +
                    " (the model had diverged when it was saved, or the file is damaged)");
  };
  if (t.dtype() == DType::kFloat32) scan(t.data<float>());
  if (t.dtype() == DType::kFloat64) scan(t.data<double>());
}

void save_bundle(const std::string& path, Model& model, const BundleContents& c) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, var] : model.named_parameters()) tensors.emplace_back(name, var->value());
  for (const auto& t : c.extra_tensors) tensors.push_back(t);
  std::map<std::string, std::string> meta = c.extra_metadata;
  meta["ember.format"] = kBundleFormat;
  meta["ember.config"] = c.config_text;
  meta["ember.config_name"] = c.config_name;
  meta["ember.clean"] = json(c.clean_steps).dump();
  meta["ember.class_names"] = json(c.class_names).dump();
  meta["ember.maxlen"] = std::to_string(c.maxlen > 0 ? c.maxlen : model.maxlen());
  if (c.tokenizer) meta["ember.tokenizer"] = c.tokenizer->to_json();
  if (c.train_limit > 0) meta["ember.train_limit"] = std::to_string(c.train_limit);
  save_safetensors(path, tensors, meta);
}

Bundle load_bundle(const std::string& path) {
  return bundle_from_file(load_safetensors(path), path);
}

Bundle bundle_from_file(SafetensorsFile file, const std::string& path) {
  Bundle b;
  b.source = path;
  b.file = std::move(file);
  if (!b.file.checksummed)
    b.warnings.push_back(path +
                         " has no tensor checksums (written before Ember stored them, "
                         "or by another tool): its weights cannot be verified");
  const auto& meta = b.file.metadata;
  auto get = [&](const char* key) -> const std::string& {
    auto it = meta.find(key);
    if (it == meta.end()) bad_bundle(path, std::string("metadata '") + key + "' is missing");
    return it->second;
  };
  if (get("ember.format") != kBundleFormat)
    bad_bundle(path, "format '" + get("ember.format") + "', this Ember reads " + kBundleFormat);
  b.config = parse_config(get("ember.config"), path + " (embedded config)");
  try {
    b.class_names = json::parse(get("ember.class_names")).get<std::vector<std::string>>();
    b.cleaner = std::make_unique<data::Cleaner>(
        json::parse(get("ember.clean")).get<std::vector<std::string>>());
  } catch (const json::exception& e) {
    bad_bundle(path, std::string("class names or cleaning steps are malformed: ") + e.what());
  } catch (const std::invalid_argument& e) {  // Cleaner: a step name this Ember does not know
    bad_bundle(path, std::string("cleaning steps: ") + e.what());
  }
  // The padded length must be the config's: anything else is damage (and a huge one would be
  // allocated for every text predicted).
  auto is_count = [](const std::string& s) {
    return !s.empty() && s.size() <= 18 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::string& maxlen = get("ember.maxlen");
  if (!is_count(maxlen) || std::stoll(maxlen) != b.config.sequence.maxlen)
    bad_bundle(path, "ember.maxlen is '" + maxlen + "', but its config's sequence.maxlen is " +
                         std::to_string(b.config.sequence.maxlen));
  b.maxlen = b.config.sequence.maxlen;
  if (meta.count("ember.train_limit")) {  // absent: trained on every row
    const std::string& limit = meta.at("ember.train_limit");
    if (!is_count(limit) || std::stoll(limit) < 1)
      bad_bundle(path, "ember.train_limit is '" + limit + "', expected a row count >= 1");
    b.train_limit = std::stoll(limit);
  }
  if (meta.count("ember.tokenizer"))
    b.tokenizer =
        std::make_unique<data::Tokenizer>(data::Tokenizer::from_json(meta.at("ember.tokenizer")));

  b.model = std::make_unique<Model>(build_model(b.config, DType::kFloat32));
  // One output unit is a binary model (2 classes); otherwise one unit per class.
  const int64_t units = b.model->output_shape().back();
  const size_t classes = units == 1 ? 2 : static_cast<size_t>(units);
  if (b.class_names.size() != classes)
    bad_bundle(path, std::to_string(b.class_names.size()) + " class names, but the model has " +
                         std::to_string(units) + " output unit" + (units == 1 ? "" : "s") + " (" +
                         std::to_string(classes) + " classes)");
  for (size_t i = 0; i < b.class_names.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (b.class_names[i] == b.class_names[j])
        bad_bundle(path, "class name '" + b.class_names[i] + "' is given twice");
  for (auto& [name, var] : b.model->named_parameters()) {
    const Tensor* t = b.file.find(name);
    if (!t) bad_bundle(path, "weight '" + name + "' is missing");
    if (t->shape() != var->value().shape() || t->dtype() != var->value().dtype())
      bad_bundle(path, "weight '" + name + "' is " + t->str() + ", the config builds " +
                           var->value().str());
    check_weight_finite(path, name, *t);
    var->mutable_value().copy_from(*t);
  }
  return b;
}

std::vector<Prediction> predict(Bundle& b, const std::vector<std::string>& texts) {
  std::vector<std::vector<int32_t>> seqs;
  seqs.reserve(texts.size());
  std::string cleaned;
  for (const std::string& t : texts) {
    // A text a cleaning step would drop (too short) is still answered, from no tokens.
    if (!b.cleaner->apply(t, &cleaned)) cleaned.clear();
    seqs.push_back(b.tokenizer ? b.tokenizer->text_to_sequence(cleaned) : std::vector<int32_t>{});
  }
  std::vector<Prediction> out;
  if (texts.empty()) return out;
  Tensor tokens =
      pad_sequences(seqs, b.maxlen, b.config.sequence.padding, b.config.sequence.truncating,
                    static_cast<int32_t>(b.config.sequence.value));
  Scores sc = model_scores(*b.model, tokens, b.config.train.loss.from_logits,
                           std::max<int64_t>(1, b.config.train.batch_size));
  check_scores_finite(sc, b.source.empty() ? std::string("the model") : b.source);
  for (int64_t i = 0; i < sc.rows; ++i) {
    Prediction p;
    p.label = sc.pred[i];
    p.probabilities.assign(sc.probs.begin() + i * sc.classes,
                           sc.probs.begin() + (i + 1) * sc.classes);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace ember
