// The `train:` section: loss, optimizer, epochs, batch size, validation split, shuffling and
// length bucketing, metrics, callbacks and class weights. Loss and optimizer take Keras's
// short form (a name) or a map.
// Callback arguments are kept as strings for the trainer, but each is type-checked here
// (patience an integer, min_delta a number, ...) because only here is its line known;
// booleans are stored as "true"/"false" and numbers as written. A callback's kind and its
// `mode` are enums (CallbackConfig::type, ::mode), so no one downstream compares their names.
#include <algorithm>
#include <cctype>
#include <regex>

#include "engine/config/config_reader.h"
#include "engine/config/run_files.h"
#include "engine/parse/sections.h"

namespace ember::config_detail {
namespace {

// SGD refuses momentum above 1 (optim/sgd.cpp): the parser must too, naming the key.
const NumRange kMomentum{0.0, 1.0, true, true, "a number in [0, 1]"};

const std::vector<std::string> kMonitors = {"val_loss", "loss", "val_accuracy", "accuracy"};

LossConfig parse_loss(const Reader& r, const Entry& s) {
  const std::vector<std::string> names = {loss_name(Loss::kBinaryCrossentropy),
                                          loss_name(Loss::kSparseCategoricalCrossentropy)};
  auto loss_of = [&](const Entry& e) {
    return r.choice(e, names) == names[0] ? Loss::kBinaryCrossentropy
                                          : Loss::kSparseCategoricalCrossentropy;
  };
  LossConfig l;
  if (s.value.IsScalar()) {
    l.name = loss_of(s);
    return l;
  }
  bool has_name = false;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path, {"name", "from_logits", "keras_exact"},
                 /*allow_null=*/false)) {
    if (e.key == "name")
      l.name = loss_of(e), has_name = true;
    else if (e.key == "from_logits")
      l.from_logits = r.boolean(e);
    else
      l.keras_exact = r.boolean(e);
  }
  if (!has_name)
    r.fail(s.where(), s.path + ".name",
           "missing required value (" + names[0] + " or " + names[1] + ")");
  return l;
}

OptimizerConfig parse_optimizer(const Reader& r, const Entry& s) {
  OptimizerConfig o;
  auto name_of = [&](const Entry& e) {
    std::string n = r.str(e);
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
    for (OptimizerKind k : {OptimizerKind::kAdam, OptimizerKind::kSgd})
      if (n == optimizer_name(k)) return k;
    r.fail(e, "expected adam or sgd, got \"" + r.str(e) + "\"");
  };
  if (s.value.IsScalar()) {
    o.name = name_of(s);
    return o;
  }
  std::vector<Entry> args = r.entries(s.value, s.where(), s.path,
                                      {"name", "learning_rate", "beta_1", "beta_2", "epsilon",
                                       "momentum", "nesterov", "clipnorm", "global_clipnorm"},
                                      /*allow_null=*/false);
  for (const Entry& e : args)
    if (e.key == "name") o.name = name_of(e);
  const std::vector<std::string> adam_only = {"beta_1", "beta_2", "epsilon"};
  const std::vector<std::string> sgd_only = {"momentum", "nesterov"};
  for (const Entry& e : args) {
    const auto& wrong = o.name == OptimizerKind::kAdam ? sgd_only : adam_only;
    if (std::find(wrong.begin(), wrong.end(), e.key) != wrong.end())
      r.fail(e.key_node.Mark(), e.path,
             "'" + e.key + "' is not an argument of the " + optimizer_name(o.name) + " optimizer");
    if (e.key == "learning_rate")
      o.learning_rate = r.number(e, kPositive);
    else if (e.key == "beta_1")
      o.beta_1 = r.number(e, kRate);
    else if (e.key == "beta_2")
      o.beta_2 = r.number(e, kRate);
    else if (e.key == "epsilon")
      o.epsilon = r.number(e, kPositive);
    else if (e.key == "momentum")
      o.momentum = r.number(e, kMomentum);
    else if (e.key == "nesterov")
      o.nesterov = r.boolean(e);
    else if (e.key == "clipnorm")
      o.clipnorm = r.number(e, kPositive);
    else if (e.key == "global_clipnorm")
      o.global_clipnorm = r.number(e, kPositive);
  }
  if (o.clipnorm && o.global_clipnorm)
    r.fail(s.where(), s.path, "give either clipnorm or global_clipnorm, not both");
  return o;
}

