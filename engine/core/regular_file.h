// One check for every file Ember reads whole (configs, data files, bundles, checkpoints): it
// must exist and be a regular file. A directory would otherwise surface as a stream error
// ("basic_filebuf::underflow"), a FIFO would block forever and /dev/null would read as an
// empty file; each gets a message saying which it is. Symbolic links are followed.
#pragma once

#include <string>

namespace ember {

// Throws ember::Error "<path>: cannot open <what>(no such file)", "<path>: <what>is a
// directory, not a file" or "<path>: <what>is not a regular file (it is a FIFO|a character
// device|...)". `what` names the file's role with a trailing space ("data file "), or is "".
void require_regular_file(const std::string& path, const std::string& what);

}  // namespace ember
