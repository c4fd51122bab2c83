#include "relay/allocation_table.h"

#include <cassert>
#include <new>
#include <utility>

namespace rdv::relay {

AllocationTable::~AllocationTable() {
  forEach([](Allocation& a) { a.~Allocation(); });
}

Allocation* AllocationTable::slot(AllocationHandle h) const {
  Chunk* chunk = chunks_[h / kChunk].get();
  return std::launder(reinterpret_cast<Allocation*>(chunk->bytes) + h % kChunk);
}

size_t AllocationTable::tupleHashOf(uint32_t value) const { return std::hash<ClientTuple>{}(slot(value)->tuple()); }

size_t AllocationTable::relayHashOf(uint32_t value) const {
  return std::hash<RelayPort>{}(slot(value / 2)->info.relays[value % 2]);
}

Allocation* AllocationTable::find(const ClientTuple& tuple) {
  const uint32_t h = byTuple_.find(std::hash<ClientTuple>{}(tuple),
                                   [&](uint32_t value) { return slot(value)->tuple() == tuple; });
  return h == HandleIndex::kNone ? nullptr : slot(h);
}

const Allocation* AllocationTable::find(const ClientTuple& tuple) const {
  return const_cast<AllocationTable*>(this)->find(tuple);
}

Allocation* AllocationTable::findByRelay(RelayPort relay) {
  const uint32_t v = byRelay_.find(std::hash<RelayPort>{}(relay),
                                   [&](uint32_t value) { return slot(value / 2)->info.relays[value % 2] == relay; });
  return v == HandleIndex::kNone ? nullptr : slot(v / 2);
}

bool AllocationTable::holdsRelay(RelayPort relay) const {
  return const_cast<AllocationTable*>(this)->findByRelay(relay) != nullptr;
}

Allocation* AllocationTable::at(AllocationHandle handle) { return isLive(handle) ? slot(handle) : nullptr; }

// The lowest free handle: records stay packed in the first chunks, and later chunks empty out.
AllocationHandle AllocationTable::takeHandle() {
  size_t w = firstFreeWord_;
  while (w < live_.size() && live_[w] == ~uint64_t{0}) ++w;
  if (w == live_.size()) live_.push_back(0);
  firstFreeWord_ = w;
  const auto h = static_cast<AllocationHandle>(w * 64 + static_cast<size_t>(__builtin_ctzll(~live_[w])));
  assert(h < kMaxAllocations);
  live_[w] |= uint64_t{1} << (h % 64);
  if (h / kChunk >= chunks_.size()) chunks_.resize(h / kChunk + 1);
  if (!chunks_[h / kChunk]) chunks_[h / kChunk] = std::make_unique<Chunk>();
  ++chunks_[h / kChunk]->live;
  return h;
}

Allocation& AllocationTable::insert(Allocation&& a) {
  const AllocationHandle h = takeHandle();
  Allocation* stored = new (slot(h)) Allocation(std::move(a));
  stored->handle = h;
  ++size_;
  byTuple_.insert(std::hash<ClientTuple>{}(stored->tuple()), h, [this](uint32_t v) { return tupleHashOf(v); });
  for (uint8_t i = 0; i < stored->info.relayCount; ++i) {
    byRelay_.insert(std::hash<RelayPort>{}(stored->info.relays[i]), h * 2 + i,
                    [this](uint32_t v) { return relayHashOf(v); });
  }
  return *stored;
}

void AllocationTable::erase(Allocation& a) {
  const AllocationHandle h = a.handle;
  assert(isLive(h) && slot(h) == &a);
  for (uint8_t i = 0; i < a.info.relayCount; ++i) {
    byRelay_.erase(std::hash<RelayPort>{}(a.info.relays[i]), h * 2 + i, [this](uint32_t v) { return relayHashOf(v); });
  }
  byTuple_.erase(std::hash<ClientTuple>{}(a.tuple()), h, [this](uint32_t v) { return tupleHashOf(v); });
  a.~Allocation();
  live_[h / 64] &= ~(uint64_t{1} << (h % 64));
  if (h / 64 < firstFreeWord_) firstFreeWord_ = h / 64;
  --size_;
  if (--chunks_[h / kChunk]->live == 0) chunks_[h / kChunk].reset();  // give the empty chunk back
}

}  // namespace rdv::relay
