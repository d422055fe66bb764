// Communicators for data-parallel training (one process per rank): who this rank is, how many
// there are, and the few collectives the trainer needs. Every reduction has a FIXED order
// (element i becomes t_0[i] + t_1[i] + ... + t_{N-1}[i], added left to right), so all ranks
// hold the same bits afterwards and a rerun reproduces them: MPI_Allreduce and ncclAllReduce
// leave the order to the implementation, so neither is used for floats. Every wait has a
// deadline (collective_timeout_seconds); a peer that died or hangs ends the wait with a
// CommError naming that rank. Backends: local (one process, no copies), MPI (comm_mpi.cpp,
// host buffers; CUDA tensors are staged through the host), NCCL (comm_nccl.cpp, device
// buffers, MPI for everything else).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/core/check.h"
#include "engine/core/tensor.h"

namespace ember::dist {

// A collective that could not complete: a peer died, hung past the timeout, or the transport
// failed. what() names this rank, the collective and the peer(s).
class CommError : public Error {
 public:
  using Error::Error;
};

class Communicator {
 public:
  virtual ~Communicator();
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;  // "local", "mpi", "nccl"

  // In place: t becomes the sum over ranks of every rank's t, in rank order (see above), the
  // same bits on every rank. t: contiguous float32 or float64, the same shape on every rank,
  // on the CPU (any backend) or a CUDA device. `what` names the collective in errors
  // ("gradients of step 12").
  virtual void allreduce_sum(Tensor& t, const std::string& what) = 0;
  // Every rank's string (any bytes, any length), indexed by rank.
  virtual std::vector<std::string> allgather(const std::string& mine, const std::string& what) = 0;
  // `data` becomes root's on every rank.
  virtual void broadcast(std::string& data, int root, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;
  // Waits (with the deadline) until every device collective queued so far has completed; a
  // no-op for host backends, whose collectives complete before they return.
  virtual void synchronize(const std::string& what) { (void)what; }
  // After an exception: every rank's message, indexed by rank, when every rank reaches this
  // call within `seconds` (they can then stop together, cleanly); empty when some rank does not
  // (it is still working or waits in a collective: abort() then). Its messages have tags of
  // their own, so a peer waiting in an ordinary collective never takes them for its data.
  virtual std::vector<std::string> gather_errors(const std::string& mine, double seconds) = 0;
  // Ends every rank of the job at once (MPI_Abort); for an error that leaves the others
  // waiting in a collective. The local backend exits the process.
  [[noreturn]] virtual void abort(int code) = 0;
};

// One process: rank 0 of 1; the collectives return their input.
std::unique_ptr<Communicator> make_local_communicator();

// How long one collective may wait for its peers before failing: $EMBER_DIST_TIMEOUT seconds
// (a positive number), default 300. Throws ember::Error naming the variable when it is bad.
double collective_timeout_seconds();

}  // namespace ember::dist
