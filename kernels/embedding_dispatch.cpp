// See embedding_dispatch.h: each entry point forwards to ref:: or cuda:: through EMBER_BACKEND.
#include "kernels/embedding_dispatch.h"

namespace ember::kern {

void nonzero_mask(const Exec& ex, const int32_t* ids, uint8_t* mask, int64_t n) {
  EMBER_BACKEND(ex, ref::nonzero_mask(ids, mask, n), cuda::nonzero_mask(ids, mask, n, ex.stream));
}

template <class T>
void embedding_forward(const Exec& ex, const T* weight, const int32_t* ids, T* out, int64_t batch,
                       int64_t steps, int64_t vocab, int64_t dim) {
  EMBER_BACKEND(ex, ref::embedding_forward<T>(weight, ids, out, batch, steps, vocab, dim),
                cuda::embedding_forward<T>(weight, ids, out, batch, steps, vocab, dim, ex.stream));
}

size_t embedding_backward_workspace_bytes(const Exec& ex, int64_t batch, int64_t steps,
                                          int64_t vocab, int64_t dim) {
  size_t bytes = 0;
  EMBER_BACKEND(ex, (void)batch,
                bytes = cuda::embedding_backward_workspace_bytes(batch, steps, vocab, dim));
  (void)steps;
  (void)vocab;
  (void)dim;
  return bytes;
}

template <class T>
void embedding_backward(const Exec& ex, const T* d_out, const int32_t* ids, T* d_weight,
                        int64_t batch, int64_t steps, int64_t vocab, int64_t dim, void* workspace,
                        size_t workspace_bytes) {
  EMBER_BACKEND(ex, ref::embedding_backward<T>(d_out, ids, d_weight, batch, steps, vocab, dim),
                cuda::embedding_backward<T>(d_out, ids, d_weight, batch, steps, vocab, dim,
                                            workspace, workspace_bytes, ex.stream));
  (void)workspace;
  (void)workspace_bytes;
}

#define EMBER_INSTANTIATE(T)                                                                       \
  template void embedding_forward<T>(const Exec&, const T*, const int32_t*, T*, int64_t, int64_t,  \
                                     int64_t, int64_t);                                            \
  template void embedding_backward<T>(const Exec&, const T*, const int32_t*, T*, int64_t, int64_t, \
                                      int64_t, int64_t, void*, size_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember::kern
