// NCCL communicator (comm_nccl.h). allreduce_sum on a device tensor is the MPI backend's
// scheme on the GPU: a reduce-scatter by ncclSend/ncclRecv (rank r receives chunk r of every
// peer into a staging buffer [N, chunk]), one kernel that adds the N copies in rank order
// (dp_kernels.h), and an all-gather of the reduced chunks by send/recv again. ncclAllReduce
// would be faster to write, but its summation order depends on the algorithm NCCL picks for
// the topology (ring, tree, NVLS), which is not specified; this order is ours, so results are
// bit-identical run to run and on every rank whatever the topology.
//
// Faults: the communicator is non-blocking (config.blocking = 0) and every wait polls with
// the collective deadline. Each reduction records an event; at most two stay in flight, so a
// GPU step still queues ahead without waiting for its own reduction. When a wait passes the
// deadline the NCCL communicator is aborted and the ranks' hosts are asked, through MPI, to
// answer: the one that does not is named (a hung or dead rank), else the error says every
// host is alive and NCCL itself stalled.
#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>

#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "engine/dist/comm_nccl.h"
#include "engine/dist/dp_kernels.h"

namespace ember::dist {

namespace {

class NcclComm final : public Communicator {
 public:
  NcclComm(Communicator& host, int device)
      : host_(host), device_(device), timeout_(collective_timeout_seconds()) {
    ncclUniqueId id;
    std::string bytes;
    if (host_.rank() == 0) {
      check(ncclGetUniqueId(&id), "ncclGetUniqueId");
      bytes.assign(reinterpret_cast<const char*>(&id), sizeof id);
    }
    host_.broadcast(bytes, 0, "NCCL start-up (unique id)");
    EMBER_CHECK(bytes.size() == sizeof id, "NCCL unique id of " << bytes.size() << " bytes");
    std::memcpy(&id, bytes.data(), sizeof id);
    EMBER_CUDA_CHECK(cudaSetDevice(device_));
    ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
    config.blocking = 0;
    const ncclResult_t rc = ncclCommInitRankConfig(&comm_, host_.size(), id, host_.rank(), &config);
    if (rc != ncclInProgress) check(rc, "ncclCommInitRankConfig");
    settle("NCCL start-up (ncclCommInitRankConfig)");
    stream_ = cuda::Context::get(device_).stream();
  }

