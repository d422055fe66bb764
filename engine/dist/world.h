// Which job this process belongs to. A process started by an MPI launcher (Open MPI's or
// MPICH's mpirun/mpiexec, or srun with PMI/PMIx) finds its rank in the environment and trains
// as one rank of a data-parallel job; any other process is a job of one. world() is the
// process-wide communicator: MPI for a launched process of a build with MPI (MPI_Init on the
// first call, MPI_Finalize at exit), local otherwise.
#pragma once

#include <string>

#include "engine/dist/comm.h"

namespace ember::dist {

struct Launch {
  bool by_launcher = false;  // an MPI launcher's variables are set
  int rank = 0, size = 1;    // size 0: the launcher does not say (PMIx); MPI will
  std::string variable;      // the variable the rank came from, for messages
};
Launch detect_launch();

bool built_with_mpi();

// Throws ember::Error when this process was launched as one of several ranks but the build
// has no MPI (it would otherwise train alone, N times over, into the same run directory).
Communicator& world();

}  // namespace ember::dist