// How a callback argument is checked.
enum class Arg {
  kMonitor,
  kMode,
  kCount,
  kNonNegative,
  kNumber,
  kNullableNumber,
  kFactor,
  kBool,
  kString
};
struct ArgSpec {
  const char* key;
  Arg kind;
};
struct CallbackSpec {
  CallbackKind type;
  std::vector<ArgSpec> args;
  std::vector<std::string> required;
};

const std::vector<CallbackSpec>& callback_specs() {
  static const std::vector<CallbackSpec> specs = {
      {CallbackKind::kEarlyStopping,
       {{"monitor", Arg::kMonitor},
        {"min_delta", Arg::kNonNegative},
        {"patience", Arg::kCount},
        {"mode", Arg::kMode},
        {"restore_best_weights", Arg::kBool},
        {"baseline", Arg::kNullableNumber},
        {"verbose", Arg::kCount}},
       {}},
      {CallbackKind::kReduceLROnPlateau,
       {{"monitor", Arg::kMonitor},
        {"factor", Arg::kFactor},
        {"patience", Arg::kCount},
        {"min_delta", Arg::kNonNegative},
        {"cooldown", Arg::kCount},
        {"min_lr", Arg::kNonNegative},
        {"mode", Arg::kMode},
        {"verbose", Arg::kCount}},
       {}},
      {CallbackKind::kModelCheckpoint,
       {{"filepath", Arg::kString},
        {"monitor", Arg::kMonitor},
        {"save_best_only", Arg::kBool},
        {"save_weights_only", Arg::kBool},
        {"mode", Arg::kMode},
        {"verbose", Arg::kCount}},
       {"filepath"}},
      {CallbackKind::kStopAtThreshold,
       {{"monitor", Arg::kMonitor}, {"threshold", Arg::kNumber}},
       {"threshold"}},
  };
  return specs;
}

CallbackConfig parse_callback(const Reader& r, const Entry& item) {
  CallbackConfig c;
  c.loc = r.loc(item.where());
  Entry t = r.single_key(item, "a callback");
  std::vector<std::string> types;
  const CallbackSpec* spec = nullptr;
  for (const CallbackSpec& s : callback_specs()) {
    types.push_back(callback_name(s.type));
    if (t.key == types.back()) spec = &s;
  }
  if (!spec) {
    std::string msg = "unknown callback '" + t.key + "'";
    std::string near = closest(t.key, types);
    msg += near.empty() ? " (known: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint, "
                          "StopAtThreshold)"
                        : "; did you mean '" + near + "'?";
    r.fail(t.key_node.Mark(), item.path, msg);
  }
  c.type = spec->type;
  const std::string path = item.path + "." + t.key;
  const YAML::Mark at = t.value.IsMap() ? t.value.Mark() : t.key_node.Mark();
  std::vector<std::string> keys;
  for (const ArgSpec& a : spec->args) keys.push_back(a.key);
  for (const Entry& e : r.entries(t.value, at, path, keys)) {
    Arg kind = std::find_if(spec->args.begin(), spec->args.end(), [&](const ArgSpec& a) {
                 return e.key == a.key;
               })->kind;
    std::string v;
    switch (kind) {
      case Arg::kMonitor:
        v = r.choice(e, kMonitors);
        break;
      case Arg::kMode:  // kept as the enum, not among the string arguments
        c.mode = r.pick(e, {MonitorMode::kAuto, MonitorMode::kMin, MonitorMode::kMax},
                        monitor_mode_name);
        continue;
      case Arg::kCount:
        v = std::to_string(r.integer(e, 0));
        break;
      case Arg::kNonNegative:
        r.number(e, kNonNegative), v = e.value.Scalar();
        break;
      case Arg::kNumber:
        r.number(e), v = e.value.Scalar();
        break;
      case Arg::kNullableNumber:
        if (e.value.IsNull()) continue;  // Keras's baseline=None: not stored
        r.number(e), v = e.value.Scalar();
        break;
      case Arg::kFactor:
        r.number(e, kUnitOpen), v = e.value.Scalar();
        break;
      case Arg::kBool:
        v = r.boolean(e) ? "true" : "false";
        break;
      case Arg::kString:
        v = r.str(e);
        if (v.empty()) r.fail(e, "must not be empty");
        break;
    }
    c.args[e.key] = v;
  }
  for (const std::string& req : spec->required)
    if (!c.args.count(req)) r.fail(at, path + "." + req, "missing required value");
  if (c.type == CallbackKind::kModelCheckpoint) {
    // Confined to the run directory, clear of the run's own files (engine/config/run_files.h).
    const std::string problem = checkpoint_path_problem(c.args.at("filepath"));
    if (!problem.empty())
      for (const Entry& e : r.entries(t.value, at, path, keys))
        if (e.key == "filepath") r.fail(e, problem);
  }
  return c;
}

