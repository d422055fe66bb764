// Checkpoints (see checkpoint.h). Doubles travel through JSON, whose writer prints the
// shortest text that reads back to the same bits, so running sums resume exactly.
#include "engine/train/checkpoint.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ember {

namespace {
using json = nlohmann::json;

// Callback states hold infinities (an EarlyStopping's best before any epoch), which JSON
// cannot: each number travels as C's exact hexadecimal float text ("0x1.8p+1", "inf").
json encode_state(const std::map<std::string, double>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", v);
    j[k] = buf;
  }
  return j;
}

std::map<std::string, double> decode_state(const json& j) {
  std::map<std::string, double> m;
  for (auto it = j.begin(); it != j.end(); ++it)
    m[it.key()] = std::strtod(it.value().get<std::string>().c_str(), nullptr);
  return m;
}

json row_json(const EpochRow& r) {
  return {{"epoch", r.epoch},
          {"loss", r.loss},
          {"accuracy", r.accuracy},
          {"has_val", r.has_val},
          {"val_loss", r.val_loss},
          {"val_accuracy", r.val_accuracy},
          {"learning_rate", r.learning_rate},
          {"seconds", r.seconds}};
}

EpochRow row_from(const json& j) {
  EpochRow r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.loss = j.at("loss").get<double>();
  r.accuracy = j.at("accuracy").get<double>();
  r.has_val = j.at("has_val").get<bool>();
  r.val_loss = j.at("val_loss").get<double>();
  r.val_accuracy = j.at("val_accuracy").get<double>();
  r.learning_rate = j.at("learning_rate").get<double>();
  r.seconds = j.at("seconds").get<double>();
  return r;
}
}  // namespace

void save_checkpoint(const std::string& path, Model& model, const BundleContents& contents,
                     const Optimizer& optimizer,
                     const std::vector<std::unique_ptr<Callback>>& callbacks,
                     const RunPosition& pos) {
  BundleContents c = contents;
  for (auto& [name, t] : optimizer.state()) c.extra_tensors.emplace_back("optimizer/" + name, t);
  json cbs = json::array();
  for (size_t i = 0; i < callbacks.size(); ++i) {
    cbs.push_back({{"name", callbacks[i]->name()}, {"state", encode_state(callbacks[i]->state())}});
    std::vector<Tensor> w = callbacks[i]->saved_weights();
    for (size_t k = 0; k < w.size(); ++k)
      c.extra_tensors.emplace_back("callback/" + std::to_string(i) + "/" + std::to_string(k), w[k]);
  }
  json history = json::array();
  for (const EpochRow& r : pos.history) history.push_back(row_json(r));
  json state = {{"epoch", pos.epoch},
                {"batch", pos.batch},
                {"step", pos.step},
                {"loss_sum", pos.loss_sum},
                {"acc_sum", pos.acc_sum},
                {"seen", pos.seen},
                {"epoch_seconds", pos.epoch_seconds},
                {"history", history},
                {"callbacks", cbs},
                {"optimizer", optimizer.name()}};
  c.extra_metadata["ember.checkpoint"] = state.dump();
  save_bundle(path, model, c);
}

RunPosition load_checkpoint(const std::string& path, Model& model, Optimizer& optimizer,
                            const std::vector<std::unique_ptr<Callback>>& callbacks) {
  return restore_checkpoint(load_safetensors(path), path, model, optimizer, callbacks);
}

