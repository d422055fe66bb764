// The device runtime: caching allocator reuse and statistics, the out-of-memory message, the
// context's handles and stream join (under the CUDA emulator, its refusal of a cuDNN handle),
// and CUDA tensors round-tripping through the host.
#include <catch2/catch.hpp>

#include "engine/core/tensor.h"
#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "engine/cuda/tensor_ops.h"

using namespace ember;
using Catch::Matchers::Contains;

TEST_CASE("caching allocator reuses freed blocks", "[gpu][runtime]") {
  cuda::CachingAllocator a(0);
  void* p = a.allocate(1000);
  a.release(p);
  auto before = a.stats();
  void* q = a.allocate(900);  // same 1024-byte class
  CHECK(q == p);
  CHECK(a.stats().cache_hits == before.cache_hits + 1);
  CHECK(a.stats().device_mallocs == before.device_mallocs);
  void* big = a.allocate(size_t{5} << 20);
  CHECK(a.stats().in_use >= (size_t{5} << 20));
  a.release(big);
  a.release(q);
  CHECK(a.stats().in_use == 0);
  a.empty_cache();
  CHECK(a.stats().cached == 0);
  CHECK(cuda::CachingAllocator::round_size(1) == 512);
  CHECK(cuda::CachingAllocator::round_size((size_t{1} << 20) + 1) == (size_t{2} << 20));
}

TEST_CASE("out of memory names the bytes asked for and free", "[gpu][runtime]") {
  cuda::CachingAllocator a(0);
  CHECK_THROWS_WITH(a.allocate(size_t{1} << 50), Contains("out of memory") &&
                                                     Contains("asked for 1125899906842624 bytes") &&
                                                     Contains("free"));
}

TEST_CASE("context handles, streams and CUDA tensors", "[gpu][runtime]") {
  cuda::Context& ctx = cuda::Context::get(0);
  CHECK(&ctx == &cuda::Context::get(0));
  CHECK(ctx.cublas() != nullptr);
#ifdef EMBER_CUDA_EMU
  // No cuDNN under the emulator: asking for its handle is an error that says so.
  CHECK_THROWS_WITH(ctx.cudnn(), Contains("cuDNN") && Contains("CUDA emulator"));
#else
  CHECK(ctx.cudnn() != nullptr);
#endif
  CHECK(ctx.stream() != ctx.side_stream());
  ctx.join(ctx.stream(), ctx.side_stream());
  Tensor h = Tensor::from<float>({5}, {1, 2, 3, 4, 5});
  Tensor d = Tensor::empty({5}, DType::kFloat32, Device::cuda(0));
  d.copy_from(h);
  Tensor z = Tensor::zeros({5}, DType::kFloat32, Device::cuda(0));
  Tensor back = Tensor::empty({5}, DType::kFloat32);
  back.copy_from(d);
  CHECK(back.item(4) == 5.0);
  back.copy_from(z);
  CHECK(back.item(2) == 0.0);
  CHECK(cudaStreamSynchronize(ctx.stream()) == cudaSuccess);
}

// Regression (found on the CUDA emulator): a failed runtime call that EMBER_CUDA_CHECK turned
// into an exception left its error pending, so the next launch check (cudaGetLastError) blamed
// an unrelated kernel, e.g. "kernel launch of embedding_forward_kernel failed" after a failed
// sort. A non-sticky error belongs to the call that made it.
TEST_CASE("a failed runtime call is not blamed on the next kernel launch", "[gpu][runtime]") {
  cuda::Context& ctx = cuda::Context::get(0);
  auto bad_call = [] { EMBER_CUDA_CHECK(cudaSetDevice(12345)); };
  CHECK_THROWS_WITH(bad_call(),
                    Contains("cudaSetDevice(12345)") && Contains("cudaErrorInvalidDevice"));
  Tensor d = Tensor::zeros({7}, DType::kFloat32, Device::cuda(0));
  CHECK_NOTHROW(cuda::scale(d.data<float>(), 2.0f, 7, ctx.stream()));
  CHECK(cudaStreamSynchronize(ctx.stream()) == cudaSuccess);
  CHECK(cudaGetLastError() == cudaSuccess);
}
