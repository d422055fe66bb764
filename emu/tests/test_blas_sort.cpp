// cuBLAS GEMM on OpenBLAS against a naive loop (every transpose pair, odd sizes, leading
// dimensions above the minimum, beta = 0 over NaN), cuBLAS's argument checks, and the
// DeviceRadixSort stand-in against std::stable_sort (pairs and keys, signed keys, bit ranges,
// temp-storage protocol).
#include <catch2/catch.hpp>

#include <cublas_v2.h>
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "emu_test_util.h"

using emu_test::DeviceBuffer;

namespace {

// C = alpha op(A) op(B) + beta C, column-major, in double.
template <class T>
std::vector<T> naive_gemm(bool ta, bool tb, int m, int n, int k, T alpha, const std::vector<T>& a,
                          int lda, const std::vector<T>& b, int ldb, T beta, std::vector<T> c,
                          int ldc) {
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int p = 0; p < k; ++p) {
        const double av = ta ? a[i * lda + p] : a[p * lda + i];
        const double bv = tb ? b[p * ldb + j] : b[j * ldb + p];
        s += av * bv;
      }
      T& cv = c[j * ldc + i];
      cv = static_cast<T>(alpha * s + (beta == T(0) ? 0.0 : beta * static_cast<double>(cv)));
    }
  return c;
}

template <class T>
void check_gemm(cublasHandle_t h, bool ta, bool tb, T beta) {
  const int m = 7, n = 5, k = 11;
  const int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<T> a(lda * (ta ? m : k)), b(ldb * (tb ? k : n)), c(ldc * n);
  for (T& v : a) v = static_cast<T>(u(rng));
  for (T& v : b) v = static_cast<T>(u(rng));
  for (T& v : c) v = beta == T(0) ? std::numeric_limits<T>::quiet_NaN() : static_cast<T>(u(rng));
  const T alpha = static_cast<T>(1.5);
  const std::vector<T> want = naive_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  DeviceBuffer<T> da(a), db(b), dc(c);
  const cublasOperation_t oa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, ob = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  cublasStatus_t s;
  if constexpr (sizeof(T) == 4)
    s = cublasSgemm(h, oa, ob, m, n, k, &alpha, da.get(), lda, db.get(), ldb, &beta, dc.get(), ldc);
  else
    s = cublasDgemm(h, oa, ob, m, n, k, &alpha, da.get(), lda, db.get(), ldb, &beta, dc.get(), ldc);
  REQUIRE(s == CUBLAS_STATUS_SUCCESS);
  const std::vector<T> got = dc.download();
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < ldc; ++i) {
      const T g = got[j * ldc + i], w = want[j * ldc + i];
      if (i >= m) {  // rows past m are not C's: untouched
        CHECK((std::isnan(g) ? std::isnan(w) : g == w));
        continue;
      }
      CHECK(std::abs(static_cast<double>(g) - static_cast<double>(w)) <= tol * (1 + std::abs(w)));
    }
}

}  // namespace

TEST_CASE("cublasSgemm and cublasDgemm match a naive product", "[cublas]") {
  cublasHandle_t h = nullptr;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH) == CUBLAS_STATUS_SUCCESS);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      CAPTURE(ta, tb);
      check_gemm<float>(h, ta, tb, 0.0f);
      check_gemm<float>(h, ta, tb, 0.75f);
      check_gemm<double>(h, ta, tb, 0.0);
      check_gemm<double>(h, ta, tb, -0.5);
    }
  REQUIRE(cublasDestroy(h) == CUBLAS_STATUS_SUCCESS);
}