RunPosition restore_checkpoint(const SafetensorsFile& f, const std::string& path, Model& model,
                               Optimizer& optimizer,
                               const std::vector<std::unique_ptr<Callback>>& callbacks) {
  auto it = f.metadata.find("ember.checkpoint");
  if (it == f.metadata.end())
    throw Error(path +
                ": not a checkpoint (a bundle without run state); --resume needs a "
                "file written during training (last.ckpt, interrupted.ckpt)");
  RunPosition pos;
  try {
    json s = json::parse(it->second);
    if (s.at("optimizer").get<std::string>() != optimizer.name())
      throw Error(path + ": checkpoint was written by optimizer " +
                  s.at("optimizer").get<std::string>() + ", the config uses " + optimizer.name());
    pos.epoch = s.at("epoch").get<int64_t>();
    pos.batch = s.at("batch").get<int64_t>();
    pos.step = s.at("step").get<uint64_t>();
    pos.loss_sum = s.at("loss_sum").get<double>();
    pos.acc_sum = s.at("acc_sum").get<double>();
    pos.seen = s.at("seen").get<int64_t>();
    pos.epoch_seconds = s.at("epoch_seconds").get<double>();
    for (const json& r : s.at("history")) pos.history.push_back(row_from(r));
    const json& cbs = s.at("callbacks");
    if (cbs.size() != callbacks.size())
      throw Error(path + ": checkpoint has " + std::to_string(cbs.size()) +
                  " callbacks, the config lists " + std::to_string(callbacks.size()));
    for (size_t i = 0; i < callbacks.size(); ++i) {
      if (cbs[i].at("name").get<std::string>() != callbacks[i]->name())
        throw Error(path + ": callback " + std::to_string(i) + " is " +
                    cbs[i].at("name").get<std::string>() + " in the checkpoint, " +
                    callbacks[i]->name() + " in the config");
      try {
        callbacks[i]->load_state(decode_state(cbs[i].at("state")));
      } catch (const Error& e) {
        throw Error(path + ": callback " + std::to_string(i) + " (" + callbacks[i]->name() +
                    "): " + e.what());
      }
      std::vector<Tensor> w;
      for (size_t k = 0;; ++k) {
        const Tensor* t = f.find("callback/" + std::to_string(i) + "/" + std::to_string(k));
        if (!t) break;
        w.push_back(*t);
      }
      // Saved (best) weights are put back into the model when the resumed run stops: they
      // must be one per parameter, of its shape and dtype, or that restore fails at the end.
      const std::vector<std::pair<std::string, ag::Var*>> params = model.named_parameters();
      if (!w.empty() && w.size() != params.size())
        throw Error(path + ": callback " + std::to_string(i) + " saved " +
                    std::to_string(w.size()) + " weights, the model has " +
                    std::to_string(params.size()));
      for (size_t k = 0; k < w.size(); ++k)
        if (w[k].shape() != params[k].second->value().shape() ||
            w[k].dtype() != params[k].second->value().dtype())
          throw Error(path + ": callback " + std::to_string(i) + "'s saved weight " +
                      std::to_string(k) + " is " + w[k].str() + ", '" + params[k].first + "' is " +
                      params[k].second->value().str());
      callbacks[i]->load_saved_weights(std::move(w));
    }
  } catch (const json::exception& e) {
    throw Error(path + ": checkpoint state is malformed: " + e.what());
  }
  for (auto& [name, var] : model.named_parameters()) {
    const Tensor* t = f.find(name);
    if (!t || t->shape() != var->value().shape() || t->dtype() != var->value().dtype())
      throw Error(path + ": weight '" + name + "' is missing or does not match the model " +
                  var->value().str());
    check_weight_finite(path, name, *t);
    var->mutable_value().copy_from(t->to(var->value().device()));
  }
  Optimizer::NamedTensors opt;
  const std::string prefix = "optimizer/";
  const std::vector<std::pair<std::string, ag::Var*>> params = model.named_parameters();
  for (auto& [name, t] : f.tensors) {
    if (name.rfind(prefix, 0) != 0) continue;
    // A slot's index names a parameter: a damaged one must not size the optimizer's slot list,
    // and a slot of another shape would only fail at the first step, mid-run.
    const std::string index = name.substr(name.rfind('/') + 1);
    if (!index.empty() && index.find_first_not_of("0123456789") == std::string::npos) {
      if (index.size() > 9 || std::stoul(index) >= params.size())
        throw Error(path + ": optimizer state '" + name + "' is for parameter " + index +
                    ", the model has " + std::to_string(params.size()));
      const auto& [param_name, var] = params[std::stoul(index)];
      if (t.shape() != var->value().shape() || t.dtype() != var->value().dtype())
        throw Error(path + ": optimizer state '" + name + "' is " + t.str() + ", parameter " +
                    index + " ('" + param_name + "') is " + var->value().str());
    }
    opt.emplace_back(name.substr(prefix.size()), t);
  }
  // The optimizer refuses malformed state with std::invalid_argument: here that is a damaged
  // file, reported as such.
  try {
    optimizer.load_state(opt);
  } catch (const std::invalid_argument& e) {
    throw Error(path + ": optimizer state is malformed: " + e.what());
  }
  return pos;
}

}  // namespace ember
