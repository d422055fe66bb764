// safetensors reading and writing (see safetensors.h).
#include "engine/io/safetensors.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/core/regular_file.h"

namespace ember {

namespace {
using json = nlohmann::json;

// A header larger than this is not one we wrote (nor a sane one): refuse before allocating.
constexpr uint64_t kMaxHeader = 100u << 20;

const char* st_dtype(DType d) {
  switch (d) {
    case DType::kFloat32:
      return "F32";
    case DType::kFloat64:
      return "F64";
    case DType::kInt32:
      return "I32";
    case DType::kUInt8:
      return "U8";
  }
  return "?";
}

bool parse_dtype(const std::string& s, DType* d) {
  if (s == "F32")
    *d = DType::kFloat32;
  else if (s == "F64")
    *d = DType::kFloat64;
  else if (s == "I32")
    *d = DType::kInt32;
  else if (s == "U8")
    *d = DType::kUInt8;
  else
    return false;
  return true;
}

[[noreturn]] void bad(const std::string& source, const std::string& what) {
  throw Error(source + ": not a valid safetensors file: " + what);
}

uint32_t crc32_of(const void* data, size_t n) {
  return static_cast<uint32_t>(crc32_z(crc32_z(0, nullptr, 0), static_cast<const Bytef*>(data), n));
}

std::string crc_hex(const Tensor& host) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", crc32_of(host.raw(), host.nbytes()));
  return buf;
}

// Checks every tensor against the metadata's ember.crc32 and removes the key; returns whether
// there was one.
bool verify_checksums(SafetensorsFile& f, const std::string& source) {
  auto it = f.metadata.find(kChecksumKey);
  if (it == f.metadata.end()) return false;
  json crcs;
  try {
    crcs = json::parse(it->second);
  } catch (const json::exception& e) {
    bad(source, std::string("__metadata__.") + kChecksumKey + " is not JSON (" + e.what() + ")");
  }
  if (!crcs.is_object())
    bad(source, std::string("__metadata__.") + kChecksumKey + " is not a JSON object");
  for (const auto& [name, t] : f.tensors) {
    auto c = crcs.find(name);
    if (c == crcs.end() || !c->is_string())
      bad(source, "tensor '" + name + "' has no checksum in " + kChecksumKey);
    const std::string got = crc_hex(t);
    if (c->get<std::string>() != got)
      throw Error(source + ": tensor '" + name + "' fails its checksum (CRC-32 " + got +
                  ", the file records " + c->get<std::string>() +
                  "): the file is damaged; use another copy or an earlier checkpoint");
  }
  for (auto c = crcs.begin(); c != crcs.end(); ++c)
    if (!f.find(c.key())) bad(source, "checksum for tensor '" + c.key() + "', which is absent");
  f.metadata.erase(it);
  return true;
}
}  // namespace

const Tensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

