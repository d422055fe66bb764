// Internal to the persistent LSTM (kernels/lstm/lstm_persistent.h): what its launchers
// (lstm_persistent.cu) and its kernels (lstm_persistent_kernels.cu) share. The kernels'
// arguments travel by value; every buffer is [B,T,*] by original time as in kernels/lstm/lstm.h
// (B batch, T time, H hidden, G = 4H). The launch functions take the plan of
// lstm_persistent_plan, whose rows per thread pick the kernel instantiation at run time.
// Include only from CUDA builds.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/lstm/lstm_persistent.h"

namespace ember::cuda {

// The sizes and options both kernels read: LstmConfig's, and the plan's Hc and Bt.
struct LstmPersistentDims {
  int batch = 0, steps = 0, hidden = 0, units = 0, batch_tile = 0;
  bool return_sequences = false, go_backwards = false, reverse_outputs = false;
  bool zero_output_for_mask = false;
};

template <class T>
struct LstmPersistentFwdArgs : LstmPersistentDims {
  const T* recurrent_kernel = nullptr;  // [H,G]
  const T* bias = nullptr;              // [G] or null
  const uint8_t* mask = nullptr;        // [B,T] or null; nonzero = real step
  const T* h_scale = nullptr;           // [B,H] recurrent dropout factor or null
  T* gates = nullptr;   // [B,T,G] in: x·kernel; out: activations i,f,g,o at real rows
  T* out = nullptr;     // [B,T,H] (return_sequences) or [B,H]
  T* c_save = nullptr;  // [B,T,H] or null
  T* h_prev = nullptr;  // [B,T,H] or null: the step's recurrent operand
};

template <class T>
struct LstmPersistentBwdArgs : LstmPersistentDims {
  const T* recurrent_kernel = nullptr;  // [H,G]
  const uint8_t* mask = nullptr;        // [B,T] or null
  const T* h_scale = nullptr;           // [B,H] or null
  const T* gates = nullptr;             // [B,T,G] activations (saved)
  const T* c_save = nullptr;            // [B,T,H]
  const T* d_out = nullptr;             // out's shape
  T* d_gates = nullptr;                 // [B,T,G] OVERWRITTEN (zeros at masked rows)
};

// One cluster launch of the forward (all T steps) or backward kernel for `plan` on `stream`,
// after setting the kernel's dynamic shared memory limit to the plan's; checks the launch,
// never synchronizes. float and double.
template <class T>
void launch_lstm_persistent_forward(const LstmPersistentFwdArgs<T>& args,
                                    const LstmPersistentPlan& plan, cudaStream_t stream);
template <class T>
void launch_lstm_persistent_backward(const LstmPersistentBwdArgs<T>& args,
                                     const LstmPersistentPlan& plan, cudaStream_t stream);

// Clusters of the plan's forward (or backward) kernel that fit on the current device at once
// (cudaOccupancyMaxActiveClusters; 0: it cannot launch). Sets the kernel's shared memory
// limit as a launch would. Throws std::runtime_error when a CUDA call fails.
template <class T>
int lstm_persistent_max_clusters(const LstmPersistentPlan& plan, bool backward);

}  // namespace ember::cuda
