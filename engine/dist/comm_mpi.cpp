// The MPI communicator (comm.h), on a duplicate of MPI_COMM_WORLD with MPI_ERRORS_RETURN so a
// transport failure comes back as an error naming the peer instead of killing the job blind.
// Only point-to-point calls are used (Isend/Irecv polled with MPI_Test), for two reasons:
// the reduction order must be ours, and a wait must be able to give up at a deadline and say
// which peer never answered. allreduce_sum is a hand-made reduce-scatter + all-gather: the
// buffer is cut into N chunks, rank r receives chunk r from every peer, sums the N copies in
// rank order and sends the result back to everyone. Each rank sends and receives
// 2(N-1)/N of the buffer, as a ring all-reduce does, in N-1 messages per phase.
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <sstream>
#include <thread>

#include "engine/dist/comm.h"
#include "engine/dist/comm_mpi.h"

namespace ember::dist {

namespace {

std::string mpi_error_string(int code) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, buf, &len);
  return std::string(buf, static_cast<size_t>(len));
}

// MPI_Init on first use, MPI_Finalize when the program ends (a function-local static, so it
// is destroyed after the communicator that world() keeps).
struct MpiRuntime {
  MpiRuntime() {
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
      const int rc = MPI_Init(nullptr, nullptr);
      if (rc != MPI_SUCCESS) throw Error("MPI_Init failed: " + mpi_error_string(rc));
      owned = true;
    }
  }
  ~MpiRuntime() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned && !finalized) MPI_Finalize();
  }
  bool owned = false;
};

// One outstanding transfer and the peer it talks to, for the timeout message.
struct Pending {
  MPI_Request req = MPI_REQUEST_NULL;
  int peer = -1;
  bool done = false;
};

class MpiComm final : public Communicator {
 public:
  MpiComm() : timeout_(collective_timeout_seconds()) {
    static MpiRuntime runtime;
    MPI_Comm_dup(MPI_COMM_WORLD, &comm_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    host_ = host;
  }
  ~MpiComm() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char* backend() const override { return "mpi"; }

  void allreduce_sum(Tensor& t, const std::string& what) override {
    EMBER_CHECK_ARG(t.defined() && (t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64),
                    what << ": allreduce_sum needs a float32 or float64 tensor, got "
                         << (t.defined() ? t.str() : std::string("undefined")));
    if (size_ == 1) return;
    if (!t.device().is_cpu()) {  // staged through the host (the NCCL backend avoids this)
      Tensor host = t.to(Device::cpu());
      allreduce_sum(host, what);
      t.copy_from(host.to(t.device()));
      return;
    }
    if (t.dtype() == DType::kFloat32)
      reduce<float>(t.data<float>(), t.numel(), MPI_FLOAT, what);
    else
      reduce<double>(t.data<double>(), t.numel(), MPI_DOUBLE, what);
  }

  std::vector<std::string> allgather(const std::string& mine, const std::string& what) override {
    const int tag_len = next_tag(), tag_data = next_tag();
    return gather(mine, what, tag_len, tag_data, timeout_);
  }

  std::vector<std::string> gather_errors(const std::string& mine, double seconds) override {
    try {
      return gather(mine, "stopping after an error", kErrorTag, kErrorTag + 1, seconds);
    } catch (const CommError&) {
      return {};
    }
  }

  void broadcast(std::string& data, int root, const std::string& what) override {
    EMBER_CHECK_ARG(root >= 0 && root < size_,
                    what << ": broadcast from rank " << root << " of " << size_);
    if (size_ == 1) return;
    const int tag_len = next_tag(), tag_data = next_tag();
    long long len = static_cast<long long>(data.size());
    std::vector<Pending> p;
    if (rank_ == root) {
      for (int q = 0; q < size_; ++q)
        if (q != root) post_send(p, &len, 1, MPI_LONG_LONG, q, tag_len, what);
      wait(p, what);
      p.clear();
      for (int q = 0; q < size_; ++q)
        if (q != root)
          post_send(p, data.data(), static_cast<int>(len), MPI_CHAR, q, tag_data, what);
      wait(p, what);
    } else {
      post_recv(p, &len, 1, MPI_LONG_LONG, root, tag_len, what);
      wait(p, what);
      p.clear();
      EMBER_CHECK(len >= 0 && len < INT_MAX,
                  what << ": rank " << root << " announced " << len << " bytes");
      data.resize(static_cast<size_t>(len));
      post_recv(p, data.data(), static_cast<int>(len), MPI_CHAR, root, tag_data, what);
      wait(p, what);
    }
  }

  void barrier(const std::string& what) override { allgather(std::string(), what); }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort does not return; this only satisfies [[noreturn]]
  }

