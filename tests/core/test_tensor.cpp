// Tensor basics and misuse errors: shapes, dtypes, sharing, conversions.
#include <catch2/catch.hpp>

#include "engine/core/device.h"
#include "engine/core/tensor.h"
#include "engine/core/tensor_ops.h"

using namespace ember;
using Catch::Matchers::Contains;

TEST_CASE("tensor shape, dtype and storage", "[tensor][cpu]") {
  Tensor t = Tensor::zeros({2, 3, 4}, DType::kFloat32);
  CHECK(t.ndim() == 3);
  CHECK(t.numel() == 24);
  CHECK(t.size(-1) == 4);
  CHECK(t.nbytes() == 96);
  CHECK(t.device().is_cpu());
  CHECK(reinterpret_cast<uintptr_t>(t.raw()) % 64 == 0);
  CHECK(t.str() == "float32[2, 3, 4] on cpu");
  CHECK(Shape{}.numel() == 1);
  CHECK(Tensor::zeros({0, 5}, DType::kInt32).numel() == 0);

  Tensor r = t.reshape({6, 4});
  CHECK(r.shares_storage(t));
  r.at<float>(5) = 3.0f;
  CHECK(t.item(5) == 3.0);
  Tensor c = t.clone();
  CHECK_FALSE(c.shares_storage(t));
  c.at<float>(5) = 1.0f;
  CHECK(t.item(5) == 3.0);

  Tensor d = Tensor::from<double>({3}, {1.5, -2.0, 7.25});
  Tensor i = d.to(DType::kInt32);
  CHECK(i.item(1) == -2.0);
  CHECK(d.to(DType::kFloat32).at<float>(2) == 7.25f);
  Tensor u = Tensor::full({4}, DType::kUInt8, 1);
  CHECK(u.item(3) == 1.0);
}

TEST_CASE("tensor misuse names the shapes", "[tensor][cpu]") {
  Tensor t = Tensor::zeros({2, 3}, DType::kFloat32);
  CHECK_THROWS_WITH(t.data<double>(), Contains("float32[2, 3]") && Contains("float64"));
  CHECK_THROWS_WITH(t.reshape({4, 2}), Contains("[2, 3]") && Contains("[4, 2]"));
  CHECK_THROWS_WITH(Shape({1, 2, 3, 4, 5}), Contains("at most 4"));
  CHECK_THROWS_WITH(t.size(2), Contains("[2, 3]"));
  Tensor o = Tensor::zeros({3, 2}, DType::kFloat32);
  CHECK_THROWS_WITH(t.copy_from(o), Contains("[2, 3]") && Contains("[3, 2]"));
  CHECK_THROWS_WITH(check_tensor(t, DType::kInt32, {2, 3}, "ids"),
                    Contains("ids") && Contains("int32[2, 3]") && Contains("float32[2, 3]"));
  CHECK_THROWS_WITH(Tensor().data<float>(), Contains("undefined"));
}

TEST_CASE("CUDA tensors fail clearly without a device", "[tensor][cpu]") {
  if (cuda_device_count() > 0) return;  // this check is about machines with no GPU
  CHECK_THROWS(Tensor::empty({4}, DType::kFloat32, Device::cuda(0)));
  CHECK(resolve_device("cpu").is_cpu());
  CHECK(resolve_device("auto").is_cpu());
  CHECK_THROWS_WITH(resolve_device("cuda"), Contains("--device cuda"));
  CHECK_THROWS_WITH(resolve_device("tpu"), Contains("auto, cpu or cuda"));
}

TEST_CASE("tensor_ops arithmetic", "[tensor][cpu]") {
  Tensor a = Tensor::from<float>({3}, {1, 2, 3});
  Tensor b = Tensor::from<float>({3}, {10, 20, 30});
  add_inplace(a, b);
  CHECK(a.item(2) == 33.0);
  axpy_inplace(a, -0.5, b);
  CHECK(a.item(0) == 6.0);
  scale_inplace(a, 2.0);
  CHECK(a.item(1) == 24.0);
  CHECK(sum_squares(Tensor::from<double>({2}, {3, 4})) == 25.0);
  CHECK(max_abs_diff(a, a) == 0.0);
  CHECK(all_finite(a));
  a.at<float>(1) = std::numeric_limits<float>::infinity();
  CHECK_FALSE(all_finite(a));
}
