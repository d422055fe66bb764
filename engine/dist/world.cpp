// world() and launch detection (see world.h).
#include "engine/dist/world.h"

#include <cstdlib>
#include <memory>

#ifdef EMBER_HAVE_MPI
#include "engine/dist/comm_mpi.h"
#endif

namespace ember::dist {

namespace {

// A non-negative integer from the environment, or -1 when unset or not a number.
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return -1;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  return (*end == '\0' && x >= 0 && x < (1L << 30)) ? static_cast<int>(x) : -1;
}

}  // namespace

Launch detect_launch() {
  // Open MPI (mpirun), MPICH/Hydra and Intel MPI (PMI_*), PMIx launchers (Open MPI 5, srun
  // --mpi=pmix). Plain Slurm variables are not enough: a batch script sees them too.
  struct Source {
    const char *rank, *size;
  };
  for (const Source& s : {Source{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                          Source{"PMI_RANK", "PMI_SIZE"}, Source{"PMIX_RANK", nullptr}}) {
    const int rank = env_int(s.rank);
    if (rank < 0) continue;
    Launch l;
    l.by_launcher = true;
    l.rank = rank;
    l.size = s.size ? env_int(s.size) : 0;
    if (l.size < 0) l.size = 0;
    l.variable = s.rank;
    return l;
  }
  return Launch{};
}

bool built_with_mpi() {
#ifdef EMBER_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Communicator& world() {
  static std::unique_ptr<Communicator> w = [] {
    const Launch l = detect_launch();
#ifdef EMBER_HAVE_MPI
    if (l.by_launcher) return make_mpi_communicator();
#else
    if (l.by_launcher && l.size != 1)
      throw Error("this process was started by an MPI launcher (" + l.variable + "=" +
                  std::to_string(l.rank) +
                  "), but this ember was built without MPI: install "
                  "libopenmpi-dev (scripts/setup.sh) and rebuild, or run one process");
#endif
    return make_local_communicator();
  }();
  return *w;
}

}  // namespace ember::dist