 private:
  static constexpr int kErrorTag = 32500;  // above next_tag()'s range

  // Every rank's string: the lengths first, then the bytes.
  std::vector<std::string> gather(const std::string& mine, const std::string& what, int tag_len,
                                  int tag_data, double timeout) {
    std::vector<std::string> all(static_cast<size_t>(size_));
    all[rank_] = mine;
    if (size_ == 1) return all;
    std::vector<long long> len(static_cast<size_t>(size_), 0);
    const long long my_len = static_cast<long long>(mine.size());
    EMBER_CHECK_ARG(my_len < INT_MAX, what << ": " << my_len << " bytes is too many");
    std::vector<Pending> p;
    for (int q = 0; q < size_; ++q) {
      if (q == rank_) continue;
      post_recv(p, &len[q], 1, MPI_LONG_LONG, q, tag_len, what);
      post_send(p, &my_len, 1, MPI_LONG_LONG, q, tag_len, what);
    }
    wait(p, what, timeout);
    p.clear();
    for (int q = 0; q < size_; ++q) {
      if (q == rank_) continue;
      EMBER_CHECK(len[q] >= 0 && len[q] < INT_MAX,
                  what << ": rank " << q << " announced " << len[q] << " bytes");
      all[q].resize(static_cast<size_t>(len[q]));
      post_recv(p, all[q].data(), static_cast<int>(len[q]), MPI_CHAR, q, tag_data, what);
      post_send(p, mine.data(), static_cast<int>(my_len), MPI_CHAR, q, tag_data, what);
    }
    wait(p, what, timeout);
    return all;
  }

  // Tags cycle through the range every MPI guarantees (>= 32767). Messages between two ranks
  // never overtake each other on one tag, and every rank runs the same collectives in the same
  // order, so a cycling tag only guards against mixing up consecutive collectives.
  int next_tag() {
    seq_ = (seq_ + 1) % 32000;
    return static_cast<int>(seq_);
  }

  void post_send(std::vector<Pending>& p, const void* buf, int count, MPI_Datatype type, int peer,
                 int tag, const std::string& what) {
    Pending x;
    x.peer = peer;
    const int rc = MPI_Isend(buf, count, type, peer, tag, comm_, &x.req);
    if (rc != MPI_SUCCESS) fail_transport(what, peer, rc);
    p.push_back(x);
  }
  void post_recv(std::vector<Pending>& p, void* buf, int count, MPI_Datatype type, int peer,
                 int tag, const std::string& what) {
    Pending x;
    x.peer = peer;
    const int rc = MPI_Irecv(buf, count, type, peer, tag, comm_, &x.req);
    if (rc != MPI_SUCCESS) fail_transport(what, peer, rc);
    p.push_back(x);
  }

  [[noreturn]] void fail_transport(const std::string& what, int peer, int rc) const {
    std::ostringstream s;
    s << "rank " << rank_ << " (" << host_ << "): " << what << ": the transfer with rank " << peer
      << " failed: " << mpi_error_string(rc) << " (has rank " << peer << " died?)";
    throw CommError(s.str());
  }

