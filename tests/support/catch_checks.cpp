// The shared helpers whose bodies are Catch2 assertions (declared in test_util.h). Kept out of
// test_util.cpp, which the benchmarks link for its seeded fills without Catch2's implementation.
#include <catch2/catch.hpp>

#include "tests/support/test_util.h"

namespace ember::test {

void check_config_errors(const std::vector<ConfigErrorCase>& cases) {
  for (const ConfigErrorCase& c : cases) {
    INFO("yaml:\n" << c.yaml);
    CHECK(config_error_of(c.yaml) == c.error);
  }
}

}  // namespace ember::test
