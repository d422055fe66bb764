// Out-of-line throw helpers for check.h, so that every check site stays one compare and a call.
#include "engine/core/check.h"

#include <cstring>

namespace ember::detail {

static std::string site(const char* file, int line) {
  // Strip the build's absolute prefix: messages name engine/core/tensor.cpp, not /home/.../engine.
  const char* p = std::strstr(file, "engine/");
  for (const char* dir : {"kernels/", "layers/", "optim/", "tests/", "bench/"}) {
    const char* q = std::strstr(file, dir);
    if (q && (!p || q < p)) p = q;
  }
  return std::string(p ? p : file) + ":" + std::to_string(line);
}

void throw_invalid_argument(const char* file, int line, const std::string& msg) {
  throw std::invalid_argument(msg + " (" + site(file, line) + ")");
}

void throw_runtime(const char* file, int line, const std::string& msg) {
  throw std::runtime_error(msg + " (" + site(file, line) + ")");
}

}  // namespace ember::detail
