// Tensor, Shape and Storage. Allocation goes through engine/core/device.h so that CUDA storage
// needs no change here.
#include "engine/core/tensor.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <sstream>

#include "engine/core/device.h"

namespace ember {

size_t dtype_size(DType d) {
  switch (d) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat64:
      return 8;
    case DType::kInt32:
      return 4;
    case DType::kUInt8:
      return 1;
  }
  return 0;
}

const char* dtype_name(DType d) {
  switch (d) {
    case DType::kFloat32:
      return "float32";
    case DType::kFloat64:
      return "float64";
    case DType::kInt32:
      return "int32";
    case DType::kUInt8:
      return "uint8";
  }
  return "?";
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

Shape::Shape(std::initializer_list<int64_t> dims) {
  EMBER_CHECK_ARG(dims.size() <= kMaxDims,
                  "Shape: " << dims.size() << " dims, at most " << kMaxDims << " are supported");
  for (int64_t v : dims) {
    EMBER_CHECK_ARG(v >= 0, "Shape: negative dimension " << v);
    d_[ndim_++] = v;
  }
}

int64_t Shape::operator[](int i) const {
  int j = i < 0 ? i + ndim_ : i;
  EMBER_CHECK_ARG(j >= 0 && j < ndim_, "Shape" << str() << ": no dimension " << i);
  return d_[j];
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < ndim_; ++i)
    if (__builtin_mul_overflow(n, d_[i], &n))
      throw AllocationError("shape " + str() + " has more elements than 64 bits can count");
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::ostringstream s;
  s << '[';
  for (int i = 0; i < ndim_; ++i) s << (i ? ", " : "") << d_[i];
  s << ']';
  return s.str();
}

Storage::~Storage() {
  if (ptr && deleter) deleter(ptr, bytes, device);
}

namespace {
size_t default_host_limit() {
  if (const char* mb = std::getenv("EMBER_MAX_TENSOR_MB")) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(mb, &end, 10);
    if (end != mb && *end == '\0' && v > 0) return static_cast<size_t>(v) << 20;
  }
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return SIZE_MAX;
  return static_cast<size_t>(pages) / 2 * static_cast<size_t>(page);
}

std::atomic<size_t>& host_limit() {
  static std::atomic<size_t> limit{default_host_limit()};
  return limit;
}
}  // namespace

size_t host_tensor_limit() {
  return host_limit().load();
}
void set_host_tensor_limit(size_t bytes) {
  host_limit().store(bytes);
}

std::string format_bytes(double b) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (b >= 1024 && u < 6) b /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

Tensor Tensor::empty(const Shape& s, DType dt, Device dev) {
  Tensor t;
  t.shape_ = s;
  t.dtype_ = dt;
  const int64_t n = s.numel();
  size_t bytes = 0;
  const std::string what = std::string(dtype_name(dt)) + s.str();
  if (__builtin_mul_overflow(static_cast<size_t>(n), dtype_size(dt), &bytes))
    throw AllocationError("cannot allocate " + what + ": its size overflows 64 bits");
  if (dev.is_cpu()) {
    const size_t limit = host_tensor_limit();
    if (bytes > limit)
      throw AllocationError("cannot allocate " + format_bytes(double(bytes)) + " for " + what +
                            ": more than the limit of " + format_bytes(double(limit)) +
                            " per tensor (half the machine's memory, or EMBER_MAX_TENSOR_MB)");
  }
  try {
    t.storage_ = allocate_storage(bytes, dev);
  } catch (const std::bad_alloc&) {
    throw AllocationError("cannot allocate " + format_bytes(double(bytes)) + " for " + what +
                          " on " + dev.str() + ": out of memory");
  }
  return t;
}

Tensor Tensor::zeros(const Shape& s, DType dt, Device dev) {
  Tensor t = empty(s, dt, dev);
  t.zero_();
  return t;
}

