// Backend-neutral entry points of the device LSTM paths (fused, cudnn, persistent) for
// fn::lstm, over kernels/lstm/lstm.h, lstm_persistent.h and cudnn_rnn.h, whose declarations stay
// as they are. The CPU reference (ref::lstm_*) is called directly: fn::lstm also runs it on
// host copies of CUDA tensors ('reference'), so it is not a backend choice. Shapes and
// gradient contracts: kernels/lstm/lstm.h (gradients ACCUMULATE, null ones are skipped). In a build
// without CUDA no CUDA Exec exists, so these are unreachable; they throw if called.
#pragma once

#include <memory>
#include <vector>

#include "engine/core/exec.h"
#include "kernels/lstm/lstm.h"

namespace ember::fn {
enum class LstmImpl;  // kernels/op_kinds.h
}  // namespace ember::fn

namespace ember::cuda {
struct CudnnLstmSaved;
}  // namespace ember::cuda

namespace ember::kern {

// What a device forward leaves for its backward: LstmSaved (fused, persistent) or cuDNN's.
struct LstmDeviceSaved {
  LstmSaved saved;
  std::shared_ptr<cuda::CudnnLstmSaved> cudnn;
};

// Refuses, with the messages fn::lstm has always given, an implementation that cannot run
// `cfg` on ex.device ('cudnn' under the emulator or for an option cuDNN lacks, 'persistent'
// beyond lstm_persistent_supported), and makes ex.device the current device.
void lstm_device_check(const Exec& ex, fn::LstmImpl impl, const LstmConfig& cfg, DType dt);

// Forward on ex.stream (the device's main stream, or its side stream with keep_alive: see
// fn::LstmCall). `saved` null: no backward will run. 'auto' and 'fused' run the fused path.
template <class T>
void lstm_device_forward(const Exec& ex, fn::LstmImpl impl, const LstmConfig& cfg, const T* x,
                         const T* kernel, const T* recurrent_kernel, const T* bias,
                         const uint8_t* mask, T* out, LstmDeviceSaved* saved,
                         std::vector<Tensor>* keep_alive);

// Backward on ex.stream (the main stream), by the path that made `saved`.
template <class T>
void lstm_device_backward(const Exec& ex, fn::LstmImpl impl, const LstmConfig& cfg, const T* x,
                          const T* kernel, const T* recurrent_kernel, const uint8_t* mask,
                          const LstmDeviceSaved& saved, const T* d_out, T* d_x, T* d_kernel,
                          T* d_recurrent_kernel, T* d_bias);

}  // namespace ember::kern
