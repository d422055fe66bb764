// fn::binary_crossentropy, fn::sparse_categorical_crossentropy and fn::accuracy over
// kernels/losses.h. Predictions are [B,1] / [B,T,1] (binary) or [B,K] / [B,T,K] (sparse); a
// 2-D prediction is T = 1. Labels, weights and masks are plain tensors (no gradient) and are
// normalized here once: y and sample_weight to the prediction's dtype (sparse ids to int32),
// masks to uint8 0/1 (any nonzero value counts). The node keeps pred and these, not the loss.
#include <cmath>

#include "kernels/losses.h"
#include "layers/functional.h"

namespace ember::fn {

namespace {

struct LossDims {
  int64_t batch, steps, classes;
};

void check_cpu(const Tensor& t, const char* op, const char* what) {
  EMBER_CHECK_ARG(!t.defined() || t.device().is_cpu(),
                  "no CUDA kernel yet for " << op << " (" << what << " " << t.str() << ")");
}

LossDims prediction_dims(const Tensor& pred, const char* op) {
  EMBER_CHECK_ARG(pred.ndim() == 2 || pred.ndim() == 3,
                  op << ": predictions must be [B,K] or [B,T,K], got " << pred.shape().str());
  const int64_t batch = pred.size(0), classes = pred.size(-1);
  const int64_t steps = pred.ndim() == 3 ? pred.size(1) : 1;
  EMBER_CHECK_ARG(batch >= 1 && steps >= 1 && classes >= 1,
                  op << ": empty predictions " << pred.shape().str());
  return {batch, steps, classes};
}

// [B] or [B,1]: one value per sample.
void check_per_sample(const Tensor& t, int64_t batch, const char* op, const char* what,
                      const Tensor& pred) {
  const bool ok = (t.ndim() == 1 && t.size(0) == batch) ||
                  (t.ndim() == 2 && t.size(0) == batch && t.size(1) == 1);
  EMBER_CHECK_ARG(ok, op << ": " << what << " must be [B] = [" << batch << "] for predictions "
                         << pred.shape().str() << ", got " << t.shape().str());
}

// mask [B,T] (or [B] / [B,1] when T = 1) of any dtype -> uint8 0/1 [B*T]; undefined stays so.
Tensor normalize_mask(const Tensor& mask, const LossDims& d, const char* op, const Tensor& pred) {
  if (!mask.defined()) return mask;
  check_cpu(mask, op, "mask");
  const bool ok = (mask.ndim() == 2 && mask.size(0) == d.batch && mask.size(1) == d.steps) ||
                  (d.steps == 1 && mask.ndim() == 1 && mask.size(0) == d.batch);
  EMBER_CHECK_ARG(ok, op << ": mask must be [B,T] = [" << d.batch << ", " << d.steps
                         << "] for predictions " << pred.shape().str() << ", got "
                         << mask.shape().str());
  Tensor m = Tensor::empty(Shape{d.batch * d.steps}, DType::kUInt8);
  for (int64_t i = 0; i < m.numel(); ++i) m.data<uint8_t>()[i] = mask.item(i) != 0.0 ? 1 : 0;
  return m;
}

// A per-sample tensor as a flat [B] copy in dtype dt.
Tensor per_sample(const Tensor& t, DType dt, int64_t batch, const char* op, const char* what,
                  const Tensor& pred) {
  if (!t.defined()) return t;
  check_cpu(t, op, what);
  check_per_sample(t, batch, op, what, pred);
  return t.reshape(Shape{batch}).to(dt);
}

// Sparse class ids as int32 [B]; float ids must be whole numbers.
Tensor class_ids(const Tensor& y, int64_t batch, const char* op, const Tensor& pred) {
  EMBER_CHECK_ARG(y.defined(), op << ": labels are undefined");
  check_cpu(y, op, "labels");
  check_per_sample(y, batch, op, "labels", pred);
  if (y.dtype() == DType::kInt32) return y.reshape(Shape{batch});
  for (int64_t b = 0; b < batch; ++b) {
    const double v = y.item(b);
    EMBER_CHECK_ARG(v == std::floor(v),
                    op << ": label " << v << " in row " << b << " is not a class id");
  }
  return y.reshape(Shape{batch}).to(DType::kInt32);
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

Var binary_crossentropy(const Var& pred, const Tensor& y, const Tensor& sample_weight,
                        const Tensor& mask, bool from_logits) {
  const char* op = "binary_crossentropy";
  EMBER_CHECK_ARG(pred.defined(), op << ": predictions are undefined");
  const Tensor& pv = pred.value();
  check_cpu(pv, op, "predictions");
  const LossDims d = prediction_dims(pv, op);
  EMBER_CHECK_ARG(d.classes == 1, op << ": predictions must be [B,1] or [B,T,1] (one "
                                        "probability per sample or step), got "
                                     << pv.shape().str());
  EMBER_CHECK_ARG(y.defined(), op << ": labels are undefined");
  const Tensor yt = per_sample(y, pv.dtype(), d.batch, op, "labels", pv);
  const Tensor wt = per_sample(sample_weight, pv.dtype(), d.batch, op, "sample_weight", pv);
  const Tensor mt = normalize_mask(mask, d, op, pv);
  return dispatch_float(pv.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor loss = Tensor::empty(Shape{}, pv.dtype());
    ref::binary_crossentropy_forward<T>(pv.data<T>(), yt.data<T>(), ptr_or_null<T>(wt),
                                        ptr_or_null<uint8_t>(mt), d.batch, d.steps, from_logits,
                                        loss.data<T>());
    Tensor pred_saved = pv;
    return ag::record1(op, {pred}, loss,
                       [pred_saved, yt, wt, mt, d, from_logits](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* d_pred = d_in.get(0);
                         if (!d_pred || !d_out[0]) return;
                         ref::binary_crossentropy_backward<T>(
                             pred_saved.data<T>(), yt.data<T>(), ptr_or_null<T>(wt),
                             ptr_or_null<uint8_t>(mt), d.batch, d.steps, from_logits,
                             d_out[0]->item(0), d_pred->data<T>());
                       });
  });
}

Var sparse_categorical_crossentropy(const Var& pred, const Tensor& y, const Tensor& sample_weight,
                                    const Tensor& mask, bool from_logits) {
  const char* op = "sparse_categorical_crossentropy";
  EMBER_CHECK_ARG(pred.defined(), op << ": predictions are undefined");
  const Tensor& pv = pred.value();
  check_cpu(pv, op, "predictions");
  const LossDims d = prediction_dims(pv, op);
  const Tensor yt = class_ids(y, d.batch, op, pv);
  const Tensor wt = per_sample(sample_weight, pv.dtype(), d.batch, op, "sample_weight", pv);
  const Tensor mt = normalize_mask(mask, d, op, pv);
  return dispatch_float(pv.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor loss = Tensor::empty(Shape{}, pv.dtype());
    ref::sparse_categorical_crossentropy_forward<T>(
        pv.data<T>(), yt.data<int32_t>(), ptr_or_null<T>(wt), ptr_or_null<uint8_t>(mt), d.batch,
        d.steps, d.classes, from_logits, loss.data<T>());
    Tensor pred_saved = pv;
    return ag::record1(op, {pred}, loss,
                       [pred_saved, yt, wt, mt, d, from_logits](
                           const std::vector<const Tensor*>& d_out, ag::GradInputs& d_in) {
                         Tensor* d_pred = d_in.get(0);
                         if (!d_pred || !d_out[0]) return;
                         ref::sparse_categorical_crossentropy_backward<T>(
                             pred_saved.data<T>(), yt.data<int32_t>(), ptr_or_null<T>(wt),
                             ptr_or_null<uint8_t>(mt), d.batch, d.steps, d.classes, from_logits,
                             d_out[0]->item(0), d_pred->data<T>());
                       });
  });
}

double accuracy(const Tensor& pred, const Tensor& y, const Tensor& mask, bool from_logits) {
  const char* op = "accuracy";
  EMBER_CHECK_ARG(pred.defined(), op << ": predictions are undefined");
  check_cpu(pred, op, "predictions");
  const LossDims d = prediction_dims(pred, op);
  const Tensor mt = normalize_mask(mask, d, op, pred);
  double correct = 0.0, total = 0.0;
  dispatch_float(pred.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (d.classes == 1) {
      EMBER_CHECK_ARG(y.defined(), op << ": labels are undefined");
      const Tensor yt = per_sample(y, pred.dtype(), d.batch, op, "labels", pred);
      ref::binary_accuracy_counts<T>(pred.data<T>(), yt.data<T>(), ptr_or_null<uint8_t>(mt),
                                     d.batch, d.steps, from_logits, &correct, &total);
    } else {
      const Tensor yt = class_ids(y, d.batch, op, pred);
      for (int64_t b = 0; b < d.batch; ++b) {
        const int32_t label = yt.data<int32_t>()[b];
        EMBER_CHECK_ARG(label >= 0 && label < d.classes, op << ": label " << label << " in row "
                                                            << b << " is outside [0, " << d.classes
                                                            << ")");
      }
      ref::sparse_accuracy_counts<T>(pred.data<T>(), yt.data<int32_t>(), ptr_or_null<uint8_t>(mt),
                                     d.batch, d.steps, d.classes, &correct, &total);
    }
  });
  return total > 0.0 ? correct / total : 0.0;
}

}  // namespace ember::fn
