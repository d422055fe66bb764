// pad_sequences (see sequence.h).
#include "engine/data/sequence.h"

#include <algorithm>

namespace ember {

Tensor pad_sequences(const std::vector<std::vector<int32_t>>& seqs, int64_t maxlen,
                     const std::string& padding, const std::string& truncating, int32_t value) {
  EMBER_CHECK_ARG(maxlen > 0, "pad_sequences: maxlen must be positive, got " << maxlen);
  EMBER_CHECK_ARG(padding == "pre" || padding == "post",
                  "pad_sequences: padding must be 'pre' or 'post', got '" << padding << "'");
  EMBER_CHECK_ARG(truncating == "pre" || truncating == "post",
                  "pad_sequences: truncating must be 'pre' or 'post', got '" << truncating << "'");
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
    const int64_t src = (len > maxlen && truncating == "pre") ? len - maxlen : 0;
    const int64_t dst = padding == "pre" ? maxlen - keep : 0;
    std::copy_n(s.begin() + src, keep, d + i * maxlen + dst);
  }
  return out;
}

}  // namespace ember
