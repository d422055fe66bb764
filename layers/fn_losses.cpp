// fn::binary_crossentropy, fn::sparse_categorical_crossentropy and fn::accuracy over
// kernels/losses.h. Predictions are [B,1] / [B,T,1] (binary) or [B,K] / [B,T,K] (sparse); a
// 2-D prediction is T = 1. Labels, weights and masks are plain tensors (no gradient) and are
// normalized here once: y and sample_weight to the prediction's dtype (sparse ids to int32),
// masks to uint8 0/1 (any nonzero value counts). The node keeps pred and these, not the loss.
// CUDA predictions: host labels, weights and masks are normalized and validated on the host,
// then uploaded; ones already on the prediction's device must be in their final form (labels
// and weights in pred's dtype, sparse ids int32, mask uint8) and are not validated (see
// kernels/losses.h). The loss's backward reads its incoming gradient on the device.
#include <cmath>

#include "kernels/losses_dispatch.h"
#include "layers/fn_device.h"
#include "layers/functional.h"

namespace ember::fn {

namespace {

struct LossDims {
  int64_t batch, steps, classes;
};

void check_cpu(const Tensor& t, const char* op, const char* what) {
  EMBER_CHECK_ARG(!t.defined() || t.device().is_cpu(),
                  op << ": " << what << " " << t.str()
                     << " is on a CUDA device; with predictions on the cpu, labels, weights and "
                        "masks must be on the cpu too");
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

double* mutable_or_null(const Tensor& t) {
  return t.defined() ? t.data<double>() : nullptr;
}

// The references validate labels as they read them; for the GPU path the same checks run here
// on the host copies before they are uploaded.
void check_binary_targets(const Tensor& yt, const char* op) {
  for (int64_t b = 0; b < yt.numel(); ++b) {
    const double v = yt.item(b);
    EMBER_CHECK_ARG(v >= 0.0 && v <= 1.0,
                    op << ": target " << v << " in row " << b << " is outside [0, 1]");
  }
}

void check_class_range(const Tensor& yt, int64_t classes, const char* op) {
  for (int64_t b = 0; b < yt.numel(); ++b) {
    const int32_t label = yt.data<int32_t>()[b];
    EMBER_CHECK_ARG(label >= 0 && label < classes, op << ": label " << label << " in row " << b
                                                      << " is outside [0, " << classes << ")");
  }
}

// A per-sample tensor already on the device: [B] or [B,1] of dtype dt, returned as [B].
Tensor device_per_sample(const Tensor& t, DType dt, int64_t batch, const char* op, const char* what,
                         const Tensor& pred) {
  if (!t.defined()) return t;
  detail::check_same_device(pred, t, op, "predictions", what);
  check_per_sample(t, batch, op, what, pred);
  EMBER_CHECK_ARG(t.dtype() == dt, op << ": " << what << " " << t.str() << " on the device must be "
                                      << dtype_name(dt)
                                      << " (host tensors of any dtype are "
                                         "converted)");
  return t.reshape(Shape{batch});
}

// Labels, weights and mask in their final form, on the predictions' device.
struct Targets {
  Tensor y, weight, mask;
};

// CPU predictions: everything on the host, normalized (the references validate labels).
Targets host_targets(const Tensor& pv, const Tensor& y, const Tensor& sample_weight,
                     const Tensor& mask, const LossDims& d, bool sparse, const char* op) {
  EMBER_CHECK_ARG(y.defined(), op << ": labels are undefined");
  Targets out;
  out.y =
      sparse ? class_ids(y, d.batch, op, pv) : per_sample(y, pv.dtype(), d.batch, op, "labels", pv);
  out.weight = per_sample(sample_weight, pv.dtype(), d.batch, op, "sample_weight", pv);
  out.mask = normalize_mask(mask, d, op, pv);
  return out;
}

// CUDA predictions: host tensors normalized and validated, then uploaded; device ones checked.
Targets device_targets(const Tensor& pv, const Tensor& y, const Tensor& sample_weight,
                       const Tensor& mask, const LossDims& d, bool sparse, const char* op) {
  const Device dev = pv.device();
  Targets out;
  EMBER_CHECK_ARG(y.defined(), op << ": labels are undefined");
  if (y.device().is_cpu()) {
    if (sparse) {
      Tensor ids = class_ids(y, d.batch, op, pv);
      check_class_range(ids, d.classes, op);
      out.y = ids.to(dev);
    } else {
      Tensor yt = per_sample(y, pv.dtype(), d.batch, op, "labels", pv);
      check_binary_targets(yt, op);
      out.y = yt.to(dev);
    }
  } else {
    out.y = device_per_sample(y, sparse ? DType::kInt32 : pv.dtype(), d.batch, op, "labels", pv);
  }
  if (sample_weight.defined()) {
    if (sample_weight.device().is_cpu())
      out.weight = per_sample(sample_weight, pv.dtype(), d.batch, op, "sample_weight", pv).to(dev);
    else
      out.weight = device_per_sample(sample_weight, pv.dtype(), d.batch, op, "sample_weight", pv);
  }
  if (mask.defined()) {
    if (mask.device().is_cpu()) {
      out.mask = normalize_mask(mask, d, op, pv).to(dev);
    } else {
      detail::check_same_device(pv, mask, op, "predictions", "mask");
      const bool ok = (mask.ndim() == 2 && mask.size(0) == d.batch && mask.size(1) == d.steps) ||
                      (d.steps == 1 && mask.ndim() == 1 && mask.size(0) == d.batch);
      EMBER_CHECK_ARG(ok && mask.dtype() == DType::kUInt8,
                      op << ": a device mask must be uint8 [B,T] = [" << d.batch << ", " << d.steps
                         << "] for predictions " << pv.shape().str() << ", got " << mask.str());
      out.mask = mask.reshape(Shape{d.batch * d.steps});
    }
  }
  return out;
}

Targets targets(const kern::Exec& ex, const Tensor& pv, const Tensor& y,
                const Tensor& sample_weight, const Tensor& mask, const LossDims& d, bool sparse,
                const char* op) {
  return ex.cpu() ? host_targets(pv, y, sample_weight, mask, d, sparse, op)
                  : device_targets(pv, y, sample_weight, mask, d, sparse, op);
}

// Scratch for the device reductions (none on the CPU).
Tensor loss_workspace(const kern::Exec& ex) {
  return ex.cpu() ? Tensor() : detail::scratch(kern::loss_workspace_bytes(ex), ex.device);
}

// What both losses share: the scalar loss, D and the reduction's scratch on a device, and the
// recorded backward. forward(tag, loss, denom, workspace) runs the loss's forward kernel in the
// tag's type; backward(tag, pred, d_loss, denom, d_pred) adds its gradient into d_pred.
template <class Forward, class Backward>
Var loss_op(const char* op, const Var& pred, const kern::Exec& ex, const Forward& forward,
            const Backward& backward) {
  const Tensor& pv = pred.value();
  return dispatch_float(pv.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    Tensor loss = Tensor::empty(Shape{}, pv.dtype(), ex.device);
    // D, which the device backward reads (the CPU recomputes it).
    Tensor denom = ex.cpu() ? Tensor() : Tensor::empty(Shape{1}, DType::kFloat64, ex.device);
    Tensor ws = loss_workspace(ex);
    forward(tag, loss.data<T>(), mutable_or_null(denom), ws.raw());
    Tensor pred_saved = pv;
    return ag::record1(op, {pred}, loss,
                       [pred_saved, denom, backward](const std::vector<const Tensor*>& d_out,
                                                     ag::GradInputs& d_in) {
                         Tensor* d_pred = d_in.get(0);
                         if (!d_pred || !d_out[0]) return;
                         backward(T{}, pred_saved.data<T>(), d_out[0]->data<T>(),
                                  ptr_or_null<double>(denom), d_pred->data<T>());
                       });
  });
}

}  // namespace

Var binary_crossentropy(const Var& pred, const Tensor& y, const Tensor& sample_weight,
                        const Tensor& mask, bool from_logits) {
  const char* op = "binary_crossentropy";
  EMBER_CHECK_ARG(pred.defined(), op << ": predictions are undefined");
  const Tensor& pv = pred.value();
  const LossDims d = prediction_dims(pv, op);
  EMBER_CHECK_ARG(d.classes == 1, op << ": predictions must be [B,1] or [B,T,1] (one "
                                        "probability per sample or step), got "
                                     << pv.shape().str());
  EMBER_CHECK_ARG(y.defined(), op << ": labels are undefined");
  const kern::Exec ex = kern::Exec::of(pv, op, "predictions");
  const Targets t = targets(ex, pv, y, sample_weight, mask, d, false, op);
  return loss_op(
      op, pred, ex,
      [&](auto tag, auto* loss, double* denom, void* ws) {
        using T = decltype(tag);
        kern::binary_crossentropy_forward<T>(
            ex, pv.data<T>(), t.y.data<T>(), ptr_or_null<T>(t.weight), ptr_or_null<uint8_t>(t.mask),
            d.batch, d.steps, from_logits, loss, denom, ws, kern::loss_workspace_bytes(ex));
      },
      [t, d, from_logits, ex](auto tag, const auto* p, const auto* d_loss, const double* denom,
                              auto* d_pred) {
        using T = decltype(tag);
        kern::binary_crossentropy_backward<T>(ex, p, t.y.data<T>(), ptr_or_null<T>(t.weight),
                                              ptr_or_null<uint8_t>(t.mask), d.batch, d.steps,
                                              from_logits, d_loss, denom, d_pred);
      });
}

Var sparse_categorical_crossentropy(const Var& pred, const Tensor& y, const Tensor& sample_weight,
                                    const Tensor& mask, bool from_logits) {
  const char* op = "sparse_categorical_crossentropy";
  EMBER_CHECK_ARG(pred.defined(), op << ": predictions are undefined");
  const Tensor& pv = pred.value();
  const LossDims d = prediction_dims(pv, op);
  const kern::Exec ex = kern::Exec::of(pv, op, "predictions");
  const Targets t = targets(ex, pv, y, sample_weight, mask, d, true, op);
  return loss_op(
      op, pred, ex,
      [&](auto tag, auto* loss, double* denom, void* ws) {
        using T = decltype(tag);
        kern::sparse_categorical_crossentropy_forward<T>(
            ex, pv.data<T>(), t.y.data<int32_t>(), ptr_or_null<T>(t.weight),
            ptr_or_null<uint8_t>(t.mask), d.batch, d.steps, d.classes, from_logits, loss, denom, ws,
            kern::loss_workspace_bytes(ex));
      },
      [t, d, from_logits, ex](auto tag, const auto* p, const auto* d_loss, const double* denom,
                              auto* d_pred) {
        using T = decltype(tag);
        kern::sparse_categorical_crossentropy_backward<T>(
            ex, p, t.y.data<int32_t>(), ptr_or_null<T>(t.weight), ptr_or_null<uint8_t>(t.mask),
            d.batch, d.steps, d.classes, from_logits, d_loss, denom, d_pred);
      });
}

Tensor accuracy_counts(const Tensor& pred, const Tensor& y, const Tensor& mask, bool from_logits) {
  const char* op = "accuracy";
  EMBER_CHECK_ARG(pred.defined(), op << ": predictions are undefined");
  const LossDims d = prediction_dims(pred, op);
  const kern::Exec ex = kern::Exec::of(pred, op, "predictions");
  const bool sparse = d.classes > 1;
  // The CPU accuracy kernels do not validate labels; the loss's range check runs here.
  const Targets t = targets(ex, pred, y, Tensor(), mask, d, sparse, op);
  if (ex.cpu() && sparse) check_class_range(t.y, d.classes, op);
  Tensor counts = Tensor::empty(Shape{2}, DType::kFloat64, ex.device);
  Tensor ws = loss_workspace(ex);
  dispatch_float(pred.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (!sparse) {
      kern::binary_accuracy_counts<T>(
          ex, pred.data<T>(), t.y.data<T>(), ptr_or_null<uint8_t>(t.mask), d.batch, d.steps,
          from_logits, counts.data<double>(), ws.raw(), kern::loss_workspace_bytes(ex));
    } else {
      kern::sparse_accuracy_counts<T>(
          ex, pred.data<T>(), t.y.data<int32_t>(), ptr_or_null<uint8_t>(t.mask), d.batch, d.steps,
          d.classes, counts.data<double>(), ws.raw(), kern::loss_workspace_bytes(ex));
    }
  });
  return counts;
}

double accuracy_from_counts(const Tensor& counts) {
  const Tensor c = counts.to(Device::cpu());
  const double correct = c.data<double>()[0], total = c.data<double>()[1];
  return total > 0.0 ? correct / total : 0.0;
}

double accuracy(const Tensor& pred, const Tensor& y, const Tensor& mask, bool from_logits) {
  return accuracy_from_counts(accuracy_counts(pred, y, mask, from_logits));
}

}  // namespace ember::fn
