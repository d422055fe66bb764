// Keras pad_sequences: every sequence becomes exactly maxlen ids. Longer ones lose tokens at
// the front ('pre' truncating, the default) or the back ('post'); shorter ones get `value` at
// the front ('pre' padding, the default) or the back ('post').
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace ember {

// Which end of a sequence padding fills and truncation cuts (sequence.padding / truncating).
enum class PadSide { kPre, kPost };
const char* pad_side_name(PadSide s);  // "pre", "post": the config's spelling

// Returns [N, maxlen] int32.
Tensor pad_sequences(const std::vector<std::vector<int32_t>>& seqs, int64_t maxlen,
                     PadSide padding = PadSide::kPre, PadSide truncating = PadSide::kPre,
                     int32_t value = 0);

}  // namespace ember