  // Polls until every transfer is done. MPI only makes progress inside MPI calls, so the loop
  // keeps testing; it backs off to 1 ms sleeps so that a rank waiting for a slower one leaves
  // the CPU to it (two ranks often share a machine's cores with the BLAS threads).
  void wait(std::vector<Pending>& p, const std::string& what) { wait(p, what, timeout_); }
  void wait(std::vector<Pending>& p, const std::string& what, double timeout) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::duration<double>(timeout);
    int polls = 0;
    for (;;) {
      bool all = true;
      for (Pending& x : p) {
        if (x.done) continue;
        int flag = 0;
        MPI_Status st;
        const int rc = MPI_Test(&x.req, &flag, &st);
        if (rc != MPI_SUCCESS) fail_transport(what, x.peer, rc);
        if (flag)
          x.done = true;
        else
          all = false;
      }
      if (all) return;
      if (clock::now() > deadline) fail_timeout(p, what, timeout);
      if (++polls > 200)
        std::this_thread::sleep_for(std::chrono::microseconds(std::min(1000, 10 * (polls - 200))));
    }
  }

  [[noreturn]] void fail_timeout(std::vector<Pending>& p, const std::string& what,
                                 double timeout) const {
    std::vector<int> late;
    for (Pending& x : p) {
      if (x.done) continue;
      if (std::find(late.begin(), late.end(), x.peer) == late.end()) late.push_back(x.peer);
      // Withdraw the transfer so that nothing later writes into buffers the caller is about to
      // free: an unmatched receive cancels at once; a send is released to complete on its own
      // (the job is normally aborted right after this error).
      MPI_Cancel(&x.req);
      MPI_Request_free(&x.req);
    }
    std::sort(late.begin(), late.end());
    std::ostringstream s;
    s << "rank " << rank_ << " (" << host_ << "): " << what << ": no answer from rank";
    if (late.size() > 1) s << 's';
    for (size_t i = 0; i < late.size(); ++i) s << (i ? ", " : " ") << late[i];
    s << " within " << timeout
      << " s: " << (late.size() > 1 ? "they have died or hang" : "it has died or hangs")
      << " (EMBER_DIST_TIMEOUT sets the limit)";
    throw CommError(s.str());
  }

  // Reduce-scatter then all-gather, both in fixed order (see the file comment).
  template <class T>
  void reduce(T* data, int64_t n, MPI_Datatype type, const std::string& what) {
    const int w = size_;
    auto bound = [&](int k) { return n * k / w; };
    const int64_t mine_lo = bound(rank_), mine_n = bound(rank_ + 1) - mine_lo;
    EMBER_CHECK_ARG(n / w < INT_MAX, what << ": " << n << " elements is too many for one MPI "
                                          << "message per chunk");
    const int tag1 = next_tag(), tag2 = next_tag();
    // Phase 1: chunk k of every rank goes to rank k; the copies of my chunk land in `parts`.
    std::vector<T> parts(static_cast<size_t>(mine_n) * static_cast<size_t>(w));
    std::vector<Pending> p;
    for (int q = 0; q < w; ++q) {
      if (q == rank_) continue;
      post_recv(p, parts.data() + static_cast<size_t>(q) * mine_n, static_cast<int>(mine_n), type,
                q, tag1, what);
      post_send(p, data + bound(q), static_cast<int>(bound(q + 1) - bound(q)), type, q, tag1, what);
    }
    wait(p, what);
    std::memcpy(parts.data() + static_cast<size_t>(rank_) * mine_n, data + mine_lo,
                static_cast<size_t>(mine_n) * sizeof(T));
    // The sum of chunk `rank_`, rank 0's copy first, one addition after another.
    T* out = data + mine_lo;
    for (int64_t i = 0; i < mine_n; ++i) {
      T acc = parts[i];
      for (int q = 1; q < w; ++q) acc += parts[static_cast<size_t>(q) * mine_n + i];
      out[i] = acc;
    }
    // Phase 2: every rank's reduced chunk to everyone.
    p.clear();
    for (int q = 0; q < w; ++q) {
      if (q == rank_) continue;
      post_recv(p, data + bound(q), static_cast<int>(bound(q + 1) - bound(q)), type, q, tag2, what);
      post_send(p, out, static_cast<int>(mine_n), type, q, tag2, what);
    }
    wait(p, what);
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  double timeout_;
  unsigned seq_ = 0;
  std::string host_;
};

}  // namespace

std::unique_ptr<Communicator> make_mpi_communicator() {
  return std::make_unique<MpiComm>();
}

}  // namespace ember::dist
