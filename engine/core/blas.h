// Row-major GEMM over CBLAS (OpenBLAS; large products split over the pool of parallel.h): C = alpha
// * op(A) op(B) + beta * C, with op(A) [M,K], op(B) [K,N], C [M,N]. lda/ldb/ldc are row strides in
// elements. Every CPU matrix product in Ember goes through here, so the BLAS is swapped in one
// place.
#pragma once

#include <cstdint>

namespace ember::blas {

template <class T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Threads OpenBLAS itself may use (n > 0). parallel.cpp keeps it at 1; use
// par::set_num_threads for the CPU path's thread count.
void set_num_threads(int n);

}  // namespace ember::blas
