// safetensors files: an 8-byte little-endian header size N, N bytes of JSON naming each tensor's
// dtype, shape and [begin, end) byte range in the data that follows, then the data. Other tools
// (Python's safetensors, PyTorch) read what this writes. Writing goes through a temporary file
// and a rename, so a crash never leaves a half-written file under the real name. Reading checks
// everything before touching the data: a truncated, corrupted or foreign file is an error that
// says which, and no offset is trusted until it is inside the file.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ember {

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order (sorted by offset)
  std::map<std::string, std::string> metadata;          // "__metadata__": string -> string
  const Tensor* find(const std::string& name) const;    // null when absent
};

// Serialises CPU tensors (copies CUDA ones to the host first). Names must be unique and
// non-empty; "__metadata__" is reserved.
std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata);
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata);

// Throws ember::Error naming `source` and what is wrong.
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source);
SafetensorsFile load_safetensors(const std::string& path);

// Writes `bytes` to `path` via a temporary `path.tmp.<pid>.<n>`, unique to this call, and a
// rename (POSIX-atomic on one file system): concurrent writers never share a temporary, and
// the last rename wins whole.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace ember
