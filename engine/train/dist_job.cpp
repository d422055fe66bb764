// A data-parallel job's start-up check and error handling (see job.h).
#include "engine/train/dist_job.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "engine/dist/world.h"
#include "engine/train/trainer.h"

namespace ember::dist {

namespace {

// How long the ranks wait for each other to agree on an error before one aborts the job.
constexpr double kErrorAgreementSeconds = 10.0;

[[noreturn]] void abort_job(Communicator& c) {
  c.abort(1);
  std::abort();  // not reached (gcc does not carry [[noreturn]] through a virtual call)
}

std::string options_text(const TrainOptions& o) {
  std::ostringstream s;
  s << "device=" << o.device << " epochs=" << (o.epochs ? std::to_string(*o.epochs) : "config")
    << " limit=" << o.limit << " max_steps=" << o.max_steps
    << " resume=" << (o.resume.empty() ? "no" : "yes");
  return s.str();
}

}  // namespace

Fingerprint job_fingerprint(const Config& cfg, const TrainOptions& opts, int world_size) {
  const Launch l = detect_launch();
  return {
      // The seed before the text: `--seed` rewrites the text too (with_seed), and the seed
      // is the difference to name.
      {"seed", std::to_string(cfg.seed), ""},
      {"config text", hash_hex(cfg.text.data(), cfg.text.size()), cfg.path},
      {"options", options_text(opts), ""},
      {"executable", executable_hash(), ""},
      {"world size",
       std::to_string(world_size) +
           (l.size > 0 ? " (launcher: " + std::to_string(l.size) + ")" : ""),
       ""},
  };
}

Fingerprint data_fingerprint(const DataSplits& data, const Model& model) {
  std::vector<Tensor> weights;
  for (const ag::Var* p : const_cast<Model&>(model).parameters()) weights.push_back(p->value());
  return {
      {"training data", hash_tensors({data.train.tokens, data.train.labels}),
       std::to_string(data.train.size()) + " rows"},
      {"validation data", hash_tensors({data.val.tokens, data.val.labels}),
       std::to_string(data.val.size()) + " rows"},
      {"initial weights", hash_tensors(weights), std::to_string(weights.size()) + " tensors"},
  };
}

TrainResult train_as_rank(Communicator& world, const Config& cfg, const TrainOptions& opts,
                          std::ostream& log, const TrainFn& train) {
  std::ostream nowhere(nullptr);  // the other ranks' log: discarded
  try {
    check_same_on_all_ranks(world, job_fingerprint(cfg, opts, world.size()),
                            "starting " + std::to_string(world.size()) + " ranks");
    TrainOptions o = opts;
    o.comm = &world;
    return train(o, world.rank() == 0 ? log : nowhere);
  } catch (const CommError& e) {
    // A peer is gone or stuck: nobody else can be reached to agree with. The message names
    // this rank and the peer.
    std::cerr << "ember: " << e.what() << std::endl;
    abort_job(world);
  } catch (const std::exception& e) {
    const bool user = dynamic_cast<const Error*>(&e) != nullptr;
    const std::string msg = (user ? "" : "error: ") + std::string(e.what());
    const std::vector<std::string> all = world.gather_errors(msg, kErrorAgreementSeconds);
    if (all.empty()) {  // the others are still working or waiting: this rank fails alone
      std::cerr << "ember: rank " << world.rank() << ": " << msg << std::endl;
      abort_job(world);
    }
    if (world.rank() != 0) throw ReportedByRankZero();
    // One message when every rank failed alike, else one line per distinct message.
    bool same = true;
    for (const std::string& m : all) same = same && m == all[0];
    if (same) throw Error(all[0]);
    std::ostringstream s;
    s << "the ranks failed differently:";
    for (size_t r = 0; r < all.size(); ++r) s << "\n  rank " << r << ": " << all[r];
    throw Error(s.str());
  }
}

}  // namespace ember::dist