Tensor Tensor::full(const Shape& s, DType dt, double value) {
  Tensor t = empty(s, dt);
  int64_t n = t.numel();
  switch (dt) {
    case DType::kFloat32:
      std::fill_n(t.data<float>(), n, static_cast<float>(value));
      break;
    case DType::kFloat64:
      std::fill_n(t.data<double>(), n, value);
      break;
    case DType::kInt32:
      std::fill_n(t.data<int32_t>(), n, static_cast<int32_t>(value));
      break;
    case DType::kUInt8:
      std::fill_n(t.data<uint8_t>(), n, static_cast<uint8_t>(value));
      break;
  }
  return t;
}

std::string Tensor::str() const {
  if (!defined()) return "undefined tensor";
  return std::string(dtype_name(dtype_)) + shape_.str() + " on " + device().str();
}

double Tensor::item(int64_t flat) const {
  EMBER_CHECK_ARG(defined() && device().is_cpu(), "item() needs a CPU tensor, got " << str());
  EMBER_CHECK_ARG(flat >= 0 && flat < numel(), "item(" << flat << ") out of range for " << str());
  switch (dtype_) {
    case DType::kFloat32:
      return static_cast<const float*>(raw())[flat];
    case DType::kFloat64:
      return static_cast<const double*>(raw())[flat];
    case DType::kInt32:
      return static_cast<const int32_t*>(raw())[flat];
    case DType::kUInt8:
      return static_cast<const uint8_t*>(raw())[flat];
  }
  return 0;
}

Tensor Tensor::reshape(const Shape& s) const {
  EMBER_CHECK_ARG(s.numel() == numel(),
                  "reshape " << str() << " to " << s.str() << ": element counts differ");
  Tensor t = *this;
  t.shape_ = s;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape_, dtype_, device());
  t.copy_from(*this);
  return t;
}

Tensor Tensor::to(DType dt) const {
  EMBER_CHECK_ARG(device().is_cpu(), "to(dtype) needs a CPU tensor, got " << str());
  if (dt == dtype_) return clone();
  Tensor t = empty(shape_, dt);
  int64_t n = numel();
  for (int64_t i = 0; i < n; ++i) {
    double v = item(i);
    switch (dt) {
      case DType::kFloat32:
        t.data<float>()[i] = static_cast<float>(v);
        break;
      case DType::kFloat64:
        t.data<double>()[i] = v;
        break;
      case DType::kInt32:
        t.data<int32_t>()[i] = static_cast<int32_t>(v);
        break;
      case DType::kUInt8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
        break;
    }
  }
  return t;
}

Tensor Tensor::to(Device dev) const {
  if (!defined() || device() == dev) return *this;
  Tensor t = empty(shape_, dtype_, dev);
  t.copy_from(*this);
  return t;
}

void Tensor::zero_() {
  if (nbytes() == 0) return;
  device_memset_zero(raw(), nbytes(), device());
}

void Tensor::copy_from(const Tensor& src) {
  EMBER_CHECK_ARG(src.shape_ == shape_ && src.dtype_ == dtype_,
                  "copy_from: destination " << str() << ", source " << src.str());
  if (nbytes() == 0 || src.raw() == raw()) return;
  device_copy(raw(), device(), src.raw(), src.device(), nbytes());
}

void check_tensor(const Tensor& t, DType dt, const Shape& s, const char* what) {
  EMBER_CHECK_ARG(t.defined(),
                  what << ": tensor is undefined, expected " << dtype_name(dt) << s.str());
  EMBER_CHECK_ARG(t.dtype() == dt && t.shape() == s,
                  what << ": expected " << dtype_name(dt) << s.str() << ", got " << t.str());
}

void check_same_shape(const Tensor& a, const Tensor& b, const char* what) {
  EMBER_CHECK_ARG(a.shape() == b.shape() && a.dtype() == b.dtype(),
                  what << ": shapes differ, " << a.str() << " vs " << b.str());
}

}  // namespace ember
