// Out-of-line throw helpers for check.h, so that every check site stays one compare and a call.
#include "engine/core/check.h"

#include <string_view>

namespace ember::detail {

namespace {

// The source tree's root as the build names it: this file is <root>/engine/core/check.cpp, and
// every source and header of the tree is compiled or included under the same root ("" if the
// build names this file otherwise: then sites keep their whole path).
std::string_view source_root() {
  static const std::string_view root = [] {
    const std::string_view self = __FILE__, tail = "engine/core/check.cpp";
    if (self.size() < tail.size() || self.substr(self.size() - tail.size()) != tail)
      return std::string_view();
    return self.substr(0, self.size() - tail.size());
  }();
  return root;
}

// "engine/core/tensor.cpp:12", not the build's absolute path, whatever folders the checkout
// sits in (a folder named tests/ or engine/ above it included).
std::string site(const char* file, int line) {
  std::string_view f = file;
  const std::string_view root = source_root();
  if (f.substr(0, root.size()) == root) f.remove_prefix(root.size());
  return std::string(f) + ":" + std::to_string(line);
}

}  // namespace

void throw_invalid_argument(const char* file, int line, const std::string& msg) {
  throw std::invalid_argument(msg + " (" + site(file, line) + ")");
}

void throw_runtime(const char* file, int line, const std::string& msg) {
  throw std::runtime_error(msg + " (" + site(file, line) + ")");
}

}  // namespace ember::detail
