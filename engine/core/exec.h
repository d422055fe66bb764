// Where a kernel runs: the one execution context every backend-neutral entry point
// (ember::kern, kernels/*_dispatch.h) takes. A CPU Exec carries no stream; a CUDA Exec carries
// its device's main stream (or the side stream, for a Bidirectional's second direction). The
// choice between ember::ref and ember::cuda is made only in the dispatch files, by
// EMBER_BACKEND below (or an #ifdef there where the CUDA half needs runtime calls), so the
// autograd ops (layers/fn_*.cpp), tensor_ops and the optimizers each have one body.
#pragma once

#include <cstddef>

#include "engine/core/tensor.h"
#include "engine/cuda/cuda_fwd.h"

struct cublasContext;
typedef struct cublasContext* cublasHandle_t;

namespace ember::kern {

struct Exec {
  Device device = Device::cpu();
  cudaStream_t stream = nullptr;  // null on the CPU, which ignores it

  bool cpu() const { return device.is_cpu(); }
  // cuBLAS handle of the device's context, bound to its main stream. CUDA Execs only.
  cublasHandle_t cublas() const;

  // The CPU, or `dev`'s main stream (cuda::Context::get(dev.index).stream()). In a build
  // without CUDA, a CUDA device throws std::invalid_argument "... no CUDA support".
  static Exec of(Device dev);
  // `t`'s device; in a build without CUDA, a tensor on a CUDA device throws
  // std::invalid_argument "<op>: <what> <t> is on a CUDA device, but this build has no CUDA
  // support" (the message the ops have always given; an empty `what` is left out).
  static Exec of(const Tensor& t, const char* op, const char* what);
  // `dev`'s side stream (CUDA devices only): Bidirectional's second direction runs there.
  static Exec side(Device dev);
};

// Whether this build has the CUDA backend (the emulator counts).
bool cuda_built();

// Makes `waiter`'s stream wait for all work queued on `signaller`'s so far (one device; an
// event, no host sync: cuda::Context::join). Nothing to do between CPU Execs.
void join(const Exec& waiter, const Exec& signaller);

}  // namespace ember::kern

// The one backend switch: runs `cpu_call` for a CPU Exec and `cuda_call` (which names
// (ex).stream) for a CUDA one. A build without CUDA never sees `cuda_call`, so the cuda::
// launchers it names need not exist there; a CUDA Exec cannot be made in such a build
// (Exec::of throws), which detail::require_cpu re-checks. A call whose template argument list
// has a comma must be parenthesised (a macro argument ends at a top-level comma).
#ifdef EMBER_HAVE_CUDA
#define EMBER_BACKEND(ex, cpu_call, cuda_call) \
  do {                                         \
    if ((ex).cpu()) {                          \
      cpu_call;                                \
    } else {                                   \
      cuda_call;                               \
    }                                          \
  } while (0)
#else
#define EMBER_BACKEND(ex, cpu_call, cuda_call) \
  do {                                         \
    ::ember::kern::detail::require_cpu(ex);    \
    cpu_call;                                  \
  } while (0)
#endif

namespace ember::kern::detail {
// Throws std::invalid_argument unless ex is a CPU Exec (builds without CUDA).
void require_cpu(const Exec& ex);
}  // namespace ember::kern::detail
