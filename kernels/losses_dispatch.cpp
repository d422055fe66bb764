// See losses_dispatch.h: each entry point forwards to ref:: or cuda:: through EMBER_BACKEND;
// the CPU side drops the arguments only the device reduction needs.
#include "kernels/losses_dispatch.h"

namespace ember::kern {

size_t loss_workspace_bytes(const Exec& ex) {
  size_t bytes = 0;
  EMBER_BACKEND(ex, (void)0, bytes = cuda::loss_workspace_bytes());
  return bytes;
}

template <class T>
void binary_crossentropy_forward(const Exec& ex, const T* pred, const T* y, const T* sample_weight,
                                 const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                 T* loss, double* denom, void* ws, size_t ws_bytes) {
  EMBER_BACKEND(
      ex,
      ref::binary_crossentropy_forward<T>(pred, y, sample_weight, mask, B, steps, from_logits,
                                          loss),
      cuda::binary_crossentropy_forward<T>(pred, y, sample_weight, mask, B, steps, from_logits,
                                           loss, denom, ws, ws_bytes, ex.stream));
  (void)denom;
  (void)ws;
  (void)ws_bytes;
}

template <class T>
void binary_crossentropy_backward(const Exec& ex, const T* pred, const T* y, const T* sample_weight,
                                  const uint8_t* mask, int64_t B, int64_t steps, bool from_logits,
                                  const T* d_loss, const double* denom, T* d_pred) {
  EMBER_BACKEND(
      ex,
      ref::binary_crossentropy_backward<T>(pred, y, sample_weight, mask, B, steps, from_logits,
                                           static_cast<double>(*d_loss), d_pred),
      cuda::binary_crossentropy_backward<T>(pred, y, sample_weight, mask, B, steps, from_logits,
                                            d_loss, denom, d_pred, ex.stream));
  (void)denom;
}

template <class T>
void sparse_categorical_crossentropy_forward(const Exec& ex, const T* pred, const int32_t* y,
                                             const T* sample_weight, const uint8_t* mask, int64_t B,
                                             int64_t steps, int64_t K, bool from_logits, T* loss,
                                             double* denom, void* ws, size_t ws_bytes) {
  EMBER_BACKEND(ex,
                ref::sparse_categorical_crossentropy_forward<T>(pred, y, sample_weight, mask, B,
                                                                steps, K, from_logits, loss),
                cuda::sparse_categorical_crossentropy_forward<T>(pred, y, sample_weight, mask, B,
                                                                 steps, K, from_logits, loss, denom,
                                                                 ws, ws_bytes, ex.stream));
  (void)denom;
  (void)ws;
  (void)ws_bytes;
}

template <class T>
void sparse_categorical_crossentropy_backward(const Exec& ex, const T* pred, const int32_t* y,
                                              const T* sample_weight, const uint8_t* mask,
                                              int64_t B, int64_t steps, int64_t K, bool from_logits,
                                              const T* d_loss, const double* denom, T* d_pred) {
  EMBER_BACKEND(ex,
                ref::sparse_categorical_crossentropy_backward<T>(
                    pred, y, sample_weight, mask, B, steps, K, from_logits,
                    static_cast<double>(*d_loss), d_pred),
                cuda::sparse_categorical_crossentropy_backward<T>(pred, y, sample_weight, mask, B,
                                                                  steps, K, from_logits, d_loss,
                                                                  denom, d_pred, ex.stream));
  (void)denom;
}

template <class T>
void binary_accuracy_counts(const Exec& ex, const T* pred, const T* y, const uint8_t* mask,
                            int64_t B, int64_t steps, bool from_logits, double* counts, void* ws,
                            size_t ws_bytes) {
  EMBER_BACKEND(
      ex,
      ref::binary_accuracy_counts<T>(pred, y, mask, B, steps, from_logits, &counts[0], &counts[1]),
      cuda::binary_accuracy_counts<T>(pred, y, mask, B, steps, from_logits, counts, ws, ws_bytes,
                                      ex.stream));
  (void)ws;
  (void)ws_bytes;
}

template <class T>
void sparse_accuracy_counts(const Exec& ex, const T* pred, const int32_t* y, const uint8_t* mask,
                            int64_t B, int64_t steps, int64_t K, double* counts, void* ws,
                            size_t ws_bytes) {
  EMBER_BACKEND(
      ex, ref::sparse_accuracy_counts<T>(pred, y, mask, B, steps, K, &counts[0], &counts[1]),
      cuda::sparse_accuracy_counts<T>(pred, y, mask, B, steps, K, counts, ws, ws_bytes, ex.stream));
  (void)ws;
  (void)ws_bytes;
}

#define EMBER_INSTANTIATE(T)                                                                      \
  template void binary_crossentropy_forward<T>(const Exec&, const T*, const T*, const T*,         \
                                               const uint8_t*, int64_t, int64_t, bool, T*,        \
                                               double*, void*, size_t);                           \
  template void binary_crossentropy_backward<T>(const Exec&, const T*, const T*, const T*,        \
                                                const uint8_t*, int64_t, int64_t, bool, const T*, \
                                                const double*, T*);                               \
  template void sparse_categorical_crossentropy_forward<T>(                                       \
      const Exec&, const T*, const int32_t*, const T*, const uint8_t*, int64_t, int64_t, int64_t, \
      bool, T*, double*, void*, size_t);                                                          \
  template void sparse_categorical_crossentropy_backward<T>(                                      \
      const Exec&, const T*, const int32_t*, const T*, const uint8_t*, int64_t, int64_t, int64_t, \
      bool, const T*, const double*, T*);                                                         \
  template void binary_accuracy_counts<T>(const Exec&, const T*, const T*, const uint8_t*,        \
                                          int64_t, int64_t, bool, double*, void*, size_t);        \
  template void sparse_accuracy_counts<T>(const Exec&, const T*, const int32_t*, const uint8_t*,  \
                                          int64_t, int64_t, int64_t, double*, void*, size_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
