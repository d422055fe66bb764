// CBLAS binding for blas.h. OpenBLAS runs single-threaded (engine/core/parallel.cpp sets it);
// a large product is split here into one sequential call per pool thread, over the rows of C
// or its columns, whichever copies less: each part packs its own share of one operand and the
// whole of the other, so splitting M repacks B (K x N) per part and splitting N repacks A.
#include "engine/core/blas.h"

#include <cblas.h>

#include <algorithm>
#include <type_traits>

#include "engine/core/parallel.h"

namespace ember::blas {

namespace {

// Below this a fork/join (a few microseconds) costs more than the second core saves.
constexpr double kParallelFlops = 4e6;
// Parts start on multiples of the kernels' register tile, so a split adds no edge tiles.
constexpr int64_t kTile = 16;

template <class T>
void gemm_one(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const auto op = [](bool t) { return t ? CblasTrans : CblasNoTrans; };
  const auto i = [](int64_t v) { return static_cast<int>(v); };  // CBLAS takes int sizes
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta,
                c, i(ldc));
  else
    cblas_dgemm(CblasRowMajor, op(ta), op(tb), i(m), i(n), i(k), alpha, a, i(lda), b, i(ldb), beta,
                c, i(ldc));
}

}  // namespace

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const int threads = par::in_parallel() ? 1 : par::num_threads();
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n, tiles = (extent + kTile - 1) / kTile;
  const int64_t parts = std::min<int64_t>(threads, tiles);
  if (parts < 2 || 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
                       kParallelFlops) {
    gemm_one(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  par::parallel_for(parts, [&](int64_t p) {
    const par::Range r = par::split(tiles, parts, p);
    const int64_t lo = r.begin * kTile, len = std::min(extent, r.end * kTile) - lo;
    if (by_rows)  // rows lo.. of op(A) and C
      gemm_one(ta, tb, len, n, k, alpha, a + (ta ? lo : lo * lda), lda, b, ldb, beta, c + lo * ldc,
               ldc);
    else  // columns lo.. of op(B) and C
      gemm_one(ta, tb, m, len, k, alpha, a, lda, b + (tb ? lo * ldb : lo), ldb, beta, c + lo, ldc);
  });
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

void set_num_threads(int n) {
  if (n > 0) openblas_set_num_threads(n);
}

}  // namespace ember::blas
