// Fleet-wide quotas (rendezvous/fleet/quota_sync.h): the tracker's increments (pure), and the quota
// script against the test's own redis-server with two "nodes" (two node ids on two connections): each
// sees the other's allocations and bytes, not its own; a node that stops ticking stops counting.
#include <gtest/gtest.h>

#include <thread>

#include "rendezvous/fleet/quota_sync.h"
#include "tests/fleet/redis_server.h"

namespace rdv::fleet {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;

const std::string kNodeA(64, 'a');
const std::string kNodeB(64, 'b');
constexpr int64_t kDay = 20'000;

TEST(QuotaTracker, SendsIncrementsOnceAndTheFirstSnapshotCountsAsSent) {
  QuotaTracker tracker;
  // At start the ledger seeded 500 bytes today: the previous run sent them already.
  auto first = tracker.increments({{"node/x", 0, 500}}, kDay);
  EXPECT_TRUE(first.empty());
  tracker.commit(first, kDay);
  auto next = tracker.increments({{"node/x", 2, 800}, {"rest/y", 0, 40}}, kDay);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].key, "node/x");
  EXPECT_EQ(next[0].allocations, 2);
  EXPECT_EQ(next[0].bytes, 300u);
  EXPECT_EQ(next[1].allocations, -1);
  EXPECT_EQ(next[1].bytes, 40u);
  // Not committed (Redis away): the same increments again, with what came meanwhile.
  auto retry = tracker.increments({{"node/x", 2, 900}, {"rest/y", 0, 40}}, kDay);
  ASSERT_EQ(retry.size(), 2u);
  EXPECT_EQ(retry[0].bytes, 400u);
  tracker.commit(retry, kDay);
  EXPECT_TRUE(tracker.increments({{"node/x", 2, 900}, {"rest/y", 0, 40}}, kDay).empty());
  // The others' bytes: the fleet's total minus what this node sent.
  auto others = tracker.others({{"node/x", 3, 1500}, {"rest/z", 1, 7}}, kDay);
  ASSERT_EQ(others.size(), 2u);
  EXPECT_EQ(others[0].bytesToday, 600u);
  EXPECT_EQ(others[0].allocations, 3u);
  EXPECT_EQ(others[1].bytesToday, 7u);
  // The book forgot x (no allocation, swept): Redis is told its allocations are 0.
  auto gone = tracker.increments({{"rest/y", 0, 40}}, kDay);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].key, "node/x");
  EXPECT_EQ(gone[0].allocations, 0);
  // A new day: bytes count from zero.
  tracker.commit(gone, kDay);
  auto tomorrow = tracker.increments({{"rest/y", 0, 10}}, kDay + 1);
  ASSERT_EQ(tomorrow.size(), 1u);
  EXPECT_EQ(tomorrow[0].bytes, 10u);
}

std::unique_ptr<RedisClient> client(const RedisServer& redis) {
  auto url = parseRedisUrl(redis.url());
  EXPECT_TRUE(url);
  return std::make_unique<RedisClient>(*url, 500ms);
}

const QuotaTotals* find(const QuotaRound& r, const std::string& key) {
  for (const auto& t : r.totals)
    if (t.key == key) return &t;
  return nullptr;
}

TEST(QuotaScript, EachNodeSeesTheOthersAllocationsAndTheFleetsBytes) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = client(redis), b = client(redis);
  const Keys keys("q");
  auto ra = syncQuotas(*a, keys, kNodeA, kDay, 0, {{"node/x", 2, 1000}}, {});
  ASSERT_TRUE(ra) << ra.error().message;
  const QuotaTotals* xa = find(*ra, "node/x");
  ASSERT_NE(xa, nullptr);
  EXPECT_EQ(xa->othersAllocations, 0u);  // its own allocations are not the others'
  EXPECT_EQ(xa->fleetBytes, 1000u);
  // B never saw x: the change since its (empty) cursor brings it.
  auto rb = syncQuotas(*b, keys, kNodeB, kDay, 0, {{"node/x", 1, 50}}, {});
  ASSERT_TRUE(rb) << rb.error().message;
  const QuotaTotals* xb = find(*rb, "node/x");
  ASSERT_NE(xb, nullptr);
  EXPECT_EQ(xb->othersAllocations, 2u);
  EXPECT_EQ(xb->fleetBytes, 1050u);
  // A, from its cursor: x changed at B.
  auto ra2 = syncQuotas(*a, keys, kNodeA, kDay, ra->cursor, {}, {});
  ASSERT_TRUE(ra2);
  ASSERT_NE(find(*ra2, "node/x"), nullptr);
  EXPECT_EQ(find(*ra2, "node/x")->othersAllocations, 1u);
  // Nothing changed since: an empty answer, unless asked to refresh.
  auto ra3 = syncQuotas(*a, keys, kNodeA, kDay, ra2->cursor + 1, {}, {});
  ASSERT_TRUE(ra3);
  EXPECT_EQ(find(*ra3, "node/x"), nullptr);
  auto ra4 = syncQuotas(*a, keys, kNodeA, kDay, ra3->cursor + 1, {}, {"node/x", "node/never"});
  ASSERT_TRUE(ra4);
  ASSERT_NE(find(*ra4, "node/x"), nullptr);
  EXPECT_EQ(find(*ra4, "node/x")->othersAllocations, 1u);
  ASSERT_NE(find(*ra4, "node/never"), nullptr);
  EXPECT_EQ(find(*ra4, "node/never")->fleetBytes, 0u);
  // Every key carries the fleet's hash tag.
  EXPECT_EQ(redis.command("EXISTS rdv:{q}:qa:node/x"), ":1");
  EXPECT_EQ(redis.command("GET rdv:{q}:qb:20000:node/x").rfind("$", 0), 0u);
}

TEST(QuotaScript, ANodeThatStopsTickingStopsCountingAllocations) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = client(redis), b = client(redis);
  const Keys keys("q");
  ASSERT_TRUE(syncQuotas(*a, keys, kNodeA, kDay, 0, {{"node/x", 3, 10}}, {}));
  auto seen = syncQuotas(*b, keys, kNodeB, kDay, 0, {}, {"node/x"});
  ASSERT_TRUE(seen);
  ASSERT_NE(find(*seen, "node/x"), nullptr);
  EXPECT_EQ(find(*seen, "node/x")->othersAllocations, 3u);
  // A is gone (killed): after kQuotaNodeTimeout its allocations no longer count; its bytes still do.
  std::this_thread::sleep_for(kQuotaNodeTimeout + 300ms);
  auto later = syncQuotas(*b, keys, kNodeB, kDay, 0, {}, {"node/x"});
  ASSERT_TRUE(later);
  ASSERT_NE(find(*later, "node/x"), nullptr);
  EXPECT_EQ(find(*later, "node/x")->othersAllocations, 0u);
  EXPECT_EQ(find(*later, "node/x")->fleetBytes, 10u);
  // A node telling 0 allocations removes its field.
  ASSERT_TRUE(syncQuotas(*a, keys, kNodeA, kDay, 0, {{"node/x", 0, 0}}, {}));
  EXPECT_EQ(redis.command("EXISTS rdv:{q}:qa:node/x"), ":0");
}

}  // namespace
}  // namespace rdv::fleet
