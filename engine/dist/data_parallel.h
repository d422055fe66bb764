// Data parallelism for the trainer: which rows of a global batch this rank takes, and the
// one reduction per step that makes every rank's gradients those of the global batch.
//
// Loss semantics (kernels/losses.h): a batch's loss is sum_{b,t} w m l / D with D the
// unmasked (b,t) count of the batch, which fn::accuracy_counts also returns as its total. A
// rank holding rows [lo, hi) computes loss_r with its own D_r; the global batch's loss is
// sum_r D_r loss_r / sum_r D_r, and its gradient sum_r D_r g_r / sum_r D_r. So each rank
// scales its gradients by D_r, the scaled gradients and the tail [D_r loss_r, correct_r, D_r,
// stop_r] are summed in rank order (comm.h), and the sum is divided by D. Shards may be
// uneven, even empty (a last batch smaller than the world): the weighting stays exact.
// After a step every parameter has a gradient (zeros where no row produced one).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/graph.h"
#include "engine/dist/comm.h"
#include "engine/eval/evaluate.h"

namespace ember::dist {

struct RowRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
// Rank r of w takes [n*r/w, n*(r+1)/w): contiguous, sizes differ by at most one.
RowRange shard(int64_t n, int rank, int world);

// One step's global numbers, read from reduce_step's tensor.
struct StepStats {
  double loss = 0;                // the global batch's loss
  double correct = 0, total = 0;  // accuracy counts over the global batch
  bool stop = false;              // some rank asked to stop (Ctrl-C)
};

class DataParallel {
 public:
  explicit DataParallel(Communicator& comm) : comm_(comm) {}
  Communicator& comm() const { return comm_; }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  bool writer() const { return comm_.rank() == 0; }  // rank 0 writes logs, checkpoints, bundle

  RowRange rows_of(int64_t n) const { return shard(n, rank(), size()); }

  // Called after this rank's backward; local_loss [1] and local_counts [2] (fn::accuracy_counts)
  // on the params' device, both undefined for a rank without rows. Rewrites every param's grad
  // (see above) and returns the summed tail (4 float64 on that device) for read(). Nothing
  // waits for the device here on a GPU with NCCL.
  Tensor reduce_step(const std::vector<ag::Var*>& params, const Tensor& local_loss,
                     const Tensor& local_counts, bool stop, uint64_t step);
  StepStats read(const Tensor& tail) const;

  // Host sums over ranks, in rank order (evaluation totals).
  void sum(std::vector<double>& v, const std::string& what) const;
  // s holds this rank's rows, global rows [first_row, first_row + s.rows) of total_rows, with
  // `classes` probabilities each; afterwards every rank holds all rows, in order.
  void gather_scores(Scores& s, int64_t first_row, int64_t total_rows, int64_t classes,
                     const std::string& what) const;

 private:
  Communicator& comm_;
  Tensor flat_;  // the packed gradients, kept between steps
};

}  // namespace ember::dist
