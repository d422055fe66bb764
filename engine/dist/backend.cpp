// Device and transport choice for data-parallel jobs (see backend.h).
#include "engine/dist/backend.h"

#include <unistd.h>

#include <cstdlib>

#include "engine/core/device.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/dist/dp_kernels.h"
#endif
#ifdef EMBER_HAVE_NCCL
#include "engine/dist/comm_nccl.h"
#endif

namespace ember::dist {

namespace {

std::string host_name() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string backend_choice() {
  const char* env = std::getenv("EMBER_DIST_BACKEND");
  const std::string v = env && *env ? env : "auto";
  if (v != "auto" && v != "mpi" && v != "nccl")
    throw Error("EMBER_DIST_BACKEND='" + v + "': expected auto, mpi or nccl");
  return v;
}

}  // namespace

Device device_for_rank(Communicator& world, Device chosen) {
  if (chosen.is_cpu() || world.size() == 1) return chosen;
  const std::vector<std::string> hosts = world.allgather(host_name(), "finding each rank's host");
  int local = 0;
  for (int q = 0; q < world.rank(); ++q) local += hosts[q] == hosts[world.rank()];
  const int count = cuda_device_count();
  EMBER_CHECK(count > 0, "rank " << world.rank() << ": --device cuda but no visible GPU");
  return Device::cuda(local % count);
}

std::unique_ptr<Communicator> make_gradient_communicator(Communicator& world, Device dev,
                                                         std::string* note) {
  const std::string choice = backend_choice();
  if (dev.is_cpu() || world.size() == 1) {
    if (choice == "nccl")
      throw Error(
          "EMBER_DIST_BACKEND=nccl needs a model on GPUs and several ranks; this job "
          "trains on " +
          std::string(dev.is_cpu() ? "the CPU" : "one rank"));
    *note = std::string(world.backend()) + " on the CPU";
    return nullptr;
  }
#ifdef EMBER_HAVE_CUDA
  // Two ranks on one GPU (a single-GPU test machine) can still train, through MPI.
  const std::vector<std::string> gpus =
      world.allgather(host_name() + " " + device_bus_id(dev.index), "finding each rank's GPU");
  std::string shared;
  for (int a = 0; a < world.size() && shared.empty(); ++a)
    for (int b = a + 1; b < world.size() && shared.empty(); ++b)
      if (gpus[a] == gpus[b])
        shared =
            "ranks " + std::to_string(a) + " and " + std::to_string(b) + " share GPU " + gpus[a];
#ifdef EMBER_HAVE_NCCL
  if (choice != "mpi" && shared.empty()) {
    *note = "NCCL on cuda:" + std::to_string(dev.index);
    return make_nccl_communicator(world, dev.index);
  }
  if (choice == "nccl")
    throw Error("EMBER_DIST_BACKEND=nccl: " + shared + ", and NCCL needs a GPU per rank");
#else
  if (choice == "nccl") throw Error("EMBER_DIST_BACKEND=nccl: this ember was built without NCCL");
#endif
  *note = std::string(world.backend()) + " staged through the host (" +
          (choice == "mpi"   ? std::string("EMBER_DIST_BACKEND=mpi")
           : !shared.empty() ? shared
                             : std::string("no NCCL in this build")) +
          ")";
  return nullptr;
#else
  (void)choice;
  throw Error("a CUDA device in a build without CUDA");
#endif
}

}  // namespace ember::dist
