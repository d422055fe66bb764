// Philox4x32-10 counter-based RNG (Salmon et al., SC'11), usable from host and device code.
// A draw is a pure function of (seed, offset, element index): the CPU reference and CUDA
// kernels compute identical dropout masks with no shared state. Element i reads lane i%4 of
// the block at counter (i/4, offset); the key is the 64-bit seed. `offset` separates streams:
// dropout_offset(step, layer, slot) gives every (training step, layer, mask) its own.
#pragma once

#include <cstdint>

#include "engine/cuda/index.h"  // EMBER_HD

namespace ember {

struct Philox4x32 {
  uint32_t v[4];
};

EMBER_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// The raw generator: 10 rounds over a 128-bit counter with a 64-bit key.
EMBER_HD Philox4x32 philox4x32_10(Philox4x32 ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    uint32_t hi0, hi1;
    uint32_t lo0 = philox_mulhilo(kM0, ctr.v[0], &hi0);
    uint32_t lo1 = philox_mulhilo(kM1, ctr.v[2], &hi1);
    ctr = Philox4x32{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// The 4 words of block `block` in stream (seed, offset).
EMBER_HD Philox4x32 philox_block(uint64_t seed, uint64_t offset, uint64_t block) {
  Philox4x32 ctr{{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                  static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)}};
  return philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// 32 random bits for element i of stream (seed, offset).
EMBER_HD uint32_t philox_bits(uint64_t seed, uint64_t offset, uint64_t i) {
  return philox_block(seed, offset, i >> 2).v[i & 3];
}

// Uniform in [0, 1) with 24 bits, exact in float: the same value on host and device.
EMBER_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  return static_cast<float>(philox_bits(seed, offset, i) >> 8) * (1.0f / 16777216.0f);
}

// Dropout keeps element i with probability 1 - rate. rate >= 1 drops everything.
EMBER_HD bool dropout_keep(uint64_t seed, uint64_t offset, uint64_t i, float rate) {
  return philox_uniform(seed, offset, i) >= rate;
}

// Stream id for a mask: 2^16 slots per step, 2^12 layers, 16 masks per layer (an LSTM uses 2,
// a Bidirectional 4). Distinct (step, layer, slot) never share a stream.
EMBER_HD uint64_t dropout_offset(uint64_t step, uint32_t layer, uint32_t slot) {
  return (step << 16) | (static_cast<uint64_t>(layer & 0xFFFu) << 4) | (slot & 0xFu);
}

}  // namespace ember
