// Regular-file check (see regular_file.h).
#include "engine/core/regular_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "engine/core/check.h"

namespace ember {

void require_regular_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    throw Error(path + ": cannot open " + what +
                (err == ENOENT ? std::string("(no such file)")
                               : "(" + std::string(std::strerror(err)) + ")"));
  }
  if (S_ISREG(st.st_mode)) return;
  const char* kind = S_ISDIR(st.st_mode)    ? nullptr
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "an unusual file type";
  if (!kind) throw Error(path + ": " + what + "is a directory, not a file");
  throw Error(path + ": " + what + "is not a regular file (it is " + kind + ")");
}

}  // namespace ember
