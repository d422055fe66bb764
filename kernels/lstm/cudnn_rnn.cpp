// cuDNN LSTM fallback (kernels/lstm/cudnn_rnn.h). Host side: reads the mask, plans the gathers
// (which time each cuDNN step reads, which cuDNN output each Keras output position repeats),
// builds RAII descriptors, converts the weights and calls the v8 API; the layout kernels are
// in cudnn_rnn_layout.cu. kernels/*.cpp is compiled in every build: the plan and the support
// check are plain C++ (CPU tests use the plan); everything else is under EMBER_HAVE_CUDA, and
// left out for the CUDA emulator (EMBER_CUDA_EMU, see cudnn_rnn_emu.cpp).
//
// Weight layout, from the cuDNN 9 API reference, cudnnGetRNNWeightParams
// (https://docs.nvidia.com/deeplearning/cudnn/latest/api/cudnn-adv-library.html), whose
// linLayerID follows cudnnGetRNNLinLayerMatrixParams: "If mode in rnnDesc was set to
// CUDNN_LSTM values of 0-3 reference matrix multiplications applied to the input from the
// previous layer, value of 4-7 reference matrix multiplications applied to the recurrent
// input. Values 0 and 4 reference the input gate. Values 1 and 5 reference the forget gate.
// Values 2 and 6 reference the new memory gate. Values 3 and 7 reference the output gate."
// That is Keras's i, f, c(g), o order, so gate q of cuDNN is columns [qH, (q+1)H) of Keras's
// kernel / recurrent_kernel / bias. Each matrix is described as {1, H, K} (hidden unit major);
// the strides are read from the returned descriptor and the dims checked, not assumed.
#include "kernels/lstm/cudnn_rnn.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/cuda/index.h"

namespace ember::cuda {

// Masked steps leave the state alone, so they are skipped: cuDNN step k of sample b is its
// k-th real step in processing order. The output of a masked step repeats the latest real
// output (none yet: 0), or is 0 with zero_output_for_mask.
CudnnLstmPlan cudnn_lstm_plan(const LstmConfig& cfg, const uint8_t* host_mask) {
  const int64_t nb = cfg.batch, nt = cfg.steps;
  CudnnLstmPlan p;
  p.positions = cfg.return_sequences ? nt : 1;
  std::vector<std::vector<int32_t>> reads(static_cast<size_t>(nb));
  p.out_map.assign(static_cast<size_t>(nb * p.positions), -1);
  for (int64_t b = 0; b < nb; ++b) {
    int32_t last = -1;  // the cuDNN row holding the latest real output
    for (int64_t s = 0; s < nt; ++s) {
      const int64_t t = time_of(cfg, s);
      int32_t row;
      if (!host_mask || host_mask[b * nt + t]) {
        row = static_cast<int32_t>(reads[b].size());
        reads[b].push_back(static_cast<int32_t>(t));
        last = row;
      } else {
        row = cfg.zero_output_for_mask ? -1 : last;
      }
      if (cfg.return_sequences)
        p.out_map[b * nt + out_pos(cfg, s)] = row;
      else if (s == nt - 1)
        p.out_map[b] = row;
    }
  }
  p.lengths.resize(static_cast<size_t>(nb));
  for (int64_t b = 0; b < nb; ++b) {
    // cuDNN rejects empty sequences: a fully masked sample runs one step on a zero row whose
    // output nothing reads (so its gradients are zero too).
    p.lengths[b] = std::max<int32_t>(1, static_cast<int32_t>(reads[b].size()));
    p.max_len = std::max<int64_t>(p.max_len, p.lengths[b]);
  }
  p.x_map.assign(static_cast<size_t>(nb * p.max_len), -1);
  p.identity_x = p.max_len == nt;
  for (int64_t b = 0; b < nb; ++b) {
    p.identity_x = p.identity_x && static_cast<int64_t>(reads[b].size()) == nt;
    for (size_t k = 0; k < reads[b].size(); ++k) {
      p.x_map[b * p.max_len + static_cast<int64_t>(k)] = reads[b][k];
      p.identity_x = p.identity_x && reads[b][k] == static_cast<int32_t>(k);
    }
  }
  return p;
}

std::string cudnn_lstm_unsupported(const LstmConfig& cfg) {
  if (cfg.recurrent_dropout > 0.0)
    return "recurrent_dropout " + std::to_string(cfg.recurrent_dropout) +
           " (cuDNN's LSTM has no recurrent dropout; use implementation 'fused' or 'auto')";
  return "";
}

}  // namespace ember::cuda

