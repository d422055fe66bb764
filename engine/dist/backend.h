// How a data-parallel job maps onto devices and transports. One process per GPU: a rank's
// GPU is its position among the ranks on its host (its local rank) modulo the visible
// devices. Gradients on GPUs go through NCCL when the build has it and every rank has a GPU
// of its own (NCCL refuses two ranks on one device); otherwise through MPI, staged through
// the host. $EMBER_DIST_BACKEND = auto (default) | mpi | nccl forces a choice.
#pragma once

#include <memory>
#include <string>

#include "engine/core/tensor.h"
#include "engine/dist/comm.h"

namespace ember::dist {

// `chosen` is --device's choice; a CUDA device becomes this rank's GPU. Collective.
Device device_for_rank(Communicator& world, Device chosen);

// The communicator for gradients on `dev`: null when `world` itself serves (the CPU, or MPI
// for GPUs), else an NCCL communicator built over `world`. `note` says what was chosen and
// why, for the log. Collective. Throws ember::Error for a bad EMBER_DIST_BACKEND or a forced
// choice that cannot be had.
std::unique_ptr<Communicator> make_gradient_communicator(Communicator& world, Device dev,
                                                         std::string* note);

}  // namespace ember::dist
