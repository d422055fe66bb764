// See fn_device.h.
#include "layers/fn_device.h"

#include "engine/core/check.h"

namespace ember::fn::detail {

void check_same_device(const Tensor& a, const Tensor& b, const char* op, const char* what_a,
                       const char* what_b) {
  if (!a.defined() || !b.defined()) return;
  EMBER_CHECK_ARG(a.device() == b.device(), op << ": " << what_a << " is on " << a.device().str()
                                               << " but " << what_b << " is on " << b.device().str()
                                               << " (" << a.str() << ", " << b.str()
                                               << "); move both to one device");
}

Tensor to_device(const Tensor& t, Device dev) {
  if (!t.defined() || t.device() == dev) return t;
  return t.to(dev);
}

Tensor scratch(size_t bytes, Device dev) {
  const int64_t n = bytes > 0 ? static_cast<int64_t>(bytes) : 1;
  return Tensor::empty(Shape{n}, DType::kUInt8, dev);
}

}  // namespace ember::fn::detail