// The emulator has no cuDNN: kernels/lstm/cudnn_rnn_emu.cpp refuses these entry points there.
#if defined(EMBER_HAVE_CUDA) && !defined(EMBER_CUDA_EMU)

#include <cudnn.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <type_traits>
#include <utility>

#include "engine/cuda/check.h"
#include "engine/cuda/context.h"
#include "kernels/lstm/lstm_cuda.h"

namespace ember::cuda {

namespace {

void log_cudnn(cudnnStatus_t s, const char* what) {
  if (s != CUDNN_STATUS_SUCCESS)
    std::fprintf(stderr, "ember: %s failed: %s\n", what, cudnnGetErrorString(s));
}

// ---- RAII descriptors ----------------------------------------------------------------------
// One owned cuDNN descriptor, made by Create and released by Destroy (whose failure is
// logged, not thrown, as it runs in a destructor).
template <class Handle, cudnnStatus_t (*Create)(Handle*), cudnnStatus_t (*Destroy)(Handle)>
class Desc {
 public:
  Desc() { EMBER_CUDNN_CHECK(Create(&d_)); }
  ~Desc() { log_cudnn(Destroy(d_), "destroying a cuDNN descriptor"); }
  Desc(const Desc&) = delete;
  Desc& operator=(const Desc&) = delete;
  Handle get() const { return d_; }

