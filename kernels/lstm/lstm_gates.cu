// Fused LSTM gate kernels (kernels/lstm/lstm.h, LstmGatesForwardArgs / LstmGatesBackwardArgs): one
// thread per (b, j) of [B] x [H] does all four gates of hidden unit j, so a step is a single
// launch. Consecutive threads take consecutive j, so every [B,G]/[B,H] row access is coalesced.
// The switches (mask, saving c, the next recurrent operand, recurrent dropout) are template
// bools; the arguments travel by value as one struct. The cell math is
// kernels/lstm/lstm_cell.cuh's, with its default activations expf/tanhf (float) and exp/tanh
// (double), compared with the reference at float tolerance.
#include <type_traits>

#include "engine/cuda/check.h"
#include "engine/cuda/common.cuh"
#include "engine/cuda/launch.cuh"
#include "kernels/lstm/lstm.h"
#include "kernels/lstm/lstm_cell.cuh"

namespace ember::cuda {

namespace {

template <class T, bool kMask, bool kSave, bool kNext, bool kRecDrop>
__global__ void lstm_gates_fwd_kernel(LstmGatesForwardArgs<T> p) {
  const int64_t i = global_thread_index();
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
    const LstmGates<T> act = lstm_cell_forward<T>(
        {a[j] + bi, a[nh + j] + bf, a[2 * nh + j] + bg, a[3 * nh + j] + bo}, cv, hv);
    a[j] = act.i;
    a[nh + j] = act.f;
    a[2 * nh + j] = act.g;
    a[3 * nh + j] = act.o;
    p.c[i] = cv;
    p.h[i] = hv;
    ov = hv;
  } else {
    // Masked step: h and c carry over; the output repeats the previous one (== h) or is 0.
    ov = lstm_masked_output(hv, p.zero_output_for_mask);
  }
  if (p.out) p.out[b * p.ld_out + j] = ov;
  if (kSave) p.c_save[b * p.ld_c_save + j] = cv;
  if (kNext) p.h_next[b * p.ld_h_next + j] = kRecDrop ? hv * p.h_scale[i] : hv;
}

template <class T, bool kMask, bool kAddRec>
__global__ void lstm_gates_bwd_kernel(LstmGatesBackwardArgs<T> p) {
  const int64_t i = global_thread_index();
  const int64_t nh = p.hidden;
  if (i >= p.batch * nh) return;
  const int64_t b = i / nh, j = i - b * nh;
  T dhv = p.dh[i];
  if (kAddRec) dhv += p.dh_rec[i] * p.h_scale[i];
  const T go = p.d_out ? p.d_out[b * p.ld_d_out + j] : T(0);
  T* dg = p.d_gates + b * p.ld_d_gates;
  if (kMask && p.mask[b * p.ld_mask] == 0) {
    // The output was the carried h (or a constant 0); the state passes through.
    if (p.d_out) lstm_masked_backward(go, p.zero_output_for_mask, dhv);
    p.dh[i] = dhv;
    dg[j] = T(0);
    dg[nh + j] = T(0);
    dg[2 * nh + j] = T(0);
    dg[3 * nh + j] = T(0);
    return;
  }
  const T* a = p.gates + b * p.ld_gates;
  const T cn = p.c_new[b * p.ld_c + j];
  const T cp = p.c_prev ? p.c_prev[b * p.ld_c + j] : T(0);
  T dcv = p.dc[i];
  const LstmGates<T> d =
      lstm_cell_backward<T>({a[j], a[nh + j], a[2 * nh + j], a[3 * nh + j]}, cn, cp, go, dhv, dcv);
  dg[j] = d.i;
  dg[nh + j] = d.f;
  dg[2 * nh + j] = d.g;
  dg[3 * nh + j] = d.o;
  p.dc[i] = dcv;
  p.dh[i] = dhv;
}

// Calls f(std::integral_constant<bool, v>) for a runtime bool: the template-bool dispatch.
template <class F>
void with_bool(bool v, F&& f) {
  if (v)
    f(std::true_type{});
  else
    f(std::false_type{});
}

}  // namespace

template <class T>
void lstm_gates_forward(const LstmGatesForwardArgs<T>& p, cudaStream_t stream) {
  EMBER_CHECK_ARG(p.batch >= 1 && p.hidden >= 1,
                  "lstm_gates_forward: need B, H >= 1, got B=" << p.batch << " H=" << p.hidden);
  EMBER_CHECK_ARG(p.gates && p.h && p.c, "lstm_gates_forward: gates, h and c are required");
  EMBER_CHECK_ARG(p.ld_gates >= 4 * p.hidden,
                  "lstm_gates_forward: ld_gates " << p.ld_gates << " < 4H = " << 4 * p.hidden);
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
                       blocks_for(n), kBlockThreads, 0, stream, p);
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
                   blocks_for(n), kBlockThreads, 0, stream, p);
    });
  });
  EMBER_CUDA_CHECK_LAUNCH("lstm_gates_bwd_kernel");
}

template void lstm_gates_forward<float>(const LstmGatesForwardArgs<float>&, cudaStream_t);
template void lstm_gates_forward<double>(const LstmGatesForwardArgs<double>&, cudaStream_t);
template void lstm_gates_backward<float>(const LstmGatesBackwardArgs<float>&, cudaStream_t);
template void lstm_gates_backward<double>(const LstmGatesBackwardArgs<double>&, cudaStream_t);

}  // namespace ember::cuda
