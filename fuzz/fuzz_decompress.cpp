// libFuzzer target for decompress_bytes: gzip (single and multi-member, padding) and xz
// (concatenated streams) inputs, corrupt or not, must either decode or throw ember::Error;
// the output is capped at 16 MiB so that bombs are rejected rather than reported as OOM. A
// successful decode is parsed once as CSV, the way read_table would use it.
#include <cstdint>
#include <string>

#include "engine/core/check.h"
#include "engine/data/reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    std::string text = ember::data::decompress_bytes(bytes, "fuzz", size_t{16} << 20);
    ember::data::ReadOptions o;
    o.on_bad_row = ember::data::BadRows::kSkip;
    (void)ember::data::parse_table(text, "fuzz", o);
  } catch (const ember::Error&) {
  }
  return 0;
}
