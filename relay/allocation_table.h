// Every allocation of one Server, each stored once (issue 13 item 4: at most 1 KB per allocation).
//
// Records live in chunks of kChunk and never move while they live (channel records point at an
// allocation's meter), named by a 32-bit handle: the lowest free one is taken, so records stay packed at
// the start and a chunk left empty is given back. Two indexes hold handles only (relay/handle_index.h),
// reading their keys back from the records:
//   - by client 5-tuple: RFC 8656 §2.2, the 5-tuple names the allocation on every client request;
//   - by relay port: a datagram on a relay socket names only the port (Data indications), and port
//     picking asks whether a port is held.
// So the 56-byte tuple is stored once, in the record, and each index costs 4-6 bytes per allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "relay/allocation.h"
#include "relay/handle_index.h"

namespace rdv::relay {

class AllocationTable {
 public:
  // Every allocation holds a relay port, and a node has at most 2 x 65,536 of them: far below this.
  static constexpr uint32_t kMaxAllocations = HandleIndex::kMaxValue / 2;

  AllocationTable() = default;
  AllocationTable(const AllocationTable&) = delete;
  AllocationTable& operator=(const AllocationTable&) = delete;
  ~AllocationTable();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  Allocation* find(const ClientTuple& tuple);
  const Allocation* find(const ClientTuple& tuple) const;
  // The allocation that holds relay socket `relay`, or nullptr.
  Allocation* findByRelay(RelayPort relay);
  bool holdsRelay(RelayPort relay) const;
  // The live allocation with this handle, or nullptr (ended, or never used).
  Allocation* at(AllocationHandle handle);

  // Stores `a` and indexes it by its tuple and its relay ports (none of them indexed yet), setting
  // a.handle. The returned record keeps its address until erase().
  Allocation& insert(Allocation&& a);
  // Removes the record and its index entries; `a` is destroyed.
  void erase(Allocation& a);

  // Every live allocation, lowest handle first. `f` must not insert or erase (collect handles first).
  template <typename F>
  void forEach(F&& f) {
    for (size_t w = 0; w < live_.size(); ++w) {
      for (uint64_t bits = live_[w]; bits != 0; bits &= bits - 1) {
        f(*slot(static_cast<AllocationHandle>(w * 64 + static_cast<size_t>(__builtin_ctzll(bits)))));
      }
    }
  }
  template <typename F>
  void forEach(F&& f) const {
    const_cast<AllocationTable*>(this)->forEach([&](const Allocation& a) { f(a); });
  }

 private:
  static constexpr uint32_t kChunk = 256;
  struct Chunk {
    alignas(Allocation) std::byte bytes[kChunk * sizeof(Allocation)];
    uint32_t live = 0;
  };

  Allocation* slot(AllocationHandle h) const;
  bool isLive(AllocationHandle h) const { return h / 64 < live_.size() && (live_[h / 64] >> (h % 64) & 1) != 0; }
  AllocationHandle takeHandle();
  size_t tupleHashOf(uint32_t value) const;
  size_t relayHashOf(uint32_t value) const;

  std::vector<std::unique_ptr<Chunk>> chunks_;  // nullptr: every handle of that chunk is free
  std::vector<uint64_t> live_;                  // one bit per handle
  size_t firstFreeWord_ = 0;                    // no free handle below word firstFreeWord_ of live_
  size_t size_ = 0;
  HandleIndex byTuple_;  // value: handle
  HandleIndex byRelay_;  // value: handle * 2 + which of its relays
};

}  // namespace rdv::relay
