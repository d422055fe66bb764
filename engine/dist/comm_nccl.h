// The NCCL backend of comm.h, declared only for builds with NCCL (EMBER_HAVE_NCCL): one
// process per GPU, device tensors reduced by NCCL point-to-point transfers on the device
// context's stream, everything else (host tensors, strings, barriers, abort) through `host`,
// the job's MPI communicator, which must outlive it. Creating it is collective over `host`.
#pragma once

#include <memory>

#include "engine/dist/comm.h"

namespace ember::dist {

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& host, int device);

}  // namespace ember::dist
