// Hashes and the rank-0 comparison of fingerprint.h.
#include "engine/dist/fingerprint.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ember::dist {

namespace {

// Parts travel as name \x1f value \x1f detail \x1e ... (config text never holds these bytes
// in a value: values are hashes and numbers; details are only shown).
std::string pack(const Fingerprint& f) {
  std::string s;
  for (const Part& p : f) s += p.name + '\x1f' + p.value + '\x1f' + p.detail + '\x1e';
  return s;
}

Fingerprint unpack(const std::string& s) {
  Fingerprint f;
  std::istringstream in(s);
  for (std::string rec; std::getline(in, rec, '\x1e');) {
    Part p;
    std::istringstream r(rec);
    std::getline(r, p.name, '\x1f');
    std::getline(r, p.value, '\x1f');
    std::getline(r, p.detail, '\x1f');
    f.push_back(p);
  }
  return f;
}

}  // namespace

// 8 bytes at a time: xor a word in, multiply by an odd constant, fold the high half down
// (FNV's idea on words: fast enough for a 100 MB executable, and every byte moves the result).
uint64_t hash_bytes(const void* data, size_t n, uint64_t more) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t h = more ^ 0xcbf29ce484222325ULL ^ (static_cast<uint64_t>(n) * 0x9e3779b97f4a7c15ULL);
  auto mix = [&](uint64_t w) {
    h ^= w;
    h *= 0xff51afd7ed558ccdULL;  // odd: the multiply is a bijection
    h ^= h >> 29;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    mix(w);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  mix(tail ^ (static_cast<uint64_t>(n - i) << 56));
  return h;
}

std::string hash_hex(const void* data, size_t n) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_bytes(data, n)));
  return buf;
}

std::string hash_tensors(const std::vector<Tensor>& ts) {
  uint64_t h = 0;
  for (const Tensor& t : ts) {
    if (!t.defined()) {
      h = hash_bytes("undefined", 9, h);
      continue;
    }
    const std::string shape = t.shape().str() + dtype_name(t.dtype());
    h = hash_bytes(shape.data(), shape.size(), h);
    const Tensor host = t.to(Device::cpu());
    h = hash_bytes(host.raw(), host.nbytes(), h);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

const std::string& executable_hash() {
  static const std::string id = [] {
    std::ifstream f("/proc/self/exe", std::ios::binary);
    if (!f) return std::string("unknown (cannot read /proc/self/exe)");
    std::ostringstream bytes;
    bytes << f.rdbuf();
    const std::string b = bytes.str();
    return hash_hex(b.data(), b.size()) + " (" + std::to_string(b.size()) + " bytes)";
  }();
  return id;
}

void check_same_on_all_ranks(Communicator& comm, const Fingerprint& mine, const std::string& what) {
  const std::vector<std::string> all = comm.allgather(pack(mine), what);
  const Fingerprint ref = unpack(all[0]);
  std::ostringstream err;
  int bad = 0;
  for (size_t r = 1; r < all.size(); ++r) {
    const Fingerprint f = unpack(all[r]);
    for (size_t i = 0; i < ref.size(); ++i) {
      const Part* p = i < f.size() ? &f[i] : nullptr;
      if (p && p->name == ref[i].name && p->value == ref[i].value) continue;
      err << (bad++ ? "; " : "") << "rank " << r << " differs from rank 0 in its " << ref[i].name
          << " (" << (p ? p->value : std::string("missing"))
          << (p && !p->detail.empty() ? ", " + p->detail : "") << " vs " << ref[i].value
          << (ref[i].detail.empty() ? "" : ", " + ref[i].detail) << ")";
      break;  // the first difference per rank says enough
    }
  }
  if (bad)
    throw Error(
        what + ": " + err.str() +
        ". Every rank must run the same ember build with the same config, options and data.");
}

}  // namespace ember::dist
