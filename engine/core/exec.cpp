// See exec.h. The CUDA half (streams and the cuBLAS handle from cuda::Context) compiles only
// under EMBER_HAVE_CUDA; without it a CUDA device is refused here, with the same message the
// ops gave when each of them carried its own check.
#include "engine/core/exec.h"

#include "engine/core/check.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#endif

namespace ember::kern {

bool cuda_built() {
#ifdef EMBER_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

Exec Exec::of(Device dev) {
  Exec ex;
  ex.device = dev;
  if (dev.is_cpu()) return ex;
#ifdef EMBER_HAVE_CUDA
  ex.stream = cuda::Context::get(dev.index).stream();
#else
  EMBER_CHECK_ARG(false, "device " << dev.str()
                                   << " is a CUDA device, but this build has no "
                                      "CUDA support");
#endif
  return ex;
}

Exec Exec::of(const Tensor& t, const char* op, const char* what) {
  EMBER_CHECK_ARG(t.device().is_cpu() || cuda_built(),
                  op << ": " << what << (*what ? " " : "") << t.str()
                     << " is on a CUDA device, but this build has no CUDA support");
  return of(t.device());
}

Exec Exec::side(Device dev) {
  EMBER_CHECK_ARG(!dev.is_cpu(), "Exec::side: " << dev.str() << " has no side stream");
  Exec ex = of(dev);
#ifdef EMBER_HAVE_CUDA
  ex.stream = cuda::Context::get(dev.index).side_stream();
#endif
  return ex;
}

cublasHandle_t Exec::cublas() const {
  EMBER_CHECK_ARG(!cpu(), "Exec::cublas: the cpu has no cuBLAS handle");
#ifdef EMBER_HAVE_CUDA
  return cuda::Context::get(device.index).cublas();
#else
  return nullptr;  // unreachable: no CUDA Exec exists without CUDA
#endif
}

void join(const Exec& waiter, const Exec& signaller) {
  if (waiter.cpu() && signaller.cpu()) return;
  EMBER_CHECK_ARG(waiter.device == signaller.device, "join: " << waiter.device.str() << " and "
                                                              << signaller.device.str()
                                                              << " are different devices");
#ifdef EMBER_HAVE_CUDA
  cuda::Context::get(waiter.device.index).join(waiter.stream, signaller.stream);
#endif
}

namespace detail {

void require_cpu(const Exec& ex) {
  EMBER_CHECK_ARG(ex.cpu(), ex.device.str() << " is a CUDA device, but this build has no CUDA "
                                               "support");
}

}  // namespace detail

}  // namespace ember::kern
