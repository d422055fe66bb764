// Fused LSTM gate kernels (kernels/lstm/lstm.h, LstmGatesForwardArgs / LstmGatesBackwardArgs): one
// thread per (b, j) of [B] x [H] does all four gates of hidden unit j, so a step is a single
// launch. Consecutive threads take consecutive j, so every [B,G]/[B,H] row access is coalesced.
// The switches (mask, saving c, the next recurrent operand, recurrent dropout) are template
// bools; the arguments travel by value as one struct. Activations: expf/tanhf (float) and
// exp/tanh (double), compared with the reference at float tolerance; the derivatives use the
// saved activations (sigmoid' = s(1-s), tanh' = 1-g^2), as lstm_ref.cpp does.
#include <type_traits>

#include "engine/cuda/check.h"
#include "engine/cuda/launch.cuh"
#include "kernels/lstm/lstm.h"

namespace ember::cuda {

namespace {

__device__ __forceinline__ float sigmoid_fn(float a) { return 1.0f / (1.0f + expf(-a)); }
__device__ __forceinline__ double sigmoid_fn(double a) { return 1.0 / (1.0 + exp(-a)); }
__device__ __forceinline__ float tanh_fn(float a) { return tanhf(a); }
__device__ __forceinline__ double tanh_fn(double a) { return tanh(a); }

template <class T, bool kMask, bool kSave, bool kNext, bool kRecDrop>
__global__ void lstm_gates_fwd_kernel(LstmGatesForwardArgs<T> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nh = p.hidden;
  if (i >= p.batch * nh) return;
  const int64_t b = i / nh, j = i - b * nh;
  T hv = p.h[i];
  T cv = p.c[i];
  T ov;
  if (!kMask || p.mask[b * p.ld_mask] != 0) {
    T* a = p.gates + b * p.ld_gates;
    T bi = T(0), bf = T(0), bg = T(0), bo = T(0);
    if (p.bias) {
      bi = p.bias[j];
      bf = p.bias[nh + j];
      bg = p.bias[2 * nh + j];
      bo = p.bias[3 * nh + j];
    }
    const T ig = sigmoid_fn(a[j] + bi);
    const T fg = sigmoid_fn(a[nh + j] + bf);
    const T gg = tanh_fn(a[2 * nh + j] + bg);
    const T og = sigmoid_fn(a[3 * nh + j] + bo);
    a[j] = ig;
    a[nh + j] = fg;
    a[2 * nh + j] = gg;
    a[3 * nh + j] = og;
    cv = fg * cv + ig * gg;
    hv = og * tanh_fn(cv);
    p.c[i] = cv;
    p.h[i] = hv;
    ov = hv;
  } else {
    // Masked step: h and c carry over; the output repeats the previous one (== h) or is 0.
    ov = p.zero_output_for_mask ? T(0) : hv;
  }
  if (p.out) p.out[b * p.ld_out + j] = ov;
  if (kSave) p.c_save[b * p.ld_c_save + j] = cv;
  if (kNext) p.h_next[b * p.ld_h_next + j] = kRecDrop ? hv * p.h_scale[i] : hv;
}

template <class T, bool kMask, bool kAddRec>
__global__ void lstm_gates_bwd_kernel(LstmGatesBackwardArgs<T> p) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nh = p.hidden;
  if (i >= p.batch * nh) return;
  const int64_t b = i / nh, j = i - b * nh;
  T dhv = p.dh[i];
  if (kAddRec) dhv += p.dh_rec[i] * p.h_scale[i];
  const T go = p.d_out ? p.d_out[b * p.ld_d_out + j] : T(0);
  T* dg = p.d_gates + b * p.ld_d_gates;
  if (kMask && p.mask[b * p.ld_mask] == 0) {
    // The output was the carried h (or a constant 0); the state passes through.
    if (p.d_out && !p.zero_output_for_mask) dhv += go;
    p.dh[i] = dhv;
    dg[j] = T(0);
    dg[nh + j] = T(0);
    dg[2 * nh + j] = T(0);
    dg[3 * nh + j] = T(0);
    return;
  }
  const T* a = p.gates + b * p.ld_gates;
  const T ig = a[j], fg = a[nh + j], gg = a[2 * nh + j], og = a[3 * nh + j];
  const T cn = p.c_new[b * p.ld_c + j];
  const T cp = p.c_prev ? p.c_prev[b * p.ld_c + j] : T(0);
  const T d_h = dhv + go;
  const T tc = tanh_fn(cn);
  const T d_o = d_h * tc;
  const T d_c = p.dc[i] + d_h * og * (T(1) - tc * tc);
  dg[j] = d_c * gg * ig * (T(1) - ig);           // through i
  dg[nh + j] = d_c * cp * fg * (T(1) - fg);      // through f
  dg[2 * nh + j] = d_c * ig * (T(1) - gg * gg);  // through g
  dg[3 * nh + j] = d_o * og * (T(1) - og);       // through o
  p.dc[i] = d_c * fg;
  p.dh[i] = T(0);
}

constexpr int kThreads = 256;

unsigned blocks_for(int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// Calls f(std::integral_constant<bool, v>) for a runtime bool: the template-bool dispatch.
template <class F>
void with_bool(bool v, F&& f) {
  if (v) f(std::true_type{});
  else f(std::false_type{});
}

}  // namespace

template <class T>
void lstm_gates_forward(const LstmGatesForwardArgs<T>& p, cudaStream_t stream) {
  EMBER_CHECK_ARG(p.batch >= 1 && p.hidden >= 1,
                  "lstm_gates_forward: need B, H >= 1, got B=" << p.batch << " H=" << p.hidden);
  EMBER_CHECK_ARG(p.gates && p.h && p.c, "lstm_gates_forward: gates, h and c are required");
  EMBER_CHECK_ARG(p.ld_gates >= 4 * p.hidden, "lstm_gates_forward: ld_gates " << p.ld_gates
                                                  << " < 4H = " << 4 * p.hidden);
  EMBER_CHECK_ARG(!p.out || p.ld_out >= p.hidden, "lstm_gates_forward: ld_out < H");
  EMBER_CHECK_ARG(!p.c_save || p.ld_c_save >= p.hidden, "lstm_gates_forward: ld_c_save < H");
  EMBER_CHECK_ARG(!p.h_next || p.ld_h_next >= p.hidden, "lstm_gates_forward: ld_h_next < H");
  EMBER_CHECK_ARG(!p.h_scale || p.h_next, "lstm_gates_forward: h_scale without h_next");
  EMBER_CHECK_ARG(!p.mask || p.ld_mask >= 1, "lstm_gates_forward: ld_mask < 1");
  const int64_t n = p.batch * p.hidden;
  with_bool(p.mask != nullptr, [&](auto mask) {
    with_bool(p.c_save != nullptr, [&](auto save) {
      with_bool(p.h_next != nullptr, [&](auto next) {
        with_bool(p.h_scale != nullptr, [&](auto rec) {
          EMBER_LAUNCH((lstm_gates_fwd_kernel<T, decltype(mask)::value, decltype(save)::value,
                                              decltype(next)::value, decltype(rec)::value>),
                       blocks_for(n), kThreads, 0, stream, p);
        });
      });
    });
  });
  EMBER_CUDA_CHECK_LAUNCH("lstm_gates_fwd_kernel");
}

template <class T>
void lstm_gates_backward(const LstmGatesBackwardArgs<T>& p, cudaStream_t stream) {
  EMBER_CHECK_ARG(p.batch >= 1 && p.hidden >= 1,
                  "lstm_gates_backward: need B, H >= 1, got B=" << p.batch << " H=" << p.hidden);
  EMBER_CHECK_ARG(p.gates && p.c_new && p.dh && p.dc && p.d_gates,
                  "lstm_gates_backward: gates, c_new, dh, dc and d_gates are required");
  EMBER_CHECK_ARG(p.ld_gates >= 4 * p.hidden && p.ld_d_gates >= 4 * p.hidden,
                  "lstm_gates_backward: ld_gates/ld_d_gates < 4H = " << 4 * p.hidden);
  EMBER_CHECK_ARG(p.ld_c >= p.hidden, "lstm_gates_backward: ld_c < H");
  EMBER_CHECK_ARG(!p.d_out || p.ld_d_out >= p.hidden, "lstm_gates_backward: ld_d_out < H");
  EMBER_CHECK_ARG(!p.dh_rec || p.h_scale, "lstm_gates_backward: dh_rec needs h_scale");
  EMBER_CHECK_ARG(!p.mask || p.ld_mask >= 1, "lstm_gates_backward: ld_mask < 1");
  const int64_t n = p.batch * p.hidden;
  with_bool(p.mask != nullptr, [&](auto mask) {
    with_bool(p.dh_rec != nullptr, [&](auto rec) {
      EMBER_LAUNCH((lstm_gates_bwd_kernel<T, decltype(mask)::value, decltype(rec)::value>),
                   blocks_for(n), kThreads, 0, stream, p);
    });
  });
  EMBER_CUDA_CHECK_LAUNCH("lstm_gates_bwd_kernel");
}

template void lstm_gates_forward<float>(const LstmGatesForwardArgs<float>&, cudaStream_t);
template void lstm_gates_forward<double>(const LstmGatesForwardArgs<double>&, cudaStream_t);
template void lstm_gates_backward<float>(const LstmGatesBackwardArgs<float>&, cudaStream_t);
template void lstm_gates_backward<double>(const LstmGatesBackwardArgs<double>&, cudaStream_t);

}  // namespace ember::cuda
