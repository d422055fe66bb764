// fn::merge over kernels/merge.h: Bidirectional's merge_mode. concat joins the last axis and
// allows different last dims (the leading dims must match); sum, mul and ave need equal
// shapes. mul saves both inputs for its backward; the other modes save nothing. merge(x, x)
// is fine: both gradient contributions accumulate into x's gradient.
#include <string>

#include "kernels/merge_dispatch.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

namespace ember::fn {

namespace {

// s with its last dim replaced by `last` (Shape has no setter; ndim is 1..4).
Shape with_last_dim(const Shape& s, int64_t last) {
  switch (s.ndim()) {
    case 1:
      return Shape{last};
    case 2:
      return Shape{s[0], last};
    case 3:
      return Shape{s[0], s[1], last};
    default:
      return Shape{s[0], s[1], s[2], last};
  }
}

}  // namespace

Var merge(const Var& a, const Var& b, MergeMode m) {
  const char* mode = merge_mode_name(m);
  EMBER_CHECK_ARG(a.defined() && b.defined(), "merge: an input is undefined");
  const Tensor& av = a.value();
  const Tensor& bv = b.value();
  detail::check_same_device(av, bv, "merge", "first input", "second input");
  const kern::Exec ex = kern::Exec::of(av, "merge", "inputs");
  EMBER_CHECK_ARG(av.dtype() == bv.dtype(),
                  "merge: inputs differ in dtype: " << av.str() << " vs " << bv.str());
  Shape out_shape = av.shape();
  int64_t rows = 0, width_a = 0, width_b = 0;
  if (m == MergeMode::kConcat) {
    EMBER_CHECK_ARG(av.ndim() >= 1 && av.ndim() == bv.ndim() &&
                        with_last_dim(av.shape(), 0) == with_last_dim(bv.shape(), 0),
                    "merge concat: leading dims must match, got " << av.shape().str() << " and "
                                                                  << bv.shape().str());
    width_a = av.size(-1);
    width_b = bv.size(-1);
    out_shape = with_last_dim(av.shape(), width_a + width_b);
    rows = width_a + width_b > 0 ? out_shape.numel() / (width_a + width_b) : 0;
  } else {
    EMBER_CHECK_ARG(av.shape() == bv.shape(), "merge " << mode << ": shapes must be equal, got "
                                                       << av.shape().str() << " and "
                                                       << bv.shape().str());
  }

  return dispatch_float(av.dtype(), "merge", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(out_shape, av.dtype(), ex.device);
    if (m == MergeMode::kConcat) {
      kern::merge_concat_forward<T>(ex, av.data<T>(), bv.data<T>(), y.data<T>(), rows, width_a,
                                    width_b);
      return ag::record1("merge_concat", {a, b}, y,
                         [rows, width_a, width_b, ex](const std::vector<const Tensor*>& d_out,
                                                      ag::GradInputs& d_in) {
                           if (!d_out[0]) return;
                           Tensor* d_a = d_in.get(0);
                           Tensor* d_b = d_in.get(1);
                           kern::merge_concat_backward<T>(
                               ex, d_out[0]->data<T>(), d_a ? d_a->data<T>() : nullptr,
                               d_b ? d_b->data<T>() : nullptr, rows, width_a, width_b);
                         });
    }
    const int64_t n = av.numel();
    kern::merge_elementwise_forward<T>(ex, m, av.data<T>(), bv.data<T>(), y.data<T>(), n);
    // Only mul's backward reads the inputs; keep them alive for that mode alone.
    Tensor saved_a = m == MergeMode::kMul ? av : Tensor();
    Tensor saved_b = m == MergeMode::kMul ? bv : Tensor();
    return ag::record1("merge", {a, b}, y,
                       [m, n, saved_a, saved_b, ex](const std::vector<const Tensor*>& d_out,
                                                    ag::GradInputs& d_in) {
                         if (!d_out[0]) return;
                         Tensor* d_a = d_in.get(0);
                         Tensor* d_b = d_in.get(1);
                         kern::merge_elementwise_backward<T>(
                             ex, m, saved_a.defined() ? saved_a.data<T>() : nullptr,
                             saved_b.defined() ? saved_b.data<T>() : nullptr, d_out[0]->data<T>(),
                             d_a ? d_a->data<T>() : nullptr, d_b ? d_b->data<T>() : nullptr, n);
                       });
  });
}

}  // namespace ember::fn