TEST_CASE("cuBLAS argument checks", "[cublas]") {
  cublasHandle_t h = nullptr;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  cudaStream_t s = nullptr, got = reinterpret_cast<cudaStream_t>(1);
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  REQUIRE(cublasSetStream(h, s) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasGetStream(h, &got) == CUBLAS_STATUS_SUCCESS);
  CHECK(got == s);
  DeviceBuffer<float> a(64), b(64), c(64);
  const float one = 1, zero = 0;
  // lda below m for op N.
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, a.get(), 3, b.get(), 4, &zero,
                    c.get(), 4) == CUBLAS_STATUS_INVALID_VALUE);
  // ldb below n for op T.
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, 4, 5, 4, &one, a.get(), 4, b.get(), 4, &zero,
                    c.get(), 4) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, -1, 4, 4, &one, a.get(), 4, b.get(), 4, &zero,
                    c.get(), 4) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, nullptr, a.get(), 4, b.get(), 4, &zero,
                    c.get(), 4) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(nullptr, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, a.get(), 4, b.get(), 4, &zero,
                    c.get(), 4) == CUBLAS_STATUS_NOT_INITIALIZED);
  // Empty products are fine.
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 0, 4, 4, &one, a.get(), 1, b.get(), 4, &zero,
                    c.get(), 1) == CUBLAS_STATUS_SUCCESS);
  CHECK(cudaGetLastError() == cudaSuccess);
  {
    // A host matrix is an illegal address on the device: a sticky error.
    emu_test::ResetAfter reset;
    std::vector<float> host(64, 1.0f);
    CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 4, 4, 4, &one, host.data(), 4, b.get(), 4, &zero,
                      c.get(), 4) == CUBLAS_STATUS_EXECUTION_FAILED);
    CHECK(cudaDeviceSynchronize() == cudaErrorIllegalAddress);
    CHECK(emu_test::fault_mentions({"cublasSgemm", "matrix A", "not inside any live"}));
  }
  CHECK(cudaStreamDestroy(s) == cudaSuccess);
  REQUIRE(cublasDestroy(h) == CUBLAS_STATUS_SUCCESS);
  CHECK(cublasDestroy(h) == CUBLAS_STATUS_NOT_INITIALIZED);
  CHECK(std::string(cublasGetStatusName(CUBLAS_STATUS_INVALID_VALUE)) ==
        "CUBLAS_STATUS_INVALID_VALUE");
}

TEST_CASE("DeviceRadixSort::SortPairs is a stable sort on the bit range", "[sort]") {
  std::mt19937 rng(7);
  for (int n : {0, 1, 17, 1000, 4099}) {
    for (int end_bit : {1, 5, 12, 32}) {
      CAPTURE(n, end_bit);
      std::vector<uint32_t> keys(n);
      std::vector<int32_t> vals(n);
      for (int i = 0; i < n; ++i) {
        keys[i] = static_cast<uint32_t>(rng());
        vals[i] = i;
      }
      DeviceBuffer<uint32_t> kin(keys), kout(std::max(n, 1));
      DeviceBuffer<int32_t> vin(vals), vout(std::max(n, 1));
      size_t temp_bytes = 0, null_query = 0;
      REQUIRE(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, kin.get(), kout.get(), vin.get(),
                                              vout.get(), n, 0, end_bit) == cudaSuccess);
      // cub's size query ignores the pointers: callers may pass nulls (kernels/embedding.cu does).
      REQUIRE(cub::DeviceRadixSort::SortPairs(
                  nullptr, null_query, static_cast<const uint32_t*>(nullptr),
                  static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                  static_cast<int32_t*>(nullptr), n, 0, end_bit) == cudaSuccess);
      CHECK(null_query == temp_bytes);
      DeviceBuffer<char> temp(temp_bytes);
      REQUIRE(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, kin.get(), kout.get(),
                                              vin.get(), vout.get(), n, 0, end_bit) == cudaSuccess);
      const uint32_t mask = end_bit == 32 ? 0xffffffffu : (1u << end_bit) - 1;
      std::vector<int32_t> order(n);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int x, int y) { return (keys[x] & mask) < (keys[y] & mask); });
      if (n == 0) continue;
      const std::vector<uint32_t> gk = kout.download();
      const std::vector<int32_t> gv = vout.download();
      for (int i = 0; i < n; ++i) {
        CHECK(gv[i] == order[i]);
        CHECK(gk[i] == keys[order[i]]);  // whole keys move, not only their sorted bits
      }
    }
  }
}

TEST_CASE("DeviceRadixSort: signed keys, SortKeys and the temp-storage protocol", "[sort]") {
  const std::vector<int> keys = {5, -3, 0, -3, 2147483647, -2147483647 - 1, 7, -1};
  const int n = static_cast<int>(keys.size());
  DeviceBuffer<int> kin(keys), kout(n);
  size_t temp_bytes = 0;
  REQUIRE(cub::DeviceRadixSort::SortKeys(nullptr, temp_bytes, kin.get(), kout.get(), n) ==
          cudaSuccess);
  REQUIRE(temp_bytes > 0);
  DeviceBuffer<char> temp(temp_bytes);
  REQUIRE(cub::DeviceRadixSort::SortKeys(temp.get(), temp_bytes, kin.get(), kout.get(), n) ==
          cudaSuccess);
  std::vector<int> want = keys;
  std::sort(want.begin(), want.end());
  CHECK(kout.download() == want);
  size_t small = temp_bytes - 1;
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), small, kin.get(), kout.get(), n) ==
        cudaErrorInvalidValue);
  std::vector<int> host_keys = keys;
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), temp_bytes, host_keys.data(), kout.get(), n) ==
        cudaErrorInvalidValue);
  CHECK(cub::DeviceRadixSort::SortKeys(temp.get(), temp_bytes, kin.get(), kin.get(), n) ==
        cudaErrorInvalidValue);  // in place is not allowed
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
}
