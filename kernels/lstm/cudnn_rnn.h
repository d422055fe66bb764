// cuDNN fallback for the Keras LSTM: the same contract as cuda::lstm_forward / lstm_backward
// (kernels/lstm/lstm.h), run through cuDNN's v8 RNN API (cudnnRNNForward, cudnnRNNBackwardData_v8,
// cudnnRNNBackwardWeights_v8) with CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, unidirectional (a
// Bidirectional makes one call per direction, so Keras's separate weights map 1:1) and
// CUDNN_RNN_DOUBLE_BIAS with the recurrent bias held at zero.
//
// What it honours and how:
//  - masks of any shape, by compaction: Keras's masked steps leave h and c unchanged, which is
//    the same as skipping them, so the real steps of each sample, in processing order, are
//    gathered into a left-aligned [B, L, C] buffer with per-sample lengths (cuDNN's
//    seqLengthArray); a masked step's output is then the previous real step's output (or 0
//    before the first one, or with zero_output_for_mask), gathered back per output position.
//    Pre-padded, post-padded and holed masks all work; a fully masked sample is given length 1
//    (cuDNN rejects 0) on a zero input and its outputs and gradients are ignored;
//  - go_backwards and reverse_outputs through the same gathers (cuDNN always runs forward);
//  - input dropout: the Keras x mask (identical Philox draw) is applied before the call;
//  - NOT recurrent_dropout (cuDNN has none): cudnn_lstm_unsupported names it.
// The mask is read on the host, so a call with a mask synchronizes its stream once. float32
// runs with CUDNN_FMA_MATH (no TF32), float64 in double. Run-to-run reproducible for a fixed
// device, stream and shapes: the RNN calls are not among the atomics-using routines cuDNN's
// reproducibility notes list, our own kernels use none, and tests/gpu checks it bitwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/lstm/lstm.h"

namespace ember::cuda {

// "" when cuDNN can run cfg exactly, else the reason, naming the option.
std::string cudnn_lstm_unsupported(const LstmConfig& cfg);

// What fn::lstm and the entry points below throw in a build for the CUDA emulator
// (EMBER_CUDA_EMU), where the cudnn implementation is refused by name: there is no cuDNN to
// run, and a stand-in would test nothing of ours (kernels/lstm/cudnn_rnn_emu.cpp).
inline constexpr const char* kCudnnUnderEmulator =
    "LSTM implementation 'cudnn' is not available under the CUDA emulator (EMBER_CUDA_EMU): "
    "cuDNN cannot be emulated; use fused or persistent";

// The host-side plan of a call: how Keras's masked, possibly reversed sequences map onto
// cuDNN's left-aligned ones. Needs no GPU (CPU tests check it by running the reference on the
// compacted sequences). P = T with return_sequences, else 1.
struct CudnnLstmPlan {
  int64_t max_len = 0;           // L: cuDNN's maxSeqLength
  int64_t positions = 0;         // P: Keras output positions per sample
  std::vector<int32_t> lengths;  // [B] cuDNN's seqLengthArray: real steps, at least 1
  std::vector<int32_t> x_map;    // [B,L] time read by cuDNN step k; -1: a zero row
  std::vector<int32_t> out_map;  // [B,P] cuDNN output row that position p repeats; -1: zero
  bool identity_x = true;        // every x_map[b,k] == k and L == T: no gather needed
};
// host_mask [B,T] (nonzero = real) or null.
CudnnLstmPlan cudnn_lstm_plan(const LstmConfig& cfg, const uint8_t* host_mask);

// What the cuDNN forward leaves for its backward (descriptors, the weight space the forward
// used, cuDNN's reserve space, its outputs, the gather maps and the input dropout factor).
struct CudnnLstmSaved;

// Forward: as cuda::lstm_forward, out OVERWRITTEN. Returns the saved state when `save` (for
// training), else null. Throws std::invalid_argument for an unsupported cfg.
template <class T>
std::shared_ptr<CudnnLstmSaved> cudnn_lstm_forward(const LstmConfig& cfg, const T* x,
                                                   const T* kernel, const T* recurrent_kernel,
                                                   const T* bias, const uint8_t* mask, T* out,
                                                   bool save, const LstmRun& run);

// Backward: gradients ACCUMULATE (+=), null ones are skipped (cuDNN still computes them). x is
// the forward's input, unchanged. d_bias may be non-null only if the forward had a bias.
template <class T>
void cudnn_lstm_backward(const LstmConfig& cfg, const T* x, const CudnnLstmSaved& saved,
                         const T* d_out, T* d_x, T* d_kernel, T* d_recurrent_kernel, T* d_bias,
                         const LstmRun& run);

// The explicit instantiations for one T, expanded for float and double by the one source that
// defines these functions: cudnn_rnn.cpp with cuDNN, cudnn_rnn_emu.cpp under the emulator.
#define EMBER_INSTANTIATE_CUDNN_LSTM(T)                                                    \
  template std::shared_ptr<CudnnLstmSaved> cudnn_lstm_forward<T>(                          \
      const LstmConfig&, const T*, const T*, const T*, const T*, const uint8_t*, T*, bool, \
      const LstmRun&);                                                                     \
  template void cudnn_lstm_backward<T>(const LstmConfig&, const T*, const CudnnLstmSaved&, \
                                       const T*, T*, T*, T*, T*, const LstmRun&);

}  // namespace ember::cuda
