// cuBLAS on OpenBLAS (see emu/include/cublas_v2.h). GEMMs run on the calling thread when
// issued, column-major through cblas_?gemm, after cuBLAS's own argument checks (which return
// CUBLAS_STATUS_INVALID_VALUE) and a check that every matrix lies inside a live device
// allocation: a host pointer or an overrun is reported as the illegal address it would be on a
// GPU (sticky cudaErrorIllegalAddress, CUBLAS_STATUS_EXECUTION_FAILED). As cuBLAS, beta == 0
// overwrites C without reading it, so NaNs in an uninitialised C do not propagate.
#include <cblas.h>
#include <cublas_v2.h>

#include <set>
#include <string>

#include "state.h"
#include "stream_queue.h"

struct cublasContext {
  cudaStream_t stream;
  cublasMath_t math;
  cublasPointerMode_t pointer_mode;
  void* workspace;
  size_t workspace_bytes;
};

using namespace emu::detail;

namespace {

using Lock = std::lock_guard<std::recursive_mutex>;

std::set<cublasContext*>& live() {
  static auto* s = new std::set<cublasContext*>;
  return *s;
}

bool valid(cublasHandle_t h) {
  return h && live().count(h) > 0;
}

bool valid_op(cublasOperation_t op) {
  return op == CUBLAS_OP_N || op == CUBLAS_OP_T || op == CUBLAS_OP_C;
}

// The bytes a column-major rows x cols matrix with leading dimension ld spans.
size_t span(int rows, int cols, int ld, size_t elem) {
  if (rows == 0 || cols == 0) return 0;
  return (static_cast<size_t>(cols - 1) * static_cast<size_t>(ld) + static_cast<size_t>(rows)) *
         elem;
}

template <class T>
cublasStatus_t gemm(const char* call, cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                    int m, int n, int k, const T* alpha, const T* a, int lda, const T* b, int ldb,
                    const T* beta, T* c, int ldc) {
  Lock lock(device_mutex());
  if (!valid(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  const int a_rows = ta == CUBLAS_OP_N ? m : k, a_cols = ta == CUBLAS_OP_N ? k : m;
  const int b_rows = tb == CUBLAS_OP_N ? k : n, b_cols = tb == CUBLAS_OP_N ? n : k;
  auto at_least = [](int ld, int rows) { return ld >= (rows > 1 ? rows : 1); };
  if (!valid_op(ta) || !valid_op(tb) || m < 0 || n < 0 || k < 0 || !at_least(lda, a_rows) ||
      !at_least(ldb, b_rows) || !at_least(ldc, m) || !alpha || !beta) {
    diag(std::string(call) + ": invalid argument (m=" + std::to_string(m) +
         " n=" + std::to_string(n) + " k=" + std::to_string(k) + " lda=" + std::to_string(lda) +
         " ldb=" + std::to_string(ldb) + " ldc=" + std::to_string(ldc) + ")");
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  if (sticky_error() != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
  if (!valid_stream(h->stream)) {
    diag(std::string(call) + ": the handle's stream " + hex(h->stream) + " is not live");
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  struct Operand {
    const char* name;
    const void* p;
    size_t bytes;
  } ops[] = {{"A", a, k > 0 ? span(a_rows, a_cols, lda, sizeof(T)) : 0},
             {"B", b, k > 0 ? span(b_rows, b_cols, ldb, sizeof(T)) : 0},
             {"C", c, span(m, n, ldc, sizeof(T))}};
  for (const Operand& o : ops) {
    std::string why;
    if (o.bytes > 0 && !device_range(o.p, o.bytes, &why)) {
      set_sticky(cudaErrorIllegalAddress, std::string("emu: ") + call + ": matrix " + o.name +
                                              " should be device memory, but " + why);
      return CUBLAS_STATUS_EXECUTION_FAILED;
    }
  }
  const T al = *alpha, be = *beta;  // host scalars are read when the call is made
  const CBLAS_TRANSPOSE cta = ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
  const CBLAS_TRANSPOSE ctb = tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
  issue(h->stream, [=] {
    if (be == T(0) || k == 0 || al == T(0)) {
      // C = beta * C first (beta == 0: C is overwritten, never read).
      for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
          T& v = c[static_cast<size_t>(j) * ldc + i];
          v = be == T(0) ? T(0) : be * v;
        }
      if (k == 0 || al == T(0)) return;
    }
    if constexpr (sizeof(T) == sizeof(float))
      cblas_sgemm(CblasColMajor, cta, ctb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
    else
      cblas_dgemm(CblasColMajor, cta, ctb, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  });
  return CUBLAS_STATUS_SUCCESS;
}

}  // namespace

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  Lock lock(device_mutex());
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  if (sticky_error() != cudaSuccess) return CUBLAS_STATUS_NOT_INITIALIZED;
  auto* h = new cublasContext{nullptr, CUBLAS_DEFAULT_MATH, CUBLAS_POINTER_MODE_HOST, nullptr, 0};
  live().insert(h);
  *handle = h;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  live().erase(handle);
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->stream = stream;
  // As cuBLAS: binding a stream drops a user workspace.
  handle->workspace = nullptr;
  handle->workspace_bytes = 0;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != CUBLAS_POINTER_MODE_HOST && mode != CUBLAS_POINTER_MODE_DEVICE)
    return CUBLAS_STATUS_INVALID_VALUE;
  handle->pointer_mode = mode;  // both read the same memory here
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetPointerMode(cublasHandle_t handle, cublasPointerMode_t* mode) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = handle->pointer_mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetWorkspace(cublasHandle_t handle, void* workspace, size_t bytes) {
  Lock lock(device_mutex());
  if (!valid(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  std::string why;
  if (bytes > 0 && !device_range(workspace, bytes, &why)) {
    diag("cublasSetWorkspace: the workspace should be device memory, but " + why);
    return CUBLAS_STATUS_INVALID_VALUE;
  }
  handle->workspace = workspace;
  handle->workspace_bytes = bytes;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

const char* cublasGetStatusString(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid numeric value was used as an argument";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "an absent device architectural feature is required";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "an access to GPU memory space failed";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "an internal operation failed";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "the functionality requested is not supported";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "licensing error";
  }
  return "unknown error";
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const float* alpha,
                           const float* a, int lda, const float* b, int ldb, const float* beta,
                           float* c, int ldc) {
  return gemm("cublasSgemm", handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

cublasStatus_t cublasDgemm(cublasHandle_t handle, cublasOperation_t transa,
                           cublasOperation_t transb, int m, int n, int k, const double* alpha,
                           const double* a, int lda, const double* b, int ldb, const double* beta,
                           double* c, int ldc) {
  return gemm("cublasDgemm", handle, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
