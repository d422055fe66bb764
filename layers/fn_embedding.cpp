// fn::embedding: the autograd op over kernels/embedding.h. weight [V,E] float, ids [B,T] int32
// -> [B,T,E] in weight's dtype. The backward scatters into d_weight deterministically (the
// kernel buckets by id). ids are copied at record time (B*T ints), so a caller may reuse its
// batch buffer before backward() runs. On CUDA, host ids are validated on the host and then
// uploaded (that upload is the copy); ids already on the weight's device are used unvalidated
// (an out-of-range id gives a NaN row, see kernels/embedding.h), and cloned.
#include "kernels/embedding_dispatch.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

namespace ember::fn {

Var embedding(const Var& weight, const Tensor& ids) {
  EMBER_CHECK_ARG(weight.defined(), "embedding: weight is undefined");
  const Tensor& w = weight.value();
  EMBER_CHECK_ARG(w.ndim() == 2, "embedding: weight must be [V,E], got " << w.shape().str());
  EMBER_CHECK_ARG(ids.defined() && ids.dtype() == DType::kInt32 && ids.ndim() == 2,
                  "embedding: ids must be int32 [B,T], got "
                      << (ids.defined() ? ids.str() : std::string("undefined")));
  const int64_t batch = ids.size(0), steps = ids.size(1), vocab = w.size(0), dim = w.size(1);
  const kern::Exec ex = kern::Exec::of(w, "embedding", "weight");

  // The node's own copy of the ids, on the weight's device: the caller's buffer may change
  // before backward() runs. The CPU kernels validate ids as they read them; for a device,
  // host ids are validated here before the upload, and device ids are taken as they are.
  Tensor saved_ids;
  if (ex.cpu()) {
    EMBER_CHECK_ARG(ids.device().is_cpu(), "embedding: weight is on cpu but ids are on "
                                               << ids.device().str() << " (" << ids.str() << ")");
    saved_ids = ids.clone();
  } else if (ids.device().is_cpu()) {
    ref::embedding_check_ids(ids.data<int32_t>(), batch, steps, vocab);
    saved_ids = ids.to(ex.device);
  } else {
    detail::check_same_device(w, ids, "embedding", "weight", "ids");
    saved_ids = ids.clone();
  }

  return dispatch_float(w.dtype(), "embedding", [&](auto tag) {
    using T = decltype(tag);
    Tensor out = Tensor::empty(Shape{batch, steps, dim}, w.dtype(), ex.device);
    kern::embedding_forward<T>(ex, w.data<T>(), saved_ids.data<int32_t>(), out.data<T>(), batch,
                               steps, vocab, dim);
    return ag::record1("embedding", {weight}, out,
                       [saved_ids, batch, steps, vocab, dim, ex](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* d_weight = d_in.get(0);
                         if (!d_weight || !d_out[0]) return;
                         const size_t bytes =
                             kern::embedding_backward_workspace_bytes(ex, batch, steps, vocab, dim);
                         Tensor ws = ex.cpu() ? Tensor() : detail::scratch(bytes, ex.device);
                         kern::embedding_backward<T>(ex, d_out[0]->data<T>(),
                                                     saved_ids.data<int32_t>(), d_weight->data<T>(),
                                                     batch, steps, vocab, dim, ws.raw(), bytes);
                       });
  });
}

}  // namespace ember::fn
