// See lstm_dispatch.h. The bodies are fn::lstm's former CUDA branch, moved here so that the
// op has one body; without CUDA they only refuse (no CUDA Exec can reach them).
#include "kernels/lstm/lstm_dispatch.h"

#include <sstream>
#include <string>

#include "engine/core/check.h"
#include "kernels/lstm/lstm_persistent.h"
#include "kernels/op_kinds.h"

#ifdef EMBER_HAVE_CUDA
#include <cuda_runtime.h>

#include "engine/cuda/check.h"
#include "kernels/lstm/cudnn_rnn.h"
#endif

namespace ember::kern {

void lstm_device_check(const Exec& ex, fn::LstmImpl impl, const LstmConfig& cfg, DType dt) {
  EMBER_CHECK_ARG(!ex.cpu(), "lstm_device_check: " << ex.device.str() << " is not a CUDA device");
#ifdef EMBER_HAVE_CUDA
  const int device = ex.device.index;
  const bool use_cudnn = impl == fn::LstmImpl::kCudnn;
#ifdef EMBER_CUDA_EMU
  EMBER_CHECK_ARG(!use_cudnn, cuda::kCudnnUnderEmulator);
#endif
  if (use_cudnn) {
    const std::string why = cuda::cudnn_lstm_unsupported(cfg);
    EMBER_CHECK_ARG(why.empty(), "lstm: implementation 'cudnn' cannot honour " << why);
  }
  EMBER_CUDA_CHECK(cudaSetDevice(device));
  if (impl == fn::LstmImpl::kPersistent) {
    std::string why;
    if (!cuda::lstm_persistent_supported(cfg, dt, &why, device)) {
      std::ostringstream shape;
      shape << "B=" << cfg.batch << " T=" << cfg.steps << " C=" << cfg.input << " H=" << cfg.hidden
            << " " << dtype_name(dt);
      EMBER_CHECK_ARG(false, "lstm: implementation 'persistent' cannot run this layer ("
                                 << shape.str() << " on cuda:" << device << "): " << why
                                 << "; use implementation 'fused'");
    }
  }
#else
  (void)impl;
  (void)cfg;
  (void)dt;
  detail::require_cpu(ex);
#endif
}

template <class T>
void lstm_device_forward(const Exec& ex, fn::LstmImpl impl, const LstmConfig& cfg, const T* x,
                         const T* kernel, const T* recurrent_kernel, const T* bias,
                         const uint8_t* mask, T* out, LstmDeviceSaved* saved,
                         std::vector<Tensor>* keep_alive) {
#ifdef EMBER_HAVE_CUDA
  const cuda::LstmRun run{ex.device.index, ex.stream, keep_alive};
  if (impl == fn::LstmImpl::kCudnn) {
    std::shared_ptr<cuda::CudnnLstmSaved> s = cuda::cudnn_lstm_forward<T>(
        cfg, x, kernel, recurrent_kernel, bias, mask, out, saved != nullptr, run);
    if (saved) saved->cudnn = std::move(s);
  } else if (impl == fn::LstmImpl::kPersistent) {
    cuda::lstm_persistent_forward<T>(cfg, x, kernel, recurrent_kernel, bias, mask, out,
                                     saved ? &saved->saved : nullptr, run);
  } else {
    cuda::lstm_forward<T>(cfg, x, kernel, recurrent_kernel, bias, mask, out,
                          saved ? &saved->saved : nullptr, run);
  }
#else
  (void)impl, (void)cfg, (void)x, (void)kernel, (void)recurrent_kernel, (void)bias;
  (void)mask, (void)out, (void)saved, (void)keep_alive;
  detail::require_cpu(ex);
  EMBER_CHECK_ARG(false, "lstm_device_forward: no CUDA device path in this build");
#endif
}

template <class T>
void lstm_device_backward(const Exec& ex, fn::LstmImpl impl, const LstmConfig& cfg, const T* x,
                          const T* kernel, const T* recurrent_kernel, const uint8_t* mask,
                          const LstmDeviceSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                          T* d_recurrent_kernel, T* d_bias) {
#ifdef EMBER_HAVE_CUDA
  EMBER_CUDA_CHECK(cudaSetDevice(ex.device.index));
  const cuda::LstmRun run{ex.device.index, ex.stream, nullptr};
  if (saved.cudnn)
    cuda::cudnn_lstm_backward<T>(cfg, x, *saved.cudnn, d_out, d_x, d_kernel, d_recurrent_kernel,
                                 d_bias, run);
  else if (impl == fn::LstmImpl::kPersistent)
    cuda::lstm_persistent_backward<T>(cfg, x, kernel, recurrent_kernel, mask, saved.saved, d_out,
                                      d_x, d_kernel, d_recurrent_kernel, d_bias, run);
  else
    cuda::lstm_backward<T>(cfg, x, kernel, recurrent_kernel, mask, saved.saved, d_out, d_x,
                           d_kernel, d_recurrent_kernel, d_bias, run);
#else
  (void)impl, (void)cfg, (void)x, (void)kernel, (void)recurrent_kernel, (void)mask;
  (void)saved, (void)d_out, (void)d_x, (void)d_kernel, (void)d_recurrent_kernel, (void)d_bias;
  detail::require_cpu(ex);
  EMBER_CHECK_ARG(false, "lstm_device_backward: no CUDA device path in this build");
#endif
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void lstm_device_forward<T>(const Exec&, fn::LstmImpl, const LstmConfig&, const T*,  \
                                       const T*, const T*, const T*, const uint8_t*, T*,        \
                                       LstmDeviceSaved*, std::vector<Tensor>*);                 \
  template void lstm_device_backward<T>(const Exec&, fn::LstmImpl, const LstmConfig&, const T*, \
                                        const T*, const T*, const uint8_t*,                     \
                                        const LstmDeviceSaved&, const T*, T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
