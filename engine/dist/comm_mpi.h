// The MPI backend of comm.h, declared only for builds with MPI (EMBER_HAVE_MPI). The first
// call initialises MPI (finalised when the program ends); each call returns a communicator
// over its own duplicate of MPI_COMM_WORLD, so every rank must make the same calls in the
// same order (MPI_Comm_dup is collective).
#pragma once

#include <memory>

#include "engine/dist/comm.h"

namespace ember::dist {

std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace ember::dist
