// Error macros. Library code reports misuse by throwing, never by exit(): the CLI's main()
// turns exceptions into a message and an exit code. Messages carry file:line and, where
// shapes are involved, the shapes themselves (callers format them with Shape::str()).
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace ember {

// A user-facing error (bad config, bad data). main() prints what() without a stack of context.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
[[noreturn]] void throw_invalid_argument(const char* file, int line, const std::string& msg);
[[noreturn]] void throw_runtime(const char* file, int line, const std::string& msg);
}  // namespace detail

}  // namespace ember

// EMBER_CHECK_ARG(cond, "what" << shape.str()): throws std::invalid_argument naming the site.
#define EMBER_CHECK_ARG(cond, msg)                                                   \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::ostringstream ember_msg_;                                                 \
      ember_msg_ << msg;                                                             \
      ::ember::detail::throw_invalid_argument(__FILE__, __LINE__, ember_msg_.str()); \
    }                                                                                \
  } while (0)

// EMBER_CHECK(cond, msg): an internal invariant; throws std::runtime_error.
#define EMBER_CHECK(cond, msg)                                              \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::ostringstream ember_msg_;                                        \
      ember_msg_ << msg;                                                    \
      ::ember::detail::throw_runtime(__FILE__, __LINE__, ember_msg_.str()); \
    }                                                                       \
  } while (0)
