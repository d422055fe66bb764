// Tensor: a contiguous, row-major array of up to 4 dimensions with a dtype and a device.
// Shapes are written in named dims, rightmost fastest: [B,T,E] means e varies fastest.
// Storage is reference-counted and shared by reshape(); clone() copies. CPU storage is
// 64-byte aligned. CUDA storage plugs in through Storage's deleter (see engine/core/device.h),
// so nothing here needs to change when a device allocator arrives.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>

#include "engine/core/check.h"

namespace ember {

enum class DType : uint8_t { kFloat32, kFloat64, kInt32, kUInt8 };

size_t dtype_size(DType d);
const char* dtype_name(DType d);

template <class T>
constexpr DType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kFloat64;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::kInt32;
  else {
    static_assert(std::is_same_v<T, uint8_t>, "unsupported tensor element type");
    return DType::kUInt8;
  }
}

enum class DeviceType : uint8_t { kCPU, kCUDA };

struct Device {
  DeviceType type = DeviceType::kCPU;
  int index = 0;
  static Device cpu() { return {DeviceType::kCPU, 0}; }
  static Device cuda(int i = 0) { return {DeviceType::kCUDA, i}; }
  bool is_cpu() const { return type == DeviceType::kCPU; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;
};

// Up to 4 dims. Shape{} is a scalar (numel 1).
class Shape {
 public:
  static constexpr int kMaxDims = 4;
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims);
  int ndim() const { return ndim_; }
  int64_t operator[](int i) const;  // negative i counts from the end
  int64_t numel() const;            // throws AllocationError when the product overflows int64
  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }
  std::string str() const;  // "[64, 370, 128]"

 private:
  std::array<int64_t, kMaxDims> d_{};
  int ndim_ = 0;
};

// Raw bytes on one device. The deleter owns the allocation policy (aligned free, cudaFree,
// a caching allocator's release); Storage never allocates by itself.
struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  Device device;
  void (*deleter)(void* ptr, size_t bytes, Device dev) = nullptr;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();
};

// Host tensors larger than this are refused before allocating, with an AllocationError that
// gives the shape and size: under Linux's overcommit a huge allocation "succeeds" and the
// process is killed when it touches the pages. The default is half the machine's physical
// memory, or EMBER_MAX_TENSOR_MB when set; the fuzz targets lower it.
size_t host_tensor_limit();
void set_host_tensor_limit(size_t bytes);
// "512 B", "2.0 MiB", "476.8 GiB".
std::string format_bytes(double bytes);

// An allocation refused (over the limit, or the allocator gave up); what() names the tensor's
// dtype, shape and size. Callers that know what the tensor is for add that in front.
class AllocationError : public Error {
 public:
  using Error::Error;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  static Tensor empty(const Shape& s, DType dt, Device dev = Device::cpu());
  static Tensor zeros(const Shape& s, DType dt, Device dev = Device::cpu());
  static Tensor full(const Shape& s, DType dt, double value);  // CPU
  template <class T>
  static Tensor from(const Shape& s, std::initializer_list<T> v);  // CPU, for tests

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return shape_.ndim(); }
  int64_t size(int d) const { return shape_[d]; }
  int64_t numel() const { return shape_.numel(); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device::cpu(); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  std::string str() const;  // "float32[64, 370] on cpu"

  void* raw() const { return storage_ ? storage_->ptr : nullptr; }
  // Typed access; throws if T does not match the dtype.
  template <class T>
  T* data() const {
    EMBER_CHECK_ARG(defined(), "data() on an undefined tensor");
    EMBER_CHECK_ARG(dtype_ == dtype_of<T>(),
                    "tensor is " << str() << ", accessed as " << dtype_name(dtype_of<T>()));
    return static_cast<T*>(storage_->ptr);
  }
  template <class T>
  T& at(int64_t flat) const {
    return data<T>()[flat];
  }
  // Element as double, any dtype, CPU only. For tests and printing.
  double item(int64_t flat = 0) const;

  Tensor reshape(const Shape& s) const;  // shares storage; numel must match
  Tensor clone() const;                  // deep copy, same device
  Tensor to(DType dt) const;             // CPU dtype conversion (copy)
  Tensor to(Device dev) const;           // copy to another device (itself if already there)
  void zero_();
  void copy_from(const Tensor& src);  // same shape, dtype and device
  bool shares_storage(const Tensor& o) const { return storage_ == o.storage_; }

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  DType dtype_ = DType::kFloat32;
};

// Throws std::invalid_argument unless t has this dtype and shape; `what` names the argument.
void check_tensor(const Tensor& t, DType dt, const Shape& s, const char* what);
void check_same_shape(const Tensor& a, const Tensor& b, const char* what);

template <class T>
Tensor Tensor::from(const Shape& s, std::initializer_list<T> v) {
  Tensor t = empty(s, dtype_of<T>());
  EMBER_CHECK_ARG(static_cast<int64_t>(v.size()) == t.numel(),
                  "Tensor::from: " << v.size() << " values for shape " << s.str());
  std::memcpy(t.raw(), v.begin(), v.size() * sizeof(T));
  return t;
}

// Calls f with a null pointer of the float type of dt: EMBER_FLOAT_DISPATCH-style without macros.
// Usage: dispatch_float(t.dtype(), "op", [&](auto tag) { using T = decltype(tag); ... });
template <class F>
decltype(auto) dispatch_float(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::kFloat32:
      return f(float{});
    case DType::kFloat64:
      return f(double{});
    default:
      break;
  }
  EMBER_CHECK_ARG(false, op << ": expected float32 or float64, got " << dtype_name(dt));
  return f(float{});  // unreachable
}

}  // namespace ember
