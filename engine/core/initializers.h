// Keras weight initializers, drawn from Philox so that a seed fixes every weight:
// glorot_uniform (limit sqrt(6/(fan_in+fan_out))), orthogonal (QR of a normal matrix, signs
// fixed by diag(R), as Keras does), uniform (Keras RandomUniform, ±0.05), zeros, ones.
// unit_forget_bias is applied by the LSTM layer on top of its bias initializer.
#pragma once

#include <cstdint>
#include <string>

#include "engine/core/tensor.h"

namespace ember {

// A sequential stream of draws for initialization: the i-th draw of stream (seed, layer) is
// Philox element i, so weights depend on the seed and the layer's position only.
class InitRng {
 public:
  InitRng(uint64_t seed, uint64_t stream) : seed_(seed), stream_(stream) {}
  double uniform();                  // [0, 1)
  double normal();                   // standard normal, Box-Muller
  InitRng fork(uint64_t sub) const;  // independent sub-stream, e.g. one per parameter

 private:
  uint64_t seed_, stream_, i_ = 0;
};

bool is_known_initializer(const std::string& name);
// Fills t (float32/float64, 2-D treated as [fan_in, fan_out], 1-D as [n]) in place.
void initialize(Tensor& t, const std::string& name, InitRng& rng);

}  // namespace ember
