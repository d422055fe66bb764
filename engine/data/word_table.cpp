// WordTable: linear probing over a power-of-two array of 16-byte slots. The low hash bits pick
// the slot; a slot matches when its length+hash bits and 8-byte head agree, and keys longer
// than 8 bytes are then compared in full in the arena. Growth rehashes from the arena.
#include "engine/data/word_table.h"

#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

namespace ember::data {
namespace {

uint64_t hash_key(std::string_view key) {
  return static_cast<uint64_t>(std::hash<std::string_view>{}(key));
}

uint64_t head_of(std::string_view key) {
  uint64_t head = 0;
  std::memcpy(&head, key.data(), key.size() < 8 ? key.size() : 8);
  return head;
}

uint32_t meta_of(std::string_view key, uint64_t hash) {
  const size_t len = key.size() < 255 ? key.size() : 255;
  return static_cast<uint32_t>(len << 24) | static_cast<uint32_t>(hash >> 40);
}

}  // namespace

size_t WordTable::probe(std::string_view key, uint64_t hash, uint64_t head, uint32_t meta) const {
  const size_t mask = slots_.size() - 1;
  for (size_t s = static_cast<size_t>(hash) & mask;; s = (s + 1) & mask) {
    const Slot& slot = slots_[s];
    if (slot.id1 == 0) return s;
    if (slot.meta == meta && slot.head == head &&
        (key.size() <= 8 || this->key(static_cast<int32_t>(slot.id1 - 1)) == key)) {
      return s;
    }
  }
}

int32_t WordTable::find(std::string_view key) const {
  if (slots_.empty()) return kMissing;
  const uint64_t h = hash_key(key);
  const Slot& slot = slots_[probe(key, h, head_of(key), meta_of(key, h))];
  return slot.id1 == 0 ? kMissing : static_cast<int32_t>(slot.id1 - 1);
}

int32_t WordTable::insert(std::string_view key, bool* inserted) {
  if ((size() + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash_key(key);
  const uint64_t head = head_of(key);
  const uint32_t meta = meta_of(key, h);
  Slot& slot = slots_[probe(key, h, head, meta)];
  if (slot.id1 != 0) {
    *inserted = false;
    return static_cast<int32_t>(slot.id1 - 1);
  }
  if (size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max() - 1)) {
    throw std::length_error("WordTable: more than 2^31 - 2 distinct words");
  }
  const auto id = static_cast<int32_t>(size());
  arena_.append(key.data(), key.size());
  offsets_.push_back(arena_.size());
  slot = Slot{head, static_cast<uint32_t>(id) + 1, meta};
  *inserted = true;
  return id;
}

void WordTable::grow() {
  const size_t capacity = slots_.empty() ? 1024 : slots_.size() * 2;
  slots_.assign(capacity, Slot{});
  const size_t mask = capacity - 1;
  for (size_t id = 0; id < size(); ++id) {
    const std::string_view k = key(static_cast<int32_t>(id));
    const uint64_t h = hash_key(k);
    size_t s = static_cast<size_t>(h) & mask;
    while (slots_[s].id1 != 0) s = (s + 1) & mask;
    slots_[s] = Slot{head_of(k), static_cast<uint32_t>(id) + 1, meta_of(k, h)};
  }
}

void WordTable::clear() {
  arena_.clear();
  offsets_.assign(1, 0);
  slots_.clear();
}

}  // namespace ember::data
