// CBLAS binding for blas.h.
#include "engine/core/blas.h"

#include <cblas.h>

#include <type_traits>

namespace ember::blas {

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const auto op = [](bool t) { return t ? CblasTrans : CblasNoTrans; };
  const auto i = [](int64_t v) { return static_cast<int>(v); };  // CBLAS takes int sizes
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta,
                c, i(ldc));
  else
    cblas_dgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta,
                c, i(ldc));
}
template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

void set_num_threads(int n) {
  if (n > 0) openblas_set_num_threads(n);
}

}  // namespace ember::blas
