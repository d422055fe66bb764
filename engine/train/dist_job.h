// `ember train` as one rank of a data-parallel job (started by mpirun; engine/dist/world.h).
// Before anything trains, the ranks compare fingerprints (config text, seed, options,
// executable, world size) and refuse to start when one differs, naming it. An error on any rank
// ends the whole job: when every rank fails alike (a bad config, a NaN loss at the same step)
// they agree within a few seconds and rank 0 alone prints the message, once; when one rank
// fails alone, or a collective times out (a peer died or hangs), that rank prints its message
// with its rank and aborts the job (MPI_Abort), so that no rank waits forever.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include "engine/dist/comm.h"
#include "engine/dist/fingerprint.h"

namespace ember {
struct Config;
struct TrainOptions;
struct TrainResult;
struct DataSplits;
class Model;
}  // namespace ember

namespace ember::dist {

// Thrown on the ranks other than 0 when rank 0 reports the error for the whole job: the CLI
// exits with 1 without printing anything more.
class ReportedByRankZero : public Error {
 public:
  ReportedByRankZero() : Error("(reported by rank 0)") {}
};

// This rank's start-up description (see above).
Fingerprint job_fingerprint(const Config& cfg, const TrainOptions& opts, int world_size);
// What every rank must have loaded and built alike: training and validation rows, weights.
Fingerprint data_fingerprint(const DataSplits& data, const Model& model);

// Runs `train` on this rank of `world` (opts.comm set to it; `log` only on rank 0), with the
// fingerprint check first and the error handling above.
using TrainFn = std::function<TrainResult(const TrainOptions&, std::ostream&)>;
TrainResult train_as_rank(Communicator& world, const Config& cfg, const TrainOptions& opts,
                          std::ostream& log, const TrainFn& train);

}  // namespace ember::dist