 private:
  Handle d_ = nullptr;
};
using RnnDesc = Desc<cudnnRNNDescriptor_t, cudnnCreateRNNDescriptor, cudnnDestroyRNNDescriptor>;
using RnnDataDesc =
    Desc<cudnnRNNDataDescriptor_t, cudnnCreateRNNDataDescriptor, cudnnDestroyRNNDataDescriptor>;
using TensorDesc =
    Desc<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;

// The cuDNN handle for one stream, and the (rate 0) dropout descriptor an RNN descriptor
// needs. The main stream uses the context's handle; another stream gets a handle of its own
// (cuDNN runs cuBLAS inside, whose workspace must not be shared by two streams at once). Kept
// for the process's life and released at exit, where errors are ignored: as in
// cuda::Context's destructor, the driver may already be gone.
struct StreamDnn {
  cudnnHandle_t handle = nullptr;
  bool owns_handle = false;
  cudnnDropoutDescriptor_t dropout = nullptr;
  void* states = nullptr;
  StreamDnn() = default;
  StreamDnn(const StreamDnn&) = delete;
  StreamDnn& operator=(const StreamDnn&) = delete;
  ~StreamDnn() {
    if (dropout) (void)cudnnDestroyDropoutDescriptor(dropout);
    if (states) (void)cudaFree(states);
    if (owns_handle && handle) (void)cudnnDestroy(handle);
  }
};

StreamDnn& dnn_for(int device, cudaStream_t stream) {
  Context& ctx = Context::get(device);
  static std::mutex mu;
  static std::map<std::pair<int, cudaStream_t>, StreamDnn> handles;
  std::lock_guard<std::mutex> lock(mu);
  StreamDnn& d = handles[{device, stream}];
  if (!d.handle) {
    EMBER_CUDA_CHECK(cudaSetDevice(device));
    if (stream == ctx.stream()) {
      d.handle = ctx.cudnn();
    } else {
      EMBER_CUDNN_CHECK(cudnnCreate(&d.handle));
      d.owns_handle = true;
      EMBER_CUDNN_CHECK(cudnnSetStream(d.handle, stream));
    }
  }
  if (!d.dropout) {
    size_t bytes = 0;
    EMBER_CUDNN_CHECK(cudnnDropoutGetStatesSize(d.handle, &bytes));
    EMBER_CUDA_CHECK(cudaMalloc(&d.states, std::max<size_t>(bytes, 1)));
    EMBER_CUDNN_CHECK(cudnnCreateDropoutDescriptor(&d.dropout));
    EMBER_CUDNN_CHECK(cudnnSetDropoutDescriptor(d.dropout, d.handle, 0.0f, d.states, bytes, 0));
  }
  return d;
}

template <class T>
constexpr cudnnDataType_t cudnn_type() {
  return std::is_same_v<T, float> ? CUDNN_DATA_FLOAT : CUDNN_DATA_DOUBLE;
}

}  // namespace

struct CudnnLstmSaved {
  LstmConfig cfg;
  DType dtype = DType::kFloat32;
  int device = 0;
  int64_t max_len = 0, positions = 0;
  bool identity_x = true, has_bias = false;
  std::vector<int32_t> lengths;
  RnnDesc rnn;
  RnnDataDesc x_desc, y_desc;
  TensorDesc h_desc;
  Tensor maps;     // int32 [lengths B | x_map B*L | out_map B*P] on the device
  Tensor weights;  // uint8: cuDNN's weight space as the forward used it
  Tensor reserve;  // uint8: cuDNN's reserve space
  Tensor y;        // [B, L, H] cuDNN's output
  Tensor x_scale;  // [B, C] input dropout factor, or undefined
  size_t work_bytes = 0, reserve_bytes = 0;
  CudnnGateBlocks mat[2]{}, bias[2]{};  // input / recurrent matrices, their biases
};

namespace {

template <class T>
void describe(CudnnLstmSaved& s, cudnnDropoutDescriptor_t dropout) {
  const LstmConfig& cfg = s.cfg;
  const int nb = static_cast<int>(cfg.batch), nc = static_cast<int>(cfg.input);
  const int nh = static_cast<int>(cfg.hidden), nl = static_cast<int>(s.max_len);
  constexpr cudnnDataType_t dt = cudnn_type<T>();
  // float: FMA only, so no TF32 on Ampere and later; parity is checked at float32 tolerance.
  const cudnnMathType_t math = std::is_same_v<T, float> ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
  EMBER_CUDNN_CHECK(cudnnSetRNNDescriptor_v8(
      s.rnn.get(), CUDNN_RNN_ALGO_STANDARD, CUDNN_LSTM, CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL,
      CUDNN_LINEAR_INPUT, dt, dt, math, nc, nh, /*projSize=*/nh,
      /*numLayers=*/1, dropout, CUDNN_RNN_PADDED_IO_ENABLED));
  T pad = T(0);
  EMBER_CUDNN_CHECK(cudnnSetRNNDataDescriptor(s.x_desc.get(), dt,
                                              CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, nl, nb,
                                              nc, s.lengths.data(), &pad));
  EMBER_CUDNN_CHECK(cudnnSetRNNDataDescriptor(s.y_desc.get(), dt,
                                              CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, nl, nb,
                                              nh, s.lengths.data(), &pad));
  const int dims[3] = {1, nb, nh}, strides[3] = {nb * nh, nh, 1};
  EMBER_CUDNN_CHECK(cudnnSetTensorNdDescriptor(s.h_desc.get(), dt, 3, dims, strides));
}

// Element offsets and strides of the 8 matrices and 8 biases in a weight space of `bytes`.
template <class T>
void locate_weights(CudnnLstmSaved& s, cudnnHandle_t handle, const void* space, size_t bytes) {
  TensorDesc m_desc, b_desc;
  const int64_t nh = s.cfg.hidden;
  for (int id = 0; id < 8; ++id) {
    void* m_addr = nullptr;
    void* b_addr = nullptr;
    EMBER_CUDNN_CHECK(cudnnGetRNNWeightParams(handle, s.rnn.get(), 0, bytes, space, id,
                                              m_desc.get(), &m_addr, b_desc.get(), &b_addr));
    EMBER_CHECK(m_addr && b_addr, "cudnnGetRNNWeightParams: no matrix or bias for linLayerID "
                                      << id << " (double-bias LSTM expected)");
    const int64_t nk = id < 4 ? s.cfg.input : nh;
    cudnnDataType_t got_dt;
    int nd = 0, dims[3] = {0, 0, 0}, strides[3] = {0, 0, 0};
    EMBER_CUDNN_CHECK(cudnnGetTensorNdDescriptor(m_desc.get(), 3, &got_dt, &nd, dims, strides));
    EMBER_CHECK(nd == 3 && dims[0] == 1 && dims[1] == nh && dims[2] == nk,
                "cuDNN LSTM matrix " << id << ": expected dims {1, " << nh << ", " << nk
                                     << "}, got {" << dims[0] << ", " << dims[1] << ", " << dims[2]
                                     << "} (nbDims " << nd << ")");
    CudnnGateBlocks& m = s.mat[id / 4];
    m.offset[id % 4] = (static_cast<const char*>(m_addr) - static_cast<const char*>(space)) /
                       static_cast<int64_t>(sizeof(T));
    m.stride_unit = strides[1];
    m.stride_in = strides[2];
    EMBER_CUDNN_CHECK(cudnnGetTensorNdDescriptor(b_desc.get(), 3, &got_dt, &nd, dims, strides));
    EMBER_CHECK(nd == 3 && dims[1] == nh && dims[0] * dims[2] == 1,
                "cuDNN LSTM bias " << id << ": expected dims {1, " << nh << ", 1}");
    CudnnGateBlocks& bb = s.bias[id / 4];
    bb.offset[id % 4] = (static_cast<const char*>(b_addr) - static_cast<const char*>(space)) /
                        static_cast<int64_t>(sizeof(T));
    bb.stride_unit = strides[1];
    bb.stride_in = 0;
  }
}

void check_run(const LstmRun& run) {
  const Context& ctx = Context::get(run.device);
  EMBER_CHECK_ARG(run.stream == ctx.stream() || run.stream == ctx.side_stream(),
                  "lstm (cuDNN): the stream must be the device context's main or side stream");
  EMBER_CHECK_ARG(run.stream == ctx.stream() || run.keep_alive,
                  "lstm (cuDNN): a call on the side stream needs LstmRun::keep_alive");
}

// The input as cuDNN reads it: x with the dropout factor applied, gathered by x_map unless
// the plan is the identity. Returns x itself when neither applies.
template <class T>
const T* cudnn_input(const CudnnLstmSaved& s, const T* x, const Tensor& x_scale,
                     std::vector<Tensor>& temps, cudaStream_t st) {
  const LstmConfig& cfg = s.cfg;
  const Device dev = Device::cuda(s.device);
  const T* src = x;
  if (x_scale.defined()) {
    temps.push_back(Tensor::empty(Shape{cfg.batch, cfg.steps, cfg.input}, dtype_of<T>(), dev));
    apply_row_factors<T>(x, x_scale.data<T>(), temps.back().data<T>(), cfg.batch, cfg.steps,
                         cfg.input, st);
    src = temps.back().data<T>();
  }
  if (s.identity_x) return src;
  temps.push_back(Tensor::empty(Shape{cfg.batch, s.max_len, cfg.input}, dtype_of<T>(), dev));
  gather_time_rows<T>(src, cfg.steps, s.maps.data<int32_t>() + cfg.batch, temps.back().data<T>(),
                      cfg.batch, s.max_len, cfg.input, st);
  return temps.back().data<T>();
}

// Hands the temporaries to run.keep_alive (side stream) or lets them go (main stream).
void finish(const LstmRun& run, std::vector<Tensor>& temps) {
  if (run.keep_alive)
    for (Tensor& t : temps) run.keep_alive->push_back(std::move(t));
  temps.clear();
}

}  // namespace

template <class T>
std::shared_ptr<CudnnLstmSaved> cudnn_lstm_forward(const LstmConfig& cfg, const T* x,
                                                   const T* kernel, const T* recurrent_kernel,
                                                   const T* bias, const uint8_t* mask, T* out,
                                                   bool save, const LstmRun& run) {
  EMBER_CHECK_ARG(cfg.batch >= 1 && cfg.steps >= 1 && cfg.input >= 1 && cfg.hidden >= 1,
                  "lstm (cuDNN): need B, T, C, H >= 1");
  EMBER_CHECK_ARG(cfg.dropout >= 0.0 && cfg.dropout < 1.0,
                  "lstm (cuDNN): dropout " << cfg.dropout << " is not in [0, 1)");
  const std::string why = cudnn_lstm_unsupported(cfg);
  EMBER_CHECK_ARG(why.empty(), "lstm: implementation 'cudnn' cannot honour " << why);
  EMBER_CHECK_ARG(x && kernel && recurrent_kernel && out,
                  "lstm (cuDNN): x, kernel, recurrent_kernel and out are required");
  EMBER_CHECK_ARG(
      cfg.batch * std::max<int64_t>(cfg.steps, 1) * std::max(cfg.input, 4 * cfg.hidden) <
          (int64_t{1} << 31),
      "lstm (cuDNN): B*T*max(C,4H) must stay below 2^31");
  check_run(run);
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden;
  const DType dt = dtype_of<T>();
  const Device dev = Device::cuda(run.device);
  cudaStream_t st = run.stream;
  StreamDnn& dnn = dnn_for(run.device, st);
  std::vector<Tensor> temps;

  // The plan needs the mask on the host: one copy and one stream synchronization.
  std::vector<uint8_t> host_mask;
  if (mask) {
    host_mask.resize(static_cast<size_t>(nb * nt));
    EMBER_CUDA_CHECK(
        cudaMemcpyAsync(host_mask.data(), mask, host_mask.size(), cudaMemcpyDeviceToHost, st));
    EMBER_CUDA_CHECK(cudaStreamSynchronize(st));
  }
  const CudnnLstmPlan plan = cudnn_lstm_plan(cfg, mask ? host_mask.data() : nullptr);
  // One device buffer: [lengths (B) | x_map (B*L) | out_map (B*P)].
  std::vector<int32_t> maps(plan.lengths);
  maps.insert(maps.end(), plan.x_map.begin(), plan.x_map.end());
  maps.insert(maps.end(), plan.out_map.begin(), plan.out_map.end());

  auto s = std::make_shared<CudnnLstmSaved>();
  s->cfg = cfg;
  s->dtype = dt;
  s->device = run.device;
  s->max_len = plan.max_len;
  s->positions = plan.positions;
  s->identity_x = plan.identity_x;
  s->has_bias = bias != nullptr;
  s->lengths = plan.lengths;
  s->maps = Tensor::empty(Shape{static_cast<int64_t>(maps.size())}, DType::kInt32, dev);
  // Pageable source: the call returns once the bytes are staged, so `maps` may then go.
  EMBER_CUDA_CHECK(
      cudaMemcpyAsync(s->maps.raw(), maps.data(), s->maps.nbytes(), cudaMemcpyHostToDevice, st));
  const int32_t* dev_lengths = s->maps.data<int32_t>();
  const int32_t* out_map = dev_lengths + nb + nb * plan.max_len;
  describe<T>(*s, dnn.dropout);

  // Weights: Keras [K,4H] -> cuDNN's per-gate matrices; bias into the input bias, the
  // recurrent bias zero.
  size_t w_bytes = 0;
  EMBER_CUDNN_CHECK(cudnnGetRNNWeightSpaceSize(dnn.handle, s->rnn.get(), &w_bytes));
  s->weights = Tensor::empty(Shape{static_cast<int64_t>(w_bytes)}, DType::kUInt8, dev);
  EMBER_CUDA_CHECK(cudaMemsetAsync(s->weights.raw(), 0, w_bytes, st));
  locate_weights<T>(*s, dnn.handle, s->weights.raw(), w_bytes);
  T* w = static_cast<T*>(s->weights.raw());
  keras_to_cudnn<T>(kernel, w, s->mat[0], nc, nh, st);
  keras_to_cudnn<T>(recurrent_kernel, w, s->mat[1], nh, nh, st);
  keras_to_cudnn<T>(bias, w, s->bias[0], 1, nh, st);  // null: zeros
  keras_to_cudnn<T>(nullptr, w, s->bias[1], 1, nh, st);

  // Input dropout (the reference's draw), then the gather into cuDNN's layout.
  if (cfg.dropout > 0.0) {
    s->x_scale = Tensor::empty(Shape{nb, nc}, dt, dev);
    dropout_factors<T>(s->x_scale.data<T>(), nb * nc, cfg.dropout, cfg.seed, cfg.offset,
                       cfg.first_row * static_cast<uint64_t>(nc), st);
  }
  const T* xp = cudnn_input<T>(*s, x, s->x_scale, temps, st);

  const cudnnForwardMode_t mode = save ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE;
  size_t reserve_bytes = 0;
  EMBER_CUDNN_CHECK(cudnnGetRNNTempSpaceSizes(dnn.handle, s->rnn.get(), mode, s->x_desc.get(),
                                              &s->work_bytes, &reserve_bytes));
  s->reserve_bytes = save ? reserve_bytes : 0;
  temps.push_back(Tensor::empty(Shape{static_cast<int64_t>(std::max<size_t>(s->work_bytes, 1))},
                                DType::kUInt8, dev));
  void* work = temps.back().raw();
  if (save)
    s->reserve = Tensor::empty(Shape{static_cast<int64_t>(std::max<size_t>(reserve_bytes, 1))},
                               DType::kUInt8, dev);
  s->y = Tensor::empty(Shape{nb, plan.max_len, nh}, dt, dev);
  EMBER_CUDNN_CHECK(cudnnRNNForward(dnn.handle, s->rnn.get(), mode, dev_lengths, s->x_desc.get(),
                                    xp, s->y_desc.get(), s->y.raw(), s->h_desc.get(), nullptr,
                                    nullptr, s->h_desc.get(), nullptr, nullptr, w_bytes,
                                    s->weights.raw(), s->work_bytes, work, save ? reserve_bytes : 0,
                                    save ? s->reserve.raw() : nullptr));

  // Keras outputs: each position repeats the cuDNN row out_map names (or is 0).
  gather_time_rows<T>(s->y.data<T>(), plan.max_len, out_map, out, nb, plan.positions, nh, st);

  if (!save) {
    temps.push_back(s->maps);
    temps.push_back(s->weights);
    temps.push_back(s->y);
    temps.push_back(s->x_scale);
    finish(run, temps);
    return nullptr;
  }
  finish(run, temps);
  return s;
}

template <class T>
void cudnn_lstm_backward(const LstmConfig& cfg, const T* x, const CudnnLstmSaved& s, const T* d_out,
                         T* d_x, T* d_kernel, T* d_recurrent_kernel, T* d_bias,
                         const LstmRun& run) {
  if (!d_x && !d_kernel && !d_recurrent_kernel && !d_bias) return;
  EMBER_CHECK_ARG(s.dtype == dtype_of<T>() && s.device == run.device,
                  "lstm backward (cuDNN): saved state of another dtype or device");
  EMBER_CHECK_ARG(s.cfg.batch == cfg.batch && s.cfg.steps == cfg.steps &&
                      s.cfg.input == cfg.input && s.cfg.hidden == cfg.hidden,
                  "lstm backward (cuDNN): saved state of another shape");
  EMBER_CHECK_ARG(!d_bias || s.has_bias, "lstm backward (cuDNN): d_bias without a bias");
  EMBER_CHECK_ARG(x && d_out, "lstm backward (cuDNN): x and d_out are required");
  check_run(run);
  const int64_t nb = cfg.batch, nt = cfg.steps, nc = cfg.input, nh = cfg.hidden;
  const DType dt = dtype_of<T>();
  const Device dev = Device::cuda(run.device);
  cudaStream_t st = run.stream;
  StreamDnn& dnn = dnn_for(run.device, st);
  std::vector<Tensor> temps;
  const int32_t* dev_lengths = s.maps.data<int32_t>();
  const int32_t* x_map = dev_lengths + nb;
  const int32_t* out_map = x_map + nb * s.max_len;
  const size_t w_bytes = s.weights.nbytes();

  // d_y[b,k] = sum of the output gradients of every position that repeated cuDNN row k.
  temps.push_back(Tensor::empty(Shape{nb, s.max_len, nh}, dt, dev));
  T* dy = temps.back().data<T>();
  sum_time_rows<T>(d_out, s.positions, out_map, dy, s.max_len, nb, nh, st);
  temps.push_back(Tensor::empty(Shape{nb, s.max_len, nc}, dt, dev));
  T* dxp = temps.back().data<T>();
  temps.push_back(Tensor::empty(Shape{static_cast<int64_t>(std::max<size_t>(s.work_bytes, 1))},
                                DType::kUInt8, dev));
  void* work = temps.back().raw();
  void* reserve = s.reserve.raw();
  const size_t reserve_bytes = s.reserve_bytes;
  // Backward data must run before backward weights (it leaves its results in the reserve).
  EMBER_CUDNN_CHECK(cudnnRNNBackwardData_v8(
      dnn.handle, s.rnn.get(), dev_lengths, s.y_desc.get(), s.y.raw(), dy, s.x_desc.get(), dxp,
      s.h_desc.get(), nullptr, nullptr, nullptr, s.h_desc.get(), nullptr, nullptr, nullptr, w_bytes,
      s.weights.raw(), s.work_bytes, work, reserve_bytes, reserve));
  if (d_kernel || d_recurrent_kernel || d_bias) {
    const T* xp = cudnn_input<T>(s, x, s.x_scale, temps, st);
    temps.push_back(Tensor::empty(Shape{static_cast<int64_t>(w_bytes)}, DType::kUInt8, dev));
    T* dw = static_cast<T*>(temps.back().raw());
    EMBER_CUDA_CHECK(cudaMemsetAsync(dw, 0, w_bytes, st));
    EMBER_CUDNN_CHECK(cudnnRNNBackwardWeights_v8(dnn.handle, s.rnn.get(), CUDNN_WGRAD_MODE_ADD,
                                                 dev_lengths, s.x_desc.get(), xp, s.h_desc.get(),
                                                 nullptr, s.y_desc.get(), s.y.raw(), w_bytes, dw,
                                                 s.work_bytes, work, reserve_bytes, reserve));
    // Back to Keras's layout, accumulating. The two cuDNN biases get the same gradient (their
    // sum is Keras's bias); the input one is taken.
    if (d_kernel) cudnn_to_keras_add<T>(dw, d_kernel, s.mat[0], nc, nh, st);
    if (d_recurrent_kernel) cudnn_to_keras_add<T>(dw, d_recurrent_kernel, s.mat[1], nh, nh, st);
    if (d_bias) cudnn_to_keras_add<T>(dw, d_bias, s.bias[0], 1, nh, st);
  }
  // d_x at the times the cuDNN steps read, times the dropout factor.
  if (d_x)
    scatter_add_time_rows<T>(dxp, s.max_len, x_map,
                             s.x_scale.defined() ? s.x_scale.data<T>() : nullptr, d_x, nt, nb, nc,
                             st);
  finish(run, temps);
}

EMBER_INSTANTIATE_CUDNN_LSTM(float)
EMBER_INSTANTIATE_CUDNN_LSTM(double)

}  // namespace ember::cuda

#endif  // EMBER_HAVE_CUDA && !EMBER_CUDA_EMU
