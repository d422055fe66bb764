// The single-process communicator (comm.h): rank 0 of 1, every collective is the identity.
// Also holds what every backend shares: the timeout knob.
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/dist/comm.h"

namespace ember::dist {

Communicator::~Communicator() = default;

namespace {

class LocalComm final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "local"; }
  void allreduce_sum(Tensor& t, const std::string& what) override {
    EMBER_CHECK_ARG(t.defined() && (t.dtype() == DType::kFloat32 || t.dtype() == DType::kFloat64),
                    what << ": allreduce_sum needs a float32 or float64 tensor, got "
                         << (t.defined() ? t.str() : std::string("undefined")));
  }
  std::vector<std::string> allgather(const std::string& mine, const std::string&) override {
    return {mine};
  }
  void broadcast(std::string&, int root, const std::string& what) override {
    EMBER_CHECK_ARG(root == 0, what << ": broadcast from rank " << root << " of 1");
  }
  void barrier(const std::string&) override {}
  std::vector<std::string> gather_errors(const std::string& mine, double) override {
    return {mine};
  }
  [[noreturn]] void abort(int code) override { std::exit(code); }
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() {
  return std::make_unique<LocalComm>();
}

double collective_timeout_seconds() {
  const char* env = std::getenv("EMBER_DIST_TIMEOUT");
  if (!env || !*env) return 300.0;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(env, &end);
  if (errno != 0 || end == env || *end != '\0' || !std::isfinite(v) || v <= 0)
    throw Error(std::string("EMBER_DIST_TIMEOUT='") + env +
                "': expected a positive number of seconds (how long a collective waits for "
                "the other ranks)");
  return v;
}

}  // namespace ember::dist
