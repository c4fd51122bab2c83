// A hash index that stores small integers (handles into a table of records) and nothing else: the key of
// an entry is read back from its record through the caller's functions, so a key stored in the record is
// never stored twice (issue 13 item 4: the 56-byte client 5-tuple lived both in a map's key and in its
// value). Open addressing in one array of 32-bit slots, linear probing, deletion by backward shift (no
// tombstones), at most 70 % full: 4-6 bytes per entry instead of a heap node per entry.
//
// A slot holds a 24-bit value and 8 bits of the key's hash, so a probe compares records only when those
// 8 bits match. Values are below kMaxValue.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rdv::relay {

class HandleIndex {
 public:
  static constexpr uint32_t kMaxValue = (1u << 24) - 1;  // exclusive: 0xFFFFFF marks an empty slot
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  // The value whose key has hash `hash` and satisfies `matches(value)`, or kNone.
  template <typename Matches>
  uint32_t find(size_t hash, Matches&& matches) const {
    if (slots_.empty()) return kNone;
    const uint64_t mixed = mix(hash);
    const uint32_t tag = tagOf(mixed);
    for (size_t i = home(mixed);; i = (i + 1) & mask()) {
      const uint32_t slot = slots_[i];
      if (slot == kEmpty) return kNone;
      if ((slot >> 24) == tag && matches(slot & kValueMask)) return slot & kValueMask;
    }
  }

  // Adds `value` under `hash` (the caller has checked that its key is not present). `hashOf(value)` gives
  // the hash of any stored value's key (to move entries when the array grows).
  template <typename HashOf>
  void insert(size_t hash, uint32_t value, HashOf&& hashOf) {
    assert(value < kMaxValue);
    if ((size_ + 1) * 10 > slots_.size() * 7) grow(hashOf);
    place(mix(hash), value);
    ++size_;
  }

  // Removes the entry `value` stored under `hash`. False: not present.
  template <typename HashOf>
  bool erase(size_t hash, uint32_t value, HashOf&& hashOf) {
    if (slots_.empty()) return false;
    const uint64_t mixed = mix(hash);
    size_t i = home(mixed);
    for (;; i = (i + 1) & mask()) {
      const uint32_t slot = slots_[i];
      if (slot == kEmpty) return false;
      if ((slot & kValueMask) == value) break;
    }
    // Backward shift: move later entries of the run into the hole when their home allows it, so lookups
    // never need a tombstone to keep probing.
    for (size_t j = i;;) {
      j = (j + 1) & mask();
      const uint32_t slot = slots_[j];
      if (slot == kEmpty) break;
      const size_t k = home(mix(hashOf(slot & kValueMask)));
      const bool between = i <= j ? (i < k && k <= j) : (i < k || k <= j);  // k cyclically in (i, j]
      if (between) continue;
      slots_[i] = slot;
      i = j;
    }
    slots_[i] = kEmpty;
    --size_;
    return true;
  }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  static constexpr uint32_t kValueMask = 0x00FFFFFFu;

  // Fibonacci hashing: the caller's hash may be weak in its high bits (a relay port is 17 bits).
  static uint64_t mix(size_t hash) { return static_cast<uint64_t>(hash) * 0x9E3779B97F4A7C15ULL; }
  static uint32_t tagOf(uint64_t mixed) { return static_cast<uint32_t>(mixed >> 24) & 0xFF; }
  size_t home(uint64_t mixed) const { return static_cast<size_t>(mixed >> shift_); }
  size_t mask() const { return slots_.size() - 1; }

  void place(uint64_t mixed, uint32_t value) {
    size_t i = home(mixed);
    while (slots_[i] != kEmpty) i = (i + 1) & mask();
    slots_[i] = (tagOf(mixed) << 24) | value;
  }

  template <typename HashOf>
  void grow(HashOf&& hashOf) {
    std::vector<uint32_t> old(slots_.empty() ? 16 : slots_.size() * 2, kEmpty);
    old.swap(slots_);
    unsigned bits = 0;
    while ((size_t{1} << bits) < slots_.size()) ++bits;
    shift_ = 64 - bits;
    for (const uint32_t slot : old) {
      if (slot != kEmpty) place(mix(hashOf(slot & kValueMask)), slot & kValueMask);
    }
  }

  std::vector<uint32_t> slots_;
  size_t size_ = 0;
  unsigned shift_ = 64;
};

}  // namespace rdv::relay
