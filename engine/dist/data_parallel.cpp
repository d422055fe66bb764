// DataParallel (see data_parallel.h): the CPU path packs in plain loops; on a CUDA device the
// packing, scaling and unpacking are kernels on the device context's stream (dp_kernels.h),
// so a GPU step still queues its work without waiting for the device.
#include "engine/dist/data_parallel.h"

#include <algorithm>
#include <cstring>

#ifdef EMBER_HAVE_CUDA
#include "engine/cuda/context.h"
#include "engine/dist/dp_kernels.h"
#endif

namespace ember::dist {

RowRange shard(int64_t n, int rank, int world) {
  EMBER_CHECK_ARG(world >= 1 && rank >= 0 && rank < world && n >= 0,
                  "shard: rank " << rank << " of " << world << ", " << n << " rows");
  return RowRange{n * rank / world, n * (rank + 1) / world};
}

namespace {

int64_t total_numel(const std::vector<ag::Var*>& params, Device dev, DType dt) {
  int64_t total = 0;
  for (const ag::Var* p : params) {
    const Tensor& v = p->value();
    EMBER_CHECK_ARG(
        v.device() == dev && v.dtype() == dt,
        "data-parallel step: parameters on mixed devices or dtypes (" << v.str() << ")");
    total += v.numel();
  }
  return total;
}

}  // namespace

Tensor DataParallel::reduce_step(const std::vector<ag::Var*>& params, const Tensor& local_loss,
                                 const Tensor& local_counts, bool stop, uint64_t step) {
  EMBER_CHECK_ARG(!params.empty(), "data-parallel step: no parameters");
  EMBER_CHECK_ARG(local_loss.defined() == local_counts.defined(),
                  "data-parallel step: loss and accuracy counts must both be given or neither");
  const Device dev = params[0]->value().device();
  const DType dt = params[0]->value().dtype();
  const int64_t total = total_numel(params, dev, dt);
  if (!flat_.defined() || flat_.numel() != total || flat_.device() != dev || flat_.dtype() != dt)
    flat_ = Tensor::empty(Shape{total}, dt, dev);
  const std::string what = "gradient all-reduce of step " + std::to_string(step);
  const std::string what_tail = "loss all-reduce of step " + std::to_string(step);

  if (dev.is_cpu()) {
    Tensor tail = Tensor::zeros(Shape{4}, DType::kFloat64);
    double* tl = tail.data<double>();
    if (local_loss.defined()) {
      const Tensor c = local_counts.to(Device::cpu());
      tl[1] = c.item(0);
      tl[2] = c.item(1);
      tl[0] = local_loss.to(Device::cpu()).item() * tl[2];
    }
    tl[3] = stop ? 1.0 : 0.0;
    dispatch_float(dt, "data-parallel step", [&](auto tag) {
      using T = decltype(tag);
      T* f = flat_.data<T>();
      const T scale = static_cast<T>(tl[2]);
      for (const ag::Var* p : params) {
        const int64_t n = p->value().numel();
        if (p->grad().defined()) {
          const T* g = p->grad().template data<T>();
          for (int64_t i = 0; i < n; ++i) f[i] = g[i] * scale;
        } else {
          std::fill(f, f + n, T(0));
        }
        f += n;
      }
    });
    comm_.allreduce_sum(flat_, what);
    comm_.allreduce_sum(tail, what_tail);
    dispatch_float(dt, "data-parallel step", [&](auto tag) {
      using T = decltype(tag);
      const T* f = flat_.data<T>();
      const T denom = static_cast<T>(tl[2]);
      for (ag::Var* p : params) {
        const int64_t n = p->value().numel();
        Tensor& g = p->mutable_grad();
        if (!g.defined()) g = Tensor::empty(p->value().shape(), dt);
        T* gd = g.template data<T>();
        for (int64_t i = 0; i < n; ++i) gd[i] = tl[2] > 0 ? f[i] / denom : T(0);
        f += n;
      }
    });
    return tail;
  }

#ifdef EMBER_HAVE_CUDA
  EMBER_CHECK_ARG(dt == DType::kFloat32,
                  "data-parallel step on " << dev.str() << ": float32 parameters only");
  EMBER_CHECK_ARG(
      !local_loss.defined() ||
          (local_loss.dtype() == DType::kFloat32 && local_counts.dtype() == DType::kFloat64),
      "data-parallel step: loss " << local_loss.str() << ", counts " << local_counts.str());
  cudaStream_t st = cuda::Context::get(dev.index).stream();
  Tensor tail = Tensor::empty(Shape{4}, DType::kFloat64, dev);
  make_tail(tail.data<double>(), local_loss.defined() ? local_loss.data<float>() : nullptr,
            local_counts.defined() ? local_counts.data<double>() : nullptr, stop ? 1.0 : 0.0, st);
  std::vector<const float*> src;
  std::vector<float*> dst;
  std::vector<int64_t> sizes;
  for (const ag::Var* p : params) {
    src.push_back(p->grad().defined() ? p->grad().data<float>() : nullptr);
    sizes.push_back(p->value().numel());
  }
  pack_scaled(src, sizes, flat_.data<float>(), tail.data<double>() + 2, st);
  comm_.allreduce_sum(flat_, what);
  comm_.allreduce_sum(tail, what_tail);
  for (ag::Var* p : params) {
    Tensor& g = p->mutable_grad();
    if (!g.defined()) g = Tensor::empty(p->value().shape(), dt, dev);
    dst.push_back(g.data<float>());
  }
  unpack_divided(flat_.data<float>(), dst, sizes, tail.data<double>() + 2, st);
  return tail;
#else
  EMBER_CHECK_ARG(false,
                  "data-parallel step: parameters on " << dev.str() << " in a build without CUDA");
  return Tensor();
#endif
}

StepStats DataParallel::read(const Tensor& tail) const {
  if (!tail.device().is_cpu()) comm_.synchronize("reading a step's loss");
  const Tensor h = tail.to(Device::cpu());
  StepStats s;
  s.correct = h.item(1);
  s.total = h.item(2);
  s.loss = s.total > 0 ? h.item(0) / s.total : 0.0;
  s.stop = h.item(3) > 0;
  return s;
}

void DataParallel::sum(std::vector<double>& v, const std::string& what) const {
  Tensor t = Tensor::empty(Shape{static_cast<int64_t>(v.size())}, DType::kFloat64);
  std::copy(v.begin(), v.end(), t.data<double>());
  comm_.allreduce_sum(t, what);
  std::copy(t.data<double>(), t.data<double>() + v.size(), v.begin());
}

void DataParallel::gather_scores(Scores& s, int64_t first_row, int64_t total_rows, int64_t classes,
                                 const std::string& what) const {
  EMBER_CHECK_ARG(s.rows == 0 || s.classes == classes,
                  what << ": scores have " << s.classes << " classes, expected " << classes);
  EMBER_CHECK_ARG(
      first_row >= 0 && first_row + s.rows <= total_rows,
      what << ": rows [" << first_row << ", " << first_row + s.rows << ") of " << total_rows);
  // One row = its K probabilities then its predicted class; every other rank adds zeros, and
  // x + 0 is x, so the sum is a gather.
  const int64_t width = classes + 1;
  Tensor all = Tensor::zeros(Shape{total_rows * width}, DType::kFloat64);
  double* a = all.data<double>();
  for (int64_t i = 0; i < s.rows; ++i) {
    double* row = a + (first_row + i) * width;
    std::memcpy(row, s.probs.data() + i * classes, static_cast<size_t>(classes) * sizeof(double));
    row[classes] = s.pred[i];
  }
  comm_.allreduce_sum(all, what);
  s.rows = total_rows;
  s.classes = classes;
  s.probs.resize(static_cast<size_t>(total_rows * classes));
  s.pred.resize(static_cast<size_t>(total_rows));
  for (int64_t i = 0; i < total_rows; ++i) {
    std::memcpy(s.probs.data() + i * classes, a + i * width,
                static_cast<size_t>(classes) * sizeof(double));
    s.pred[i] = static_cast<int32_t>(a[i * width + classes]);
  }
}

}  // namespace ember::dist
