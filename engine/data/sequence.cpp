// pad_sequences (see sequence.h).
#include "engine/data/sequence.h"

#include <algorithm>

namespace ember {

const char* pad_side_name(PadSide s) {
  return s == PadSide::kPre ? "pre" : "post";
}

Tensor pad_sequences(const std::vector<std::vector<int32_t>>& seqs, int64_t maxlen, PadSide padding,
                     PadSide truncating, int32_t value) {
  EMBER_CHECK_ARG(maxlen > 0, "pad_sequences: maxlen must be positive, got " << maxlen);
  const int64_t n = static_cast<int64_t>(seqs.size());
  Tensor out;
  try {
    out = Tensor::full({n, maxlen}, DType::kInt32, value);
  } catch (const AllocationError& e) {
    throw AllocationError("padding " + std::to_string(n) + " sequences to maxlen " +
                          std::to_string(maxlen) + ": " + e.what());
  }
  int32_t* d = out.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) {
    const auto& s = seqs[i];
    const int64_t len = static_cast<int64_t>(s.size());
    const int64_t keep = std::min(len, maxlen);
    const int64_t src = (len > maxlen && truncating == PadSide::kPre) ? len - maxlen : 0;
    const int64_t dst = padding == PadSide::kPre ? maxlen - keep : 0;
    std::copy_n(s.begin() + src, keep, d + i * maxlen + dst);
  }
  return out;
}

}  // namespace ember
