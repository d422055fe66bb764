// CPU reference for kernels/pooling.h: [B,T,C] -> [B,C] running maximum with its step index.
// The t loop is outermost inside a sample so that the reads of x stay contiguous over c; the
// strict '>' keeps the first maximum on ties.
#include "kernels/pooling.h"

namespace ember::ref {

template <class T>
void global_max_pool1d_forward(const T* x, T* y, int32_t* argmax, int64_t batch, int64_t steps,
                               int64_t channels) {
  for (int64_t b = 0; b < batch; ++b) {
    T* yb = y + b * channels;
    int32_t* ab = argmax + b * channels;
    const T* xb = x + b * steps * channels;
    for (int64_t c = 0; c < channels; ++c) {
      yb[c] = xb[c];
      ab[c] = 0;
    }
    for (int64_t t = 1; t < steps; ++t)
      for (int64_t c = 0; c < channels; ++c)
        if (xb[t * channels + c] > yb[c]) {  // strict: ties keep the first maximum
          yb[c] = xb[t * channels + c];
          ab[c] = static_cast<int32_t>(t);
        }
  }
}

template <class T>
void global_max_pool1d_backward(const T* d_y, const int32_t* argmax, T* d_x, int64_t batch,
                                int64_t steps, int64_t channels) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t t = argmax[b * channels + c];
      d_x[(b * steps + t) * channels + c] += d_y[b * channels + c];
    }
}

template void global_max_pool1d_forward<float>(const float*, float*, int32_t*, int64_t, int64_t,
                                               int64_t);
template void global_max_pool1d_forward<double>(const double*, double*, int32_t*, int64_t, int64_t,
                                                int64_t);
template void global_max_pool1d_backward<float>(const float*, const int32_t*, float*, int64_t,
                                                int64_t, int64_t);
template void global_max_pool1d_backward<double>(const double*, const int32_t*, double*, int64_t,
                                                 int64_t, int64_t);

}  // namespace ember::ref
