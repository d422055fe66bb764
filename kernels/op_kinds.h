// The closed sets an op takes as an argument: which activation a Dense or Activation layer
// applies, and which LSTM kernels run on CUDA tensors (see layers/functional.h). They live
// with the kernels because the dispatch (kernels/*_dispatch.h) switches on them; the config
// parses their names once (engine/config/layer_options.h) and the layers pass them down.
#pragma once

namespace ember::fn {

enum class Activation { kLinear, kRelu, kSigmoid, kTanh, kSoftmax };
enum class LstmImpl { kAuto, kReference, kFused, kCudnn, kPersistent };

}  // namespace ember::fn
