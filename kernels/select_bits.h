// Branch-free selects on float and double for the CPU loops that apply dropout factors. A
// float `keep ? x * f : 0` under GCC's default -ftrapping-math stays a branch (the product
// may not be evaluated where it is not selected), which stops the loop from vectorizing; the
// product formed unconditionally and selected by an and/or of its bits does not. A dropped
// inf or NaN still gives exactly 0, as the mask says.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ember::ref {

template <class T>
using SelectBits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

// c ? a : b, without a branch.
template <class T>
inline T select_bits(bool c, T a, T b) {
  using U = SelectBits<T>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const U m = U{0} - static_cast<U>(c);
  const U r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

}  // namespace ember::ref
