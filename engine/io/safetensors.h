// safetensors files: an 8-byte little-endian header size N, N bytes of JSON naming each tensor's
// dtype, shape and [begin, end) byte range in the data that follows, then the data. Other tools
// (Python's safetensors, PyTorch) read what this writes; Ember's own files carry a checksum
// per tensor (below). Writing goes through a temporary file
// and a rename, so a crash never leaves a half-written file under the real name. Reading checks
// everything before touching the data: a truncated, corrupted or foreign file is an error that
// says which, and no offset is trusted until it is inside the file.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/tensor.h"

namespace ember {

// Checksums: Ember stores each tensor's CRC-32 (zlib's, the gzip polynomial) in the metadata
// key "ember.crc32" as one JSON string {"name": "8 hex digits", ...}, so the file stays a
// plain safetensors file for other readers. Reading verifies every tensor against it and
// refuses a mismatch naming the tensor; a file without the key (an older Ember's, another
// tool's) loads with checksummed = false, for the caller to warn about.
constexpr const char* kChecksumKey = "ember.crc32";

struct SafetensorsFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in file order (sorted by offset)
  std::map<std::string, std::string> metadata;          // "__metadata__" less ember.crc32
  bool checksummed = false;                             // every tensor was verified by its CRC-32
  const Tensor* find(const std::string& name) const;    // null when absent
};

// Serialises CPU tensors (copies CUDA ones to the host first). Names must be unique and
// non-empty; "__metadata__" is reserved. With `checksums` (the default) the metadata gains
// ember.crc32, replacing any such key in `metadata`; without, `metadata` is written as given.
std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata,
                                  bool checksums = true);
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata);

// Throws ember::Error naming `source` and what is wrong. load_safetensors refuses a path that
// is a directory or not a regular file (a FIFO, /dev/null) with that reason.
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source);
SafetensorsFile load_safetensors(const std::string& path);

// Writes `bytes` to `path` via a temporary `path.tmp.<pid>.<n>`, unique to this call, and a
// rename (POSIX-atomic on one file system): concurrent writers never share a temporary, and
// the last rename wins whole.
void write_file_atomically(const std::string& path, std::string_view bytes);

}  // namespace ember
