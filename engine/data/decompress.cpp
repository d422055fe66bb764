// Reading a data file whole and decompressing it by its magic bytes: gzip (zlib inflate with
// automatic header detection, concatenated members and zero padding accepted, as gzip -d and
// Python's gzip module do) and xz (liblzma stream decoder, concatenated streams). Output goes
// straight into one std::string sized from the stream's own record of its length (xz index,
// gzip ISIZE) so a 67 MB file is not copied through doubling reallocations; the record is only
// a hint, capped, because a corrupt file can claim anything.
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

#include "engine/core/check.h"
#include "engine/data/reader.h"

namespace ember::data {
namespace {

enum class Compression { kNone, kGzip, kXz };

constexpr unsigned char kGzipMagic[] = {0x1f, 0x8b};
constexpr unsigned char kXzMagic[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
constexpr size_t kMinChunk = size_t{1} << 16;

bool starts_with(std::string_view data, size_t pos, const unsigned char* magic, size_t n) {
  return data.size() - std::min(pos, data.size()) >= n &&
         std::memcmp(data.data() + pos, magic, n) == 0;
}

Compression detect(std::string_view data, const std::string& source) {
  if (starts_with(data, 0, kGzipMagic, sizeof kGzipMagic)) return Compression::kGzip;
  if (starts_with(data, 0, kXzMagic, sizeof kXzMagic)) return Compression::kXz;
  // Formats we do not read: say so rather than parse binary as text.
  static constexpr unsigned char kZstd[] = {0x28, 0xb5, 0x2f, 0xfd};
  static constexpr unsigned char kZip[] = {'P', 'K', 0x03, 0x04};
  static constexpr unsigned char kBzip2[] = {'B', 'Z', 'h'};
  const char* other = nullptr;
  if (starts_with(data, 0, kZstd, sizeof kZstd)) other = "zstd";
  if (starts_with(data, 0, kZip, sizeof kZip)) other = "zip";
  if (starts_with(data, 0, kBzip2, sizeof kBzip2) && data.size() >= 10 &&
      data.substr(4, 6) == "1AY&SY")
    other = "bzip2";
  if (other)
    throw Error(source + ": " + other + "-compressed data is not supported; decompress it or " +
                "recompress it with gzip or xz");
  return Compression::kNone;
}

// "x.gz: decompresses to more than 1 MiB (the limit, data.max_file_mb; raise it if the file
// is genuine)". Limits are shown in MiB when whole ones, else in bytes.
[[noreturn]] void over_limit(const std::string& source, const char* verb, size_t limit,
                             const std::string& limit_name) {
  const std::string amount = limit % (size_t{1} << 20) == 0 ? std::to_string(limit >> 20) + " MiB"
                                                            : std::to_string(limit) + " bytes";
  throw Error(source + ": " + verb + " more than " + amount +
              (limit_name.empty() ? std::string()
                                  : " (the limit, " + limit_name +
                                        "; raise it if the file is "
                                        "genuine)"));
}

// The output buffer: filled in place by the decoder, grown by half when full, never past
// limit + 1 bytes (one byte over the limit is how we learn the limit was exceeded).
class OutBuffer {
 public:
  OutBuffer(size_t hint, size_t limit, const std::string& source, const std::string& limit_name)
      : limit_(limit), source_(source), limit_name_(limit_name) {
    out_.resize(std::min(std::max(hint, kMinChunk), cap()));
  }
  // Free space after the used part, growing first when there is none.
  char* space(size_t* n) {
    if (used_ == out_.size()) {
      if (out_.size() >= cap()) too_big();
      size_t grown = out_.size() + std::max(out_.size() / 2, kMinChunk);
      out_.resize(std::min(grown, cap()));
    }
    *n = out_.size() - used_;
    return out_.data() + used_;
  }
  void produced(size_t n) {
    used_ += n;
    if (used_ > limit_) too_big();
  }
  std::string take() {
    out_.resize(used_);
    // A hint that was far too large would otherwise hold its memory while the text is parsed.
    if (out_.capacity() > used_ + used_ / 4 + kMinChunk) out_.shrink_to_fit();
    return std::move(out_);
  }

 private:
  size_t cap() const { return limit_ == SIZE_MAX ? SIZE_MAX : limit_ + 1; }
  [[noreturn]] void too_big() const { over_limit(source_, "decompresses to", limit_, limit_name_); }
  std::string out_;
  size_t used_ = 0;
  size_t limit_;
  const std::string& source_;
  const std::string& limit_name_;
};

// Corrupt files may claim any length; trust the claim up to a generous compression ratio.
size_t cap_hint(uint64_t claimed, size_t compressed) {
  uint64_t bound = uint64_t{64} * compressed + (uint64_t{1} << 20);
  return static_cast<size_t>(std::min<uint64_t>(claimed, bound)) + 4096;
}

[[noreturn]] void corrupt(const std::string& source, const char* kind) {
  throw Error(source + ": corrupt or truncated " + kind + " data");
}

std::string gunzip(std::string_view in, const std::string& source, size_t limit,
                   const std::string& limit_name) {
  // ISIZE, the last member's length mod 2^32: exact for the usual single-member file.
  uint64_t isize = 0;
  if (in.size() >= 18)
    for (int i = 1; i <= 4; ++i)
      isize = (isize << 8) | static_cast<unsigned char>(in[in.size() - i]);  // little-endian
  OutBuffer out(cap_hint(isize ? isize : 3 * in.size(), in.size()), limit, source, limit_name);

  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw Error(source + ": cannot initialise zlib");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  size_t pos = 0;
  for (;;) {
    size_t room = 0;
    char* dst = out.space(&room);
    size_t in_chunk = std::min<size_t>(in.size() - pos, UINT_MAX);
    size_t out_chunk = std::min<size_t>(room, UINT_MAX);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    zs.avail_in = static_cast<uInt>(in_chunk);
    zs.next_out = reinterpret_cast<Bytef*>(dst);
    zs.avail_out = static_cast<uInt>(out_chunk);
    int rc = inflate(&zs, Z_NO_FLUSH);
    pos += in_chunk - zs.avail_in;
    out.produced(out_chunk - zs.avail_out);
    if (rc == Z_STREAM_END) {
      // Another member may follow, possibly after zero padding; anything else is damage.
      while (pos < in.size() && in[pos] == '\0') ++pos;
      if (pos == in.size()) break;
      if (!starts_with(in, pos, kGzipMagic, sizeof kGzipMagic)) corrupt(source, "gzip");
      if (inflateReset(&zs) != Z_OK) corrupt(source, "gzip");
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;  // output full: grow and go on
    if (rc == Z_MEM_ERROR) throw Error(source + ": out of memory while decompressing");
    corrupt(source, "gzip");  // Z_BUF_ERROR with input used up: truncated; or Z_DATA_ERROR
  }
  return out.take();
}

// Uncompressed size recorded in the index of the (last) xz stream, or 0 when it cannot be read.
uint64_t xz_recorded_size(std::string_view in) {
  size_t end = in.size();
  while (end >= 4 && std::memcmp(in.data() + end - 4, "\0\0\0\0", 4) == 0) end -= 4;  // padding
  if (end < 2 * LZMA_STREAM_HEADER_SIZE) return 0;
  lzma_stream_flags flags;
  const auto* footer = reinterpret_cast<const uint8_t*>(in.data() + end - LZMA_STREAM_HEADER_SIZE);
  if (lzma_stream_footer_decode(&flags, footer) != LZMA_OK) return 0;
  if (flags.backward_size > end - 2 * LZMA_STREAM_HEADER_SIZE) return 0;
  const auto* index = footer - flags.backward_size;
  lzma_index* idx = nullptr;
  uint64_t memlimit = uint64_t{1} << 26;
  size_t in_pos = 0;
  if (lzma_index_buffer_decode(&idx, &memlimit, nullptr, index, &in_pos, flags.backward_size) !=
      LZMA_OK)
    return 0;
  uint64_t size = lzma_index_uncompressed_size(idx);
  lzma_index_end(idx, nullptr);
  return size;
}

std::string unxz(std::string_view in, const std::string& source, size_t limit,
                 const std::string& limit_name) {
  uint64_t recorded = xz_recorded_size(in);
  OutBuffer out(cap_hint(recorded ? recorded : 3 * in.size(), in.size()), limit, source,
                limit_name);
  uint64_t memlimit =
      limit == SIZE_MAX ? UINT64_MAX : std::max<uint64_t>(limit, uint64_t{256} << 20);
  lzma_stream xs = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&xs, memlimit, LZMA_CONCATENATED) != LZMA_OK)
    throw Error(source + ": cannot initialise the xz decoder");
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&xs, lzma_end);
  xs.next_in = reinterpret_cast<const uint8_t*>(in.data());
  xs.avail_in = in.size();
  for (;;) {
    size_t room = 0;
    char* dst = out.space(&room);
    xs.next_out = reinterpret_cast<uint8_t*>(dst);
    xs.avail_out = room;
    lzma_ret rc = lzma_code(&xs, LZMA_FINISH);
    out.produced(room - xs.avail_out);
    if (rc == LZMA_STREAM_END) break;
    if (rc == LZMA_OK) continue;
    if (rc == LZMA_BUF_ERROR && xs.avail_out == 0) continue;
    if (rc == LZMA_MEM_ERROR) throw Error(source + ": out of memory while decompressing");
    if (rc == LZMA_MEMLIMIT_ERROR)
      throw Error(source + ": xz data needs more than " + std::to_string(memlimit >> 20) +
                  " MiB to decompress");
    corrupt(source, "xz");  // LZMA_DATA_ERROR, LZMA_FORMAT_ERROR, LZMA_BUF_ERROR (truncated)...
  }
  return out.take();
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::string decompress_bytes(std::string_view data, const std::string& source, size_t max_bytes,
                             const std::string& limit_name) {
  switch (detect(data, source)) {
    case Compression::kGzip:
      return gunzip(data, source, max_bytes, limit_name);
    case Compression::kXz:
      return unxz(data, source, max_bytes, limit_name);
    case Compression::kNone:
      break;
  }
  if (data.size() > max_bytes) over_limit(source, "holds", max_bytes, limit_name);
  return std::string(data);
}

std::string read_file_bytes(const std::string& path, size_t max_bytes,
                            const std::string& limit_name) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    int err = errno;
    throw Error("cannot open data file '" + path + "': " + std::strerror(err));
  }
  // Read straight into the string, sized from the file when it is seekable (one spare byte
  // lets the first read see the end); pipes and /dev/stdin fall back to growing.
  std::string raw;
  size_t used = 0;
  long size = std::fseek(f.get(), 0, SEEK_END) == 0 ? std::ftell(f.get()) : -1;
  std::rewind(f.get());
  // Refused before reading: compressed data is (all but always) smaller than its text.
  if (size > 0 && static_cast<size_t>(size) > max_bytes)
    over_limit(path, "holds", max_bytes, limit_name);
  raw.resize(size > 0 ? static_cast<size_t>(size) + 1 : kMinChunk);
  for (;;) {
    if (used == raw.size()) raw.resize(raw.size() * 2);
    size_t got = std::fread(raw.data() + used, 1, raw.size() - used, f.get());
    used += got;
    if (got == 0) break;
  }
  if (std::ferror(f.get())) throw Error("cannot read data file '" + path + "'");
  raw.resize(used);
  if (detect(raw, path) == Compression::kNone) {  // no copy for plain files
    if (raw.size() > max_bytes) over_limit(path, "holds", max_bytes, limit_name);
    return raw;
  }
  return decompress_bytes(raw, path, max_bytes, limit_name);
}

}  // namespace ember::data
