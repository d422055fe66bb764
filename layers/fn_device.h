// Helpers the autograd ops (layers/fn_*.cpp) share to run on a CUDA device: the same-device
// check with a message naming the op and both devices, moving host-side index/label tensors to
// the op's device, and scratch buffers from the caching allocator. The device's stream and
// cuBLAS handle travel in a kern::Exec (engine/core/exec.h), which picks the backend.
#pragma once

#include <cstddef>

#include "engine/core/tensor.h"

namespace ember::fn::detail {

// Throws std::invalid_argument "<op>: <what_a> is on <dev a> but <what_b> is on <dev b>"
// unless both defined tensors are on the same device (undefined ones are ignored).
void check_same_device(const Tensor& a, const Tensor& b, const char* op, const char* what_a,
                       const char* what_b);
// `t` on `dev`: itself when already there, else a copy (host -> device copies are synchronous).
Tensor to_device(const Tensor& t, Device dev);
// `bytes` of device scratch on `dev` (at least 1 byte), from the caching allocator.
Tensor scratch(size_t bytes, Device dev);

}  // namespace ember::fn::detail
