// The cuDNN LSTM entry points of kernels/lstm/cudnn_rnn.h in a build for the CUDA emulator
// (EMBER_CUDA_EMU; CMake compiles this file only there, in place of the cuDNN half of
// cudnn_rnn.cpp). cuDNN's kernels are not ours and cannot be emulated, and a stand-in would
// test nothing, so both refuse by name with kCudnnUnderEmulator (std::invalid_argument, as
// every refusal of an option does). The plan and cudnn_lstm_unsupported stay in cudnn_rnn.cpp:
// they are plain C++ that CPU tests check.
#ifdef EMBER_CUDA_EMU

#include <memory>

#include "engine/core/check.h"
#include "kernels/lstm/cudnn_rnn.h"

namespace ember::cuda {

template <class T>
std::shared_ptr<CudnnLstmSaved> cudnn_lstm_forward(const LstmConfig&, const T*, const T*, const T*,
                                                   const T*, const uint8_t*, T*, bool,
                                                   const LstmRun&) {
  EMBER_CHECK_ARG(false, kCudnnUnderEmulator);
  return nullptr;  // unreachable
}

template <class T>
void cudnn_lstm_backward(const LstmConfig&, const T*, const CudnnLstmSaved&, const T*, T*, T*, T*,
                         T*, const LstmRun&) {
  EMBER_CHECK_ARG(false, kCudnnUnderEmulator);
}

EMBER_INSTANTIATE_CUDNN_LSTM(float)
EMBER_INSTANTIATE_CUDNN_LSTM(double)

}  // namespace ember::cuda

#endif  // EMBER_CUDA_EMU
