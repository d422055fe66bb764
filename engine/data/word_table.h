// WordTable: an open-addressing hash map from byte strings to dense ids 0..size()-1, for the
// tokenizer's hot loop (about 12M lookups to fit IMDB). Keys are copied once, back to back,
// into one arena, so lookups take a string_view and never allocate. Each 16-byte slot holds
// the key's first 8 bytes, its length and 24 hash bits beside the id, so a key of up to 8
// bytes (most words) is matched from the slot alone: one cache miss per lookup, not three.
// Linear probing, load factor at most 1/2, no deletion (clear() empties it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ember::data {

class WordTable {
 public:
  static constexpr int32_t kMissing = -1;

  // The id of `key`, or kMissing.
  int32_t find(std::string_view key) const;
  // The id of `key`, adding it with id size() when absent; *inserted says which happened.
  // Throws std::length_error past 2^31 - 2 keys.
  int32_t insert(std::string_view key, bool* inserted);
  std::string_view key(int32_t id) const {
    const auto i = static_cast<size_t>(id);
    return std::string_view(arena_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  size_t size() const { return offsets_.size() - 1; }
  void clear();

 private:
  struct Slot {
    uint64_t head = 0;  // the key's first 8 bytes, zero-padded
    uint32_t id1 = 0;   // id + 1; 0 = empty
    uint32_t meta = 0;  // min(length, 255) << 24 | 24 bits of the hash
  };
  // Slot index of `key` (its slot, or the empty slot where it would go).
  size_t probe(std::string_view key, uint64_t hash, uint64_t head, uint32_t meta) const;
  void grow();

  std::string arena_;               // every key, in id order
  std::vector<size_t> offsets_{0};  // key i is arena_[offsets_[i], offsets_[i+1])
  std::vector<Slot> slots_;         // power-of-two size
};

}  // namespace ember::data