void parse_class_weight(const Reader& r, const Entry& s, TrainConfig& t) {
  if (s.value.IsScalar()) {
    t.class_weight = r.choice(s, {"balanced"});
    return;
  }
  if (!s.value.IsMap()) r.type_error(s, "\"balanced\" or a map {class id: weight}");
  for (auto it = s.value.begin(); it != s.value.end(); ++it) {
    // Keys may be quoted ({"0": 1.5}, as JSON writes them): they name a class, not a value.
    static const std::regex kId("[0-9]{1,9}");
    const std::string id_text = it->first.IsScalar() ? it->first.Scalar() : std::string();
    Entry e{id_text, it->first, it->second, s.path + "." + id_text};
    if (!std::regex_match(id_text, kId))
      r.fail(it->first.Mark(), e.path,
             "expected a class id (a non-negative integer), got " + describe(it->first));
    int64_t id = std::stoll(id_text);
    if (t.class_weights.count(id)) r.fail(it->first.Mark(), e.path, "class given twice");
    t.class_weights[id] = r.number(e, kNonNegative);
  }
  if (t.class_weights.empty()) r.fail(s, "expected at least one class weight");
}

}  // namespace

TrainConfig parse_train(const Reader& r, const Entry& s) {
  TrainConfig t;
  for (const Entry& e :
       r.entries(s.value, s.where(), s.path,
                 {"loss", "optimizer", "epochs", "batch_size", "validation_split", "shuffle",
                  "bucket_by_length", "log_grad_norm", "metrics", "callbacks", "class_weight"})) {
    if (e.key == "loss")
      t.loss = parse_loss(r, e);
    else if (e.key == "optimizer")
      t.optimizer = parse_optimizer(r, e);
    else if (e.key == "epochs")
      t.epochs = r.positive_int(e);
    else if (e.key == "batch_size")
      t.batch_size = r.positive_int(e);
    else if (e.key == "validation_split")
      t.validation_split = r.number(e, kRate);
    else if (e.key == "shuffle")
      t.shuffle = r.boolean(e);
    else if (e.key == "bucket_by_length")
      t.bucket_by_length = r.boolean(e);
    else if (e.key == "log_grad_norm")
      t.log_grad_norm = r.boolean(e);
    else if (e.key == "metrics") {
      t.metrics.clear();
      if (e.value.IsNull()) continue;
      for (const Entry& m : r.items(e)) t.metrics.push_back(r.choice(m, {"accuracy"}));
    } else if (e.key == "callbacks") {
      if (e.value.IsNull()) continue;
      for (const Entry& c : r.items(e)) t.callbacks.push_back(parse_callback(r, c));
    } else if (e.key == "class_weight")
      parse_class_weight(r, e, t);
  }
  return t;
}

}  // namespace ember::config_detail
