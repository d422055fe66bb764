// Start-up agreement between the ranks of a data-parallel job. Each rank describes itself as
// named parts (the config text's hash, the executable's hash, the world size, the training
// options; later the data's and the initial weights' hashes); rank 0's description is the
// reference, and any rank that differs is refused before a step runs, with an error naming
// the rank and what differs. Hashes are 64-bit (not cryptographic: they catch mistakes, such
// as a stale binary on one machine or an edited config, not adversaries).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dist/comm.h"

namespace ember::dist {

struct Part {
  std::string name;    // "config", "executable", ...
  std::string value;   // compared between ranks
  std::string detail;  // shown beside the value in the error (a path, a size)
};
using Fingerprint = std::vector<Part>;

// 16 hex digits of a 64-bit hash of the bytes; `more` continues a previous hash.
std::string hash_hex(const void* data, size_t n);
uint64_t hash_bytes(const void* data, size_t n, uint64_t more = 0);
// The hash of every tensor's bytes in order (copied to the host when needed), with shapes.
std::string hash_tensors(const std::vector<Tensor>& ts);
// The hash of this process's executable file (/proc/self/exe) and its size: two ranks run the
// same build iff these agree. Computed once.
const std::string& executable_hash();

// Every rank passes its own parts in the same order; throws ember::Error on every rank (the
// same message) when a rank's parts differ from rank 0's. `what` says what is being checked.
void check_same_on_all_ranks(Communicator& comm, const Fingerprint& mine, const std::string& what);

}  // namespace ember::dist
