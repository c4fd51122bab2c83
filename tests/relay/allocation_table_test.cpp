// AllocationTable (relay/allocation_table.h) and its HandleIndex: records stored once, found by 5-tuple
// and by relay port, handles reused lowest first, empty chunks given back; the index under collisions,
// growth and backward-shift deletion, checked against std::unordered_map as the model.
#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/allocation_table.h"

namespace rdv::relay {
namespace {

ClientTuple tupleOf(uint32_t i) {
  ClientTuple t;
  t.client = Endpoint(IpAddress::v4({10, static_cast<uint8_t>(i >> 16), static_cast<uint8_t>(i >> 8),
                                     static_cast<uint8_t>(i)}),
                      static_cast<uint16_t>(40000 + i % 1000));
  t.server = Endpoint(IpAddress::v4({127, 0, 0, 1}), 3478);
  return t;
}

Allocation allocationOf(uint32_t i, bool dual = false) {
  Allocation a;
  a.info.id = 1000 + i;
  a.info.tuple = tupleOf(i);
  a.info.relays[0] = RelayPort{Family::V4, static_cast<uint16_t>(10000 + i)};
  a.info.relayCount = 1;
  if (dual) a.info.relays[a.info.relayCount++] = RelayPort{Family::V6, static_cast<uint16_t>(10000 + i)};
  return a;
}

TEST(AllocationTable, FindsByTupleAndByEveryRelayPortUntilErased) {
  AllocationTable table;
  EXPECT_EQ(table.find(tupleOf(1)), nullptr);
  Allocation& a = table.insert(allocationOf(1, true));
  table.insert(allocationOf(2));
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(table.find(tupleOf(1)), &a);
  EXPECT_EQ(table.findByRelay(RelayPort{Family::V4, 10001}), &a);
  EXPECT_EQ(table.findByRelay(RelayPort{Family::V6, 10001}), &a);
  EXPECT_EQ(table.findByRelay(RelayPort{Family::V6, 10002}), nullptr) << "allocation 2 holds only IPv4";
  EXPECT_TRUE(table.holdsRelay(RelayPort{Family::V4, 10002}));
  EXPECT_EQ(table.at(a.handle), &a);
  const AllocationHandle h = a.handle;
  table.erase(a);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(table.find(tupleOf(1)), nullptr);
  EXPECT_EQ(table.findByRelay(RelayPort{Family::V4, 10001}), nullptr);
  EXPECT_EQ(table.findByRelay(RelayPort{Family::V6, 10001}), nullptr);
  EXPECT_EQ(table.at(h), nullptr);
  ASSERT_NE(table.find(tupleOf(2)), nullptr);
  EXPECT_EQ(table.find(tupleOf(2))->info.id, 1002u);
}

TEST(AllocationTable, TheLowestFreeHandleIsReusedAndRecordsDoNotMove) {
  AllocationTable table;
  std::vector<Allocation*> records;
  for (uint32_t i = 0; i < 600; ++i) records.push_back(&table.insert(allocationOf(i)));
  for (uint32_t i = 0; i < 600; ++i) {
    EXPECT_EQ(records[i]->handle, i);
    EXPECT_EQ(table.find(tupleOf(i)), records[i]) << "a record keeps its address while the table grows";
  }
  table.erase(*records[300]);
  table.erase(*records[5]);
  EXPECT_EQ(table.insert(allocationOf(1000)).handle, 5u);
  EXPECT_EQ(table.insert(allocationOf(1001)).handle, 300u);
  EXPECT_EQ(table.insert(allocationOf(1002)).handle, 600u);
  size_t seen = 0;
  AllocationHandle last = 0;
  table.forEach([&](const Allocation& a) {
    if (seen++ > 0) {
      EXPECT_GT(a.handle, last) << "lowest handle first";
    }
    last = a.handle;
  });
  EXPECT_EQ(seen, table.size());
}

TEST(AllocationTable, EmptiedChunksAreGivenBackAndRefilled) {
  AllocationTable table;
  std::vector<Allocation*> records;
  for (uint32_t i = 0; i < 1024; ++i) records.push_back(&table.insert(allocationOf(i)));
  for (uint32_t i = 256; i < 1024; ++i) table.erase(*records[i]);  // chunks 1-3 empty: freed
  EXPECT_EQ(table.size(), 256u);
  for (uint32_t i = 0; i < 256; ++i) EXPECT_EQ(table.find(tupleOf(i)), records[i]);
  for (uint32_t i = 2000; i < 2300; ++i) {
    const Allocation& a = table.insert(allocationOf(i));
    EXPECT_EQ(a.handle, 256 + (i - 2000));
    EXPECT_EQ(table.findByRelay(a.info.relays[0]), &a);
  }
}

// Random inserts and erases against a model; a weak hash (every key in a few buckets) exercises long
// probe runs, wrap-around and the backward shift.
TEST(HandleIndex, MatchesAMapUnderRandomInsertsAndErasesWithCollidingHashes) {
  for (const auto& [count, buckets] : {std::pair<size_t, size_t>{5000, size_t{1} << 40}, {400, 7}}) {
    std::vector<uint64_t> keys(count);
    for (size_t i = 0; i < keys.size(); ++i) keys[i] = i * 7919 + 13;
    auto hashOf = [&](uint32_t value) { return static_cast<size_t>(keys[value] % buckets); };
    HandleIndex index;
    std::unordered_map<uint64_t, uint32_t> model;
    std::mt19937 rng(42);
    for (int step = 0; step < 40000; ++step) {
      const auto v = static_cast<uint32_t>(rng() % keys.size());
      const uint64_t key = keys[v];
      if (model.count(key) == 0) {
        index.insert(hashOf(v), v, hashOf);
        model[key] = v;
      } else if (rng() % 2 == 0) {
        EXPECT_TRUE(index.erase(hashOf(v), v, hashOf));
        model.erase(key);
      }
      if (step % 997 == 0 || step == 39999) {
        ASSERT_EQ(index.size(), model.size());
        for (uint32_t u = 0; u < keys.size(); ++u) {
          const uint32_t found = index.find(hashOf(u), [&](uint32_t x) { return keys[x] == keys[u]; });
          ASSERT_EQ(found, model.count(keys[u]) ? u : HandleIndex::kNone) << "buckets " << buckets << " step " << step;
        }
      }
    }
    EXPECT_LE(index.size() * 10, index.capacity() * 7) << "at most 70 % full";
  }
}

}  // namespace
}  // namespace rdv::relay