std::string serialize_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                  const std::map<std::string, std::string>& metadata,
                                  bool checksums) {
  std::vector<Tensor> host;
  host.reserve(tensors.size());
  for (const auto& [name, t] : tensors) host.push_back(t.to(Device::cpu()));
  std::map<std::string, std::string> meta = metadata;
  if (checksums) {
    json crcs = json::object();
    for (size_t i = 0; i < tensors.size(); ++i) crcs[tensors[i].first] = crc_hex(host[i]);
    meta[kChecksumKey] = crcs.dump();
  }
  json header = json::object();
  if (!meta.empty()) header["__metadata__"] = meta;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    EMBER_CHECK_ARG(!name.empty() && name != "__metadata__" && names.insert(name).second,
                    "safetensors: tensor name '" << name << "' is empty, reserved or repeated");
    json shape = json::array();
    for (int i = 0; i < t.ndim(); ++i) shape.push_back(t.size(i));
    header[name] = {{"dtype", st_dtype(t.dtype())},
                    {"shape", shape},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // data starts 8-byte aligned, as the reference writer
  std::string out(8, '\0');
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += h;
  out.reserve(out.size() + offset);
  for (const Tensor& t : host) out.append(static_cast<const char*>(t.raw()), t.nbytes());
  return out;
}

void write_file_atomically(const std::string& path, std::string_view bytes) {
  // A temporary name no other writer uses: two processes (or threads) writing one file would
  // otherwise truncate each other's half-written temporary and one rename would find it gone.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error("cannot write " + tmp + ": is the directory writable?");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw Error("writing " + tmp + " failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
}

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomically(path, serialize_safetensors(tensors, metadata));
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& source) {
  if (bytes.size() < 8) bad(source, "only " + std::to_string(bytes.size()) + " bytes (truncated?)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  if (n > kMaxHeader || n < 2) bad(source, "header size " + std::to_string(n) + " is implausible");
  if (8 + n > bytes.size())
    bad(source, "header needs " + std::to_string(n) + " bytes but the file has " +
                    std::to_string(bytes.size() - 8) + " after the size (truncated)");
  json header;
  try {
    header = json::parse(bytes.substr(8, n));
  } catch (const json::exception& e) {
    bad(source, std::string("header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) bad(source, "header is not a JSON object");
  const std::string_view data = bytes.substr(8 + n);

  SafetensorsFile f;
  struct Entry {
    uint64_t begin, end;
    std::string name;
    DType dtype;
    Shape shape;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) bad(source, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) bad(source, "__metadata__." + m.key() + " is not a string");
        f.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets") || !v["dtype"].is_string() || !v["shape"].is_array() ||
        !v["data_offsets"].is_array() || v["data_offsets"].size() != 2)
      bad(source, "entry '" + name + "' lacks dtype, shape or data_offsets");
    Entry e;
    e.name = name;
    if (!parse_dtype(v["dtype"].get<std::string>(), &e.dtype))
      bad(source, "entry '" + name + "' has unsupported dtype " + v["dtype"].get<std::string>());
    if (v["shape"].size() > static_cast<size_t>(Shape::kMaxDims))
      bad(source, "entry '" + name + "' has more than 4 dimensions");
    int64_t d[4] = {0, 0, 0, 0};
    uint64_t numel = 1;
    for (size_t i = 0; i < v["shape"].size(); ++i) {
      const json& x = v["shape"][i];
      if (!x.is_number_unsigned() || x.get<uint64_t>() > (uint64_t{1} << 40))
        bad(source, "entry '" + name + "' has a bad dimension");
      d[i] = x.get<int64_t>();
      numel *= static_cast<uint64_t>(d[i]);
      if (numel > (uint64_t{1} << 40)) bad(source, "entry '" + name + "' is implausibly large");
    }
    switch (v["shape"].size()) {
      case 0:
        e.shape = Shape{};
        break;
      case 1:
        e.shape = Shape{d[0]};
        break;
      case 2:
        e.shape = Shape{d[0], d[1]};
        break;
      case 3:
        e.shape = Shape{d[0], d[1], d[2]};
        break;
      default:
        e.shape = Shape{d[0], d[1], d[2], d[3]};
        break;
    }
    const json& off = v["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad(source, "entry '" + name + "' has bad data_offsets");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.begin > e.end || e.end > data.size())
      bad(source, "entry '" + name + "' points outside the data (truncated?)");
    if (e.end - e.begin != numel * dtype_size(e.dtype))
      bad(source, "entry '" + name + "' has " + std::to_string(e.end - e.begin) +
                      " bytes for shape " + e.shape.str());
    entries.push_back(e);
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end)
      bad(source, "entries '" + entries[i - 1].name + "' and '" + entries[i].name + "' overlap");
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    if (e.end > e.begin) std::memcpy(t.raw(), data.data() + e.begin, e.end - e.begin);
    f.tensors.emplace_back(e.name, std::move(t));
  }
  f.checksummed = verify_checksums(f, source);
  return f;
}

SafetensorsFile load_safetensors(const std::string& path) {
  require_regular_file(path, "");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (does it exist?)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_safetensors(bytes, path);
}

}  // namespace ember
