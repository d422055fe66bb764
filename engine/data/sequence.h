// Keras pad_sequences: every sequence becomes exactly maxlen ids. Longer ones lose tokens at
// the front ('pre' truncating, the default) or the back ('post'); shorter ones get `value` at
// the front ('pre' padding, the default) or the back ('post').
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/tensor.h"

namespace ember {

// Returns [N, maxlen] int32. padding/truncating: "pre" or "post" (anything else throws).
Tensor pad_sequences(const std::vector<std::vector<int32_t>>& seqs, int64_t maxlen,
                     const std::string& padding = "pre", const std::string& truncating = "pre",
                     int32_t value = 0);

}  // namespace ember
