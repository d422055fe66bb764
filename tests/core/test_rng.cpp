// Philox4x32-10 against the published Random123 known-answer vectors, and the properties the
// dropout masks rely on: a pure function of (seed, offset, index), streams that differ.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/core/rng.h"

using namespace ember;

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[rng][cpu]") {
  struct Kat {
    Philox4x32 ctr;
    uint32_t k0, k1;
    Philox4x32 expected;
  };
  // Random123 tests/kat_vectors, "philox4x32 10" lines: counter, key, result.
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffff,
       0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0xa4093822,
       0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) {
    Philox4x32 got = philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) CHECK(got.v[i] == k.expected.v[i]);
  }
}

TEST_CASE("philox element i reads lane i%4 of block i/4", "[rng][cpu]") {
  const uint64_t seed = 0x0123456789abcdefULL, offset = 0xfedcba9876543210ULL;
  for (uint64_t i : {0ULL, 1ULL, 2ULL, 3ULL, 4ULL, 7ULL, 1000001ULL, (1ULL << 34) + 5}) {
    Philox4x32 ctr{{static_cast<uint32_t>(i / 4), static_cast<uint32_t>((i / 4) >> 32),
                    static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)}};
    Philox4x32 block =
        philox4x32_10(ctr, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
    CHECK(philox_bits(seed, offset, i) == block.v[i % 4]);
  }
}

TEST_CASE("uniforms lie in [0,1) and dropout keeps about 1-rate", "[rng][cpu]") {
  const int n = 200000;
  double sum = 0;
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    float u = philox_uniform(42, 7, i);
    REQUIRE(u >= 0.0f);
    REQUIRE(u < 1.0f);
    sum += u;
    kept += dropout_keep(42, 7, i, 0.3f);
  }
  CHECK(std::fabs(sum / n - 0.5) < 0.005);
  CHECK(std::fabs(kept / double(n) - 0.7) < 0.005);
  // rate 0 keeps all, rate 1 drops all.
  for (int i = 0; i < 1000; ++i) {
    CHECK(dropout_keep(1, 2, i, 0.0f));
    CHECK_FALSE(dropout_keep(1, 2, i, 1.0f));
  }
}

TEST_CASE("distinct (step, layer, slot) give distinct streams", "[rng][cpu]") {
  CHECK(dropout_offset(0, 0, 0) != dropout_offset(0, 0, 1));
  CHECK(dropout_offset(0, 1, 0) != dropout_offset(0, 0, 1));
  CHECK(dropout_offset(1, 0, 0) != dropout_offset(0, 0, 0));
  CHECK(dropout_offset(3, 4095, 15) < dropout_offset(4, 0, 0));
  int same = 0;
  for (int i = 0; i < 256; ++i)
    same +=
        philox_bits(9, dropout_offset(5, 2, 0), i) == philox_bits(9, dropout_offset(5, 2, 1), i);
  CHECK(same < 2);
  // Same inputs, same bits: the property CPU/GPU parity rests on.
  CHECK(philox_bits(9, 77, 12345) == philox_bits(9, 77, 12345));
}
