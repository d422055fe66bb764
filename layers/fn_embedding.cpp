// fn::embedding: the autograd op over kernels/embedding.h. weight [V,E] float, ids [B,T] int32
// -> [B,T,E] in weight's dtype. The backward scatters into d_weight deterministically (the
// kernel buckets by id). ids are copied at record time (B*T ints), so a caller may reuse its
// batch buffer before backward() runs. On CUDA, host ids are validated on the host and then
// uploaded (that upload is the copy); ids already on the weight's device are used unvalidated
// (an out-of-range id gives a NaN row, see kernels/embedding.h), and cloned.
#include "kernels/embedding.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#endif

namespace ember::fn {

Var embedding(const Var& weight, const Tensor& ids) {
  EMBER_CHECK_ARG(weight.defined(), "embedding: weight is undefined");
  const Tensor& w = weight.value();
  EMBER_CHECK_ARG(w.ndim() == 2, "embedding: weight must be [V,E], got " << w.shape().str());
  EMBER_CHECK_ARG(ids.defined() && ids.dtype() == DType::kInt32 && ids.ndim() == 2,
                  "embedding: ids must be int32 [B,T], got "
                      << (ids.defined() ? ids.str() : std::string("undefined")));
  const int64_t batch = ids.size(0), steps = ids.size(1), vocab = w.size(0), dim = w.size(1);

  if (!w.device().is_cpu()) {
#ifdef EMBER_HAVE_CUDA
    const Device dev = w.device();
    Tensor saved_ids;
    if (ids.device().is_cpu()) {
      ref::embedding_check_ids(ids.data<int32_t>(), batch, steps, vocab);
      saved_ids = ids.to(dev);  // a fresh copy: the caller's buffer may change later
    } else {
      detail::check_same_device(w, ids, "embedding", "weight", "ids");
      saved_ids = ids.clone();
    }
    return dispatch_float(w.dtype(), "embedding", [&](auto tag) {
      using T = decltype(tag);
      Tensor out = Tensor::empty(Shape{batch, steps, dim}, w.dtype(), dev);
      cuda::embedding_forward<T>(w.data<T>(), saved_ids.data<int32_t>(), out.data<T>(), batch,
                                 steps, vocab, dim, cuda::Context::get(dev.index).stream());
      return ag::record1(
          "embedding", {weight}, out,
          [saved_ids, batch, steps, vocab, dim, dev](const std::vector<const Tensor*>& d_out,
                                                     ag::GradInputs& d_in) {
            Tensor* d_weight = d_in.get(0);
            if (!d_weight || !d_out[0]) return;
            const size_t bytes = cuda::embedding_backward_workspace_bytes(batch, steps, vocab, dim);
            Tensor ws = detail::scratch(bytes, dev);
            cuda::embedding_backward<T>(d_out[0]->data<T>(), saved_ids.data<int32_t>(),
                                        d_weight->data<T>(), batch, steps, vocab, dim, ws.raw(),
                                        bytes, cuda::Context::get(dev.index).stream());
          });
    });
#else
    EMBER_CHECK_ARG(false, "embedding: weight " << w.str() << " is on a CUDA device, but this "
                                                   "build has no CUDA support");
#endif
  }
  EMBER_CHECK_ARG(ids.device().is_cpu(), "embedding: weight is on cpu but ids are on "
                                             << ids.device().str() << " (" << ids.str() << ")");

  return dispatch_float(w.dtype(), "embedding", [&](auto tag) {
    using T = decltype(tag);
    Tensor out = Tensor::empty(Shape{batch, steps, dim}, w.dtype());
    ref::embedding_forward<T>(w.data<T>(), ids.data<int32_t>(), out.data<T>(), batch, steps, vocab,
                              dim);
    Tensor saved_ids = ids.clone();
    return ag::record1("embedding", {weight}, out,
                       [saved_ids, batch, steps, vocab, dim](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* d_weight = d_in.get(0);
                         if (!d_weight || !d_out[0]) return;
                         ref::embedding_backward<T>(d_out[0]->data<T>(), saved_ids.data<int32_t>(),
                                                    d_weight->data<T>(), batch, steps, vocab, dim);
                       });
  });
}

}  // namespace ember::fn