  ~NcclComm() override {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
    if (comm_) {
      if (aborted_) return;
      // Destructors only log, never throw (STYLE.md): a failed finalize leaves an abort.
      ncclResult_t rc = ncclCommFinalize(comm_);
      ncclResult_t state = rc;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (state == ncclInProgress && std::chrono::steady_clock::now() < deadline) {
        ncclCommGetAsyncError(comm_, &state);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (state == ncclSuccess)
        ncclCommDestroy(comm_);
      else
        ncclCommAbort(comm_);
    }
  }

  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  const char* backend() const override { return "nccl"; }

  void allreduce_sum(Tensor& t, const std::string& what) override {
    if (!t.defined() || t.device().is_cpu()) return host_.allreduce_sum(t, what);
    EMBER_CHECK_ARG(t.device().index == device_, what << ": " << t.str() << " is not on this "
                                                      << "rank's GPU cuda:" << device_);
    EMBER_CHECK_ARG(t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64,
                    what << ": allreduce_sum needs float32 or float64, got " << t.str());
    const int w = size(), r = rank();
    if (w == 1) return;
    const bool f32 = t.dtype() == DType::kFloat32;
    const ncclDataType_t type = f32 ? ncclFloat32 : ncclFloat64;
    const size_t es = dtype_size(t.dtype());
    const int64_t n = t.numel();
    auto bound = [&](int k) { return n * k / w; };
    const int64_t lo = bound(r), len = bound(r + 1) - lo;
    char* data = static_cast<char*>(t.raw());
    if (!staging_.defined() || staging_.nbytes() < static_cast<size_t>(w) * (n / w + 1) * es)
      staging_ =
          Tensor::empty(Shape{static_cast<int64_t>(w) * (n / w + 1) * static_cast<int64_t>(es)},
                        DType::kUInt8, t.device());
    char* stage = static_cast<char*>(staging_.raw());

    // Phase 1: chunk q of mine to rank q; chunk r of every peer into stage[q].
    group_start();
    for (int q = 0; q < w; ++q) {
      if (q == r) continue;
      check(ncclSend(data + bound(q) * es, static_cast<size_t>(bound(q + 1) - bound(q)), type, q,
                     comm_, stream_),
            "ncclSend");
      check(ncclRecv(stage + q * len * es, static_cast<size_t>(len), type, q, comm_, stream_),
            "ncclRecv");
    }
    group_end(what);
    EMBER_CUDA_CHECK(cudaMemcpyAsync(stage + r * len * es, data + lo * es, len * es,
                                     cudaMemcpyDeviceToDevice, stream_));
    if (f32)
      ordered_sum<float>(reinterpret_cast<const float*>(stage), len, w, len,
                         reinterpret_cast<float*>(data + lo * es), stream_);
    else
      ordered_sum<double>(reinterpret_cast<const double*>(stage), len, w, len,
                          reinterpret_cast<double*>(data + lo * es), stream_);
    // Phase 2: my reduced chunk to every peer; theirs into place.
    group_start();
    for (int q = 0; q < w; ++q) {
      if (q == r) continue;
      check(ncclSend(data + lo * es, static_cast<size_t>(len), type, q, comm_, stream_),
            "ncclSend");
      check(ncclRecv(data + bound(q) * es, static_cast<size_t>(bound(q + 1) - bound(q)), type, q,
                     comm_, stream_),
            "ncclRecv");
    }
    group_end(what);
    record(what);
  }

  void synchronize(const std::string& what) override {
    while (!events_.empty()) wait_oldest(what);
  }

  std::vector<std::string> allgather(const std::string& mine, const std::string& what) override {
    return host_.allgather(mine, what);
  }
  void broadcast(std::string& data, int root, const std::string& what) override {
    host_.broadcast(data, root, what);
  }
  void barrier(const std::string& what) override {
    synchronize(what);
    host_.barrier(what);
  }
  std::vector<std::string> gather_errors(const std::string& mine, double seconds) override {
    return host_.gather_errors(mine, seconds);
  }
  [[noreturn]] void abort(int code) override {
    host_.abort(code);
    std::_Exit(code);  // not reached; gcc does not carry [[noreturn]] through a virtual call
  }

 private:
  void check(ncclResult_t rc, const char* call) {
    if (rc == ncclSuccess) return;
    throw CommError("rank " + std::to_string(rank()) + ": " + call +
                    " failed: " + ncclGetErrorString(rc) + " (" + ncclGetLastError(comm_) + ")");
  }
  void group_start() { check(ncclGroupStart(), "ncclGroupStart"); }
  void group_end(const std::string& what) {
    const ncclResult_t rc = ncclGroupEnd();
    if (rc != ncclInProgress) check(rc, "ncclGroupEnd");
    settle(what);
  }

  // Polls a non-blocking communicator until its last call has been taken up.
  void settle(const std::string& what) {
    const auto deadline = clock::now() + std::chrono::duration<double>(timeout_);
    for (;;) {
      ncclResult_t state = ncclSuccess;
      check(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError");
      if (state == ncclSuccess) return;
      if (state != ncclInProgress) check(state, what.c_str());
      if (clock::now() > deadline) stalled(what);
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  void record(const std::string& what) {
    cudaEvent_t e;
    EMBER_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    EMBER_CUDA_CHECK(cudaEventRecord(e, stream_));
    events_.push_back(e);
    while (events_.size() > 2) wait_oldest(what);
  }

  void wait_oldest(const std::string& what) {
    const auto deadline = clock::now() + std::chrono::duration<double>(timeout_);
    cudaEvent_t e = events_.front();
    int polls = 0;
    for (;;) {
      const cudaError_t q = cudaEventQuery(e);
      if (q == cudaSuccess) break;
      if (q != cudaErrorNotReady) EMBER_CUDA_CHECK(q);
      ncclResult_t state = ncclSuccess;
      check(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError");
      if (state != ncclSuccess && state != ncclInProgress) check(state, what.c_str());
      if (clock::now() > deadline) stalled(what);
      if (++polls > 100) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    cudaEventDestroy(e);
    events_.pop_front();
  }

  // The deadline passed: abort NCCL (its kernels would spin forever), then find out over MPI
  // whether some rank's host has stopped answering, and say so.
  [[noreturn]] void stalled(const std::string& what) {
    ncclCommAbort(comm_);
    aborted_ = true;
    host_.allgather("alive", what + " stalled on rank " + std::to_string(rank()) +
                                 "; asking every rank over MPI");
    throw CommError("rank " + std::to_string(rank()) + ": " + what + ": NCCL did not complete " +
                    "within " + std::to_string(timeout_) + " s although every rank's host still " +
                    "answers over MPI: a GPU or the interconnect hangs (" +
                    ncclGetLastError(nullptr) + ")");
  }

  using clock = std::chrono::steady_clock;
  Communicator& host_;
  int device_;
  double timeout_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  bool aborted_ = false;
  Tensor staging_;
  std::deque<cudaEvent_t> events_;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& host, int device) {
  return std::make_unique<NcclComm>(host, device);
}

}  // namespace ember::dist
