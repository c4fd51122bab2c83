// Quotas (issue 7) with a fake clock: GCRA token-bucket maths (bursts, sustained rate, several threads),
// the QuotaBook (classes, members, concurrent allocations, daily budgets, seeding, reloads) and every
// quota scenario through the engine (data cap, daily budget, lifetime cap, rate limits in both
// directions and both framings, 486/508 at Allocate, several workers sharing one book).
#include <atomic>
#include <thread>

#include "relay/credentials.h"
#include "relay/quota.h"
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

constexpr int64_t kSecond = 1'000'000'000;

// ---- GCRA ----

TEST(Gcra, BurstThenSustainedRate) {
  Gcra g;
  g.configure(1000, 5000);  // 1000 B/s, 5000 B of burst
  const int64_t t0 = 1000 * kSecond;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(g.take(1000, t0)) << i;
  EXPECT_FALSE(g.take(1000, t0));
  EXPECT_FALSE(g.take(1, t0));
  // Half a second later: 500 bytes of room.
  EXPECT_FALSE(g.take(501, t0 + kSecond / 2));
  EXPECT_TRUE(g.take(500, t0 + kSecond / 2));
  EXPECT_FALSE(g.take(1, t0 + kSecond / 2));
  // Idle for a long time: the bucket refills to the burst, not beyond.
  EXPECT_TRUE(g.take(5000, t0 + 100 * kSecond));
  EXPECT_FALSE(g.take(1, t0 + 100 * kSecond));
}

TEST(Gcra, ARefusedPacketTakesNothing) {
  Gcra g;
  g.configure(1000, 2000);
  EXPECT_TRUE(g.take(1500, 0));
  EXPECT_FALSE(g.take(600, 0));
  EXPECT_TRUE(g.take(500, 0));
  g.refund(500);
  EXPECT_TRUE(g.take(500, 0));
}

TEST(Gcra, UnlimitedAndDefaultBurst) {
  Gcra unlimited;
  unlimited.configure(0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.take(65535, 0));
  Gcra g;
  g.configure(10, 0);  // burst defaults to the largest datagram
  EXPECT_TRUE(g.take(65535, 0));
  EXPECT_FALSE(g.take(1, 0));
}

TEST(Gcra, SustainedRateStaysWithinOneBurstOfTheCap) {
  Gcra g;
  const uint64_t rate = 100'000, burst = 65535;
  g.configure(rate, burst);
  // An offered load of 4x the rate, in 1200-byte packets every 3 ms, for 60 s.
  uint64_t passed = 0;
  const int64_t step = 3'000'000;
  const int64_t end = 60 * kSecond;
  for (int64_t t = 0; t < end; t += step) {
    if (g.take(1200, t)) passed += 1200;
  }
  const double seconds = static_cast<double>(end) / kSecond;
  EXPECT_LE(passed, rate * seconds + burst);
  EXPECT_GE(passed, rate * seconds - 1200);
}

TEST(Gcra, SeveralThreadsNeverTakeMoreThanTheBucketHolds) {
  Gcra g;
  g.configure(1, 1'000'000);  // a bucket of 1 MB that practically does not refill
  std::atomic<uint64_t> passed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        if (g.take(100, 5 * kSecond)) passed += 100;
      }
    });
  }
  for (auto& t : threads) t.join();
  // 40,000 attempts of 100 bytes at one instant: exactly the burst gets through, no more, no less.
  EXPECT_EQ(passed.load(), 1'000'000u);
}

TEST(Gcra, SeveralThreadsWithAMovingClockStayWithinTheCap) {
  Gcra g;
  const uint64_t rate = 1'000'000, burst = 100'000;
  g.configure(rate, burst);
  std::atomic<uint64_t> passed{0};
  std::atomic<int64_t> clock{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50'000; ++i) {
        // Each thread advances the shared fake clock by 10 us per packet: 2 s in all.
        const int64_t now = t == 0 ? clock.fetch_add(10'000) + 10'000 : clock.load();
        if (g.take(100, now)) passed += 100;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = static_cast<double>(clock.load()) / kSecond;
  EXPECT_LE(passed.load(), static_cast<uint64_t>(rate * seconds) + burst);
}

// ---- QuotaPolicy / QuotaBook ----

QuotaClass gold() {
  QuotaClass c;
  c.name = "gold";
  c.bytesPerSecond = 1'000'000;
  c.burst = 100'000;
  c.bytesPerDay = 10'000'000;
  c.allocations = 2;
  c.maxLifetime = Seconds(3600);
  return c;
}

TEST(QuotaPolicy, ClassesByIdentityUsernameAndDefaults) {
  QuotaPolicy p;
  p.classes["gold"] = gold();
  p.members["node-a"] = "gold";
  p.members["carol"] = "gold";
  p.members["dave"] = "limited";
  EXPECT_EQ(p.classFor("node-a", "1700000000:node-a", false).name, "gold");
  EXPECT_EQ(p.classFor("node-b", "1700000000:node-b", false).name, "limited");
  EXPECT_EQ(p.classFor("carol", "carol", true).name, "gold");
  EXPECT_EQ(p.classFor("alice", "alice", true).name, "unlimited");  // static users not listed
  EXPECT_EQ(p.classFor("dave", "dave", true).name, "limited");
  const QuotaClass l = limitedClass();
  EXPECT_EQ(l.maxLifetime, Seconds(120));
  EXPECT_EQ(l.bytesPerAllocation, 131072u);
  EXPECT_TRUE(validate(p).empty());
  p.members["eve"] = "platinum";
  p.classes["tiny"].bytesPerSecond = 1000;
  p.classes["tiny"].burst = 1000;
  const auto errors = validate(p);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_NE(errors[0].find("quota-classes.tiny"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("platinum"), std::string::npos) << errors[1];
}

TEST(QuotaBook, ConcurrentAllocationsAndNodeTotal) {
  QuotaPolicy p;
  p.classes["gold"] = gold();
  p.members["node-a"] = "gold";
  p.maxAllocations = 3;
  p.limitedMaxShare = 1;  // no separate share for limited here (hoarding_test.cpp tests it)
  QuotaBook book(p);
  const int64_t now = 1'700'000'000;
  auto a1 = book.acquire("node-a", "x:node-a", false, now);
  auto a2 = book.acquire("node-a", "x:node-a", false, now);
  EXPECT_EQ(a1.error, 0);
  EXPECT_EQ(a2.error, 0);
  EXPECT_EQ(book.acquire("node-a", "x:node-a", false, now).error, 486);  // gold: 2 at once
  auto b1 = book.acquire("node-b", "x:node-b", false, now);
  EXPECT_EQ(b1.error, 0);
  EXPECT_EQ(book.acquire("node-c", "x:node-c", false, now).error, 508);  // node total 3
  book.release(a1.quota);
  EXPECT_EQ(book.acquire("node-c", "x:node-c", false, now).error, 0);
  EXPECT_EQ(book.allocations(), 3u);
}

TEST(QuotaBook, DailyBudgetSeedingAndTheNextUtcDay) {
  QuotaPolicy p;
  p.classes["gold"] = gold();
  p.members["node-a"] = "gold";
  QuotaBook book(p);
  const int64_t day = 1'700'006'400;  // a UTC midnight (multiple of 86400)
  book.seedDailyUsage("node-a", 9'999'000, day + 10);
  EXPECT_EQ(book.bytesToday("node-a", day + 20), 9'999'000u);
  auto lease = book.acquire("node-a", "x:node-a", false, day + 30);
  ASSERT_EQ(lease.error, 0);
  const Instant t{std::chrono::hours(1)};
  EXPECT_EQ(book.admit(*lease.quota, 0, 1000, t, day + 40), Admission::Ok);
  EXPECT_EQ(book.admit(*lease.quota, 1000, 1, t, day + 40), Admission::DailyBudget);
  EXPECT_TRUE(book.dailyBudgetSpent(*lease.quota, day + 50));
  EXPECT_EQ(book.acquire("node-a", "x:node-a", false, day + 60).error, 486);
  // Midnight UTC: a fresh budget.
  EXPECT_FALSE(book.dailyBudgetSpent(*lease.quota, day + 86400));
  EXPECT_EQ(book.admit(*lease.quota, 1001, 1000, t + std::chrono::hours(24), day + 86400), Admission::Ok);
  EXPECT_EQ(book.bytesToday("node-a", day + 86400), 1000u);
}

// Fleet-wide quotas (docs/fleet.md, "Quotas"): what the other nodes use, as the fleet's tick hands it
// in, counts against the class's concurrent allocations and daily budget, also for an identity this
// node has not seen yet; local-only once cleared (Redis away).
TEST(QuotaBook, TheOtherNodesUsageCountsAgainstAllocationsAndTheDailyBudget) {
  QuotaPolicy p;
  p.classes["gold"] = gold();  // 2 allocations, 10,000,000 bytes a day
  p.members["node-a"] = "gold";
  p.limitedMaxShare = 1;
  QuotaBook book(p);
  const int64_t day = 1'700'006'400;
  // node-a has one allocation and 9,998,000 bytes today elsewhere; this node never saw it.
  book.setFleetUsage({{"rest/node-a", 1, 9'998'000}}, day + 1);
  EXPECT_EQ(book.fleetIdentities(), 1u);
  auto lease = book.acquire("node-a", "x:node-a", false, day + 2);
  ASSERT_EQ(lease.error, 0);
  EXPECT_EQ(book.acquire("node-a", "x:node-a", false, day + 2).error, 486);  // 1 here + 1 elsewhere
  const Instant t{std::chrono::hours(1)};
  EXPECT_EQ(book.admit(*lease.quota, 0, 1500, t, day + 3), Admission::Ok);
  EXPECT_EQ(book.admit(*lease.quota, 1500, 1000, t, day + 3), Admission::DailyBudget);
  // This node's snapshot for the tick: its own usage only.
  auto local = book.localUsage(day + 4);
  ASSERT_EQ(local.size(), 1u);
  EXPECT_EQ(local[0].key, "rest/node-a");
  EXPECT_EQ(local[0].allocations, 1u);
  EXPECT_EQ(local[0].bytesToday, 1500u);
  // Redis away: local-only.
  book.clearFleetUsage();
  EXPECT_EQ(book.fleetIdentities(), 0u);
  EXPECT_EQ(book.admit(*lease.quota, 1500, 1000, t, day + 5), Admission::Ok);
  EXPECT_EQ(book.acquire("node-a", "x:node-a", false, day + 5).error, 0);
  // The other nodes' bytes are of one UTC day: the next day starts from zero everywhere.
  book.setFleetUsage({{"rest/node-a", 0, 9'999'999}}, day + 6);
  EXPECT_EQ(book.admit(*lease.quota, 2500, 1000, t + std::chrono::hours(24), day + 86400), Admission::Ok);
  // Keys that name no identity kind are ignored.
  book.setFleetUsage({{"bogus", 3, 3}, {"what/x", 1, 1}}, day + 86400);
  EXPECT_EQ(book.fleetIdentities(), 0u);
}

TEST(QuotaBook, ReloadMovesIdentitiesToTheirNewClass) {
  QuotaBook book;
  auto lease = book.acquire("node-a", "x:node-a", false, 1'700'000'000);
  ASSERT_EQ(lease.error, 0);
  EXPECT_EQ(lease.quota->cls.load()->name, "limited");
  const Instant t{std::chrono::hours(1)};
  EXPECT_EQ(book.admit(*lease.quota, 131'000, 1000, t, 1'700'000'000), Admission::DataCap);
  QuotaPolicy p;
  p.classes["gold"] = gold();
  p.members["node-a"] = "gold";
  book.apply(p);
  EXPECT_EQ(lease.quota->cls.load()->name, "gold");
  EXPECT_EQ(book.admit(*lease.quota, 131'000, 1000, t, 1'700'000'000), Admission::Ok);
  // And the node-wide capacity bucket follows the policy.
  p.bpsCapacity = 70'000;
  book.apply(p);
  EXPECT_EQ(book.admit(*lease.quota, 0, 65'535, t, 1'700'000'000), Admission::Ok);
  EXPECT_EQ(book.admit(*lease.quota, 0, 10'000, t, 1'700'000'000), Admission::RateLimited);
}

// ---- Through the engine ----

Bytes channelData(uint16_t channel, size_t size) {
  Bytes out;
  stun::appendChannelData(out, channel, Bytes(size, 0xcd), false);
  return out;
}
Bytes sendIndication(TurnClient& c, const Endpoint& peer, size_t size) {
  const Bytes data(size, 0xab);
  return c.build(Method::Send, stun::Class::Indication, c.nextTid(), [&](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, data);
  }, false);
}
size_t relayedToPeer(const std::vector<Command>& cs) {
  size_t n = 0;
  for (const auto& p : Harness::only<SendToPeer>(cs)) n += p.bytes.size();
  return n;
}

// A REST client (identity "node-x"), as /v1/ice-servers hands out.
TurnClient restClient(Harness& h, const ClientTuple& t, const std::string& id) {
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":" + id;
  return TurnClient(h, t, user, restPassword("new-secret", user));
}

TEST(QuotaEngine, LimitedClassCutsAtTheDataCapOnChannelData) {
  Harness h;
  TurnClient c = restClient(h, udpTuple(), "node-x");
  ASSERT_TRUE(isSuccess(c.allocate()));
  EXPECT_EQ(h.server->findAllocation(c.tuple)->quotaClass(), "limited");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("8.8.8.8:9"))));
  size_t relayed = 0;
  for (int i = 0; i < 200; ++i) {
    h.server->handleClientInput(channelData(0x4000, 1000), c.tuple, h.now);
    relayed += relayedToPeer(h.drain());
  }
  // 131 packets of 1000 bytes fit in 128 KiB; the 132nd would not: the allocation ends, nothing more goes.
  EXPECT_EQ(relayed, 131'000u);
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::DataCap);
  EXPECT_EQ(ended[0].info.toPeer.bytes, 131'000u);
  EXPECT_EQ(ended[0].info.quotaClass, "limited");
  EXPECT_EQ(h.server->stats().allocationsEndedByQuota, 1u);
  EXPECT_EQ(h.server->stats().dropUnknownChannel, 200u - 132u);
  // The client learns why on its next request.
  EXPECT_EQ(errorOf(c.refresh(600)), 486);
  EXPECT_EQ(errorOf(c.permit(ep("8.8.8.8:9"))), 486);
  // A new allocation gets a fresh cap (the limit is per allocation).
  EXPECT_TRUE(isSuccess(c.allocate()));
}

TEST(QuotaEngine, LimitedClassCutsAtTheDataCapFromPeerViaDataIndications) {
  Harness h;
  TurnClient c = restClient(h, udpTuple(), "node-x");
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:9"))));
  size_t delivered = 0;
  const RelayPort relay = c.relayPort();
  for (int i = 0; i < 100; ++i) {
    for (const auto& s : Harness::only<SendToClient>(h.fromPeer(relay, ep("8.8.8.8:9"), Bytes(1500, 1)))) {
      delivered += view(s.bytes).data()->size();
    }
  }
  EXPECT_EQ(delivered, 87u * 1500u);  // 87 * 1500 = 130,500 <= 131,072 < 88 * 1500
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::DataCap);
  EXPECT_EQ(ended[0].info.toClient.bytes, 87u * 1500u);
  // The other direction had its own 128 KiB: untouched.
  EXPECT_EQ(ended[0].info.toPeer.bytes, 0u);
}

TEST(QuotaEngine, CapIsPerDirection) {
  Harness h;
  TurnClient c = restClient(h, udpTuple(), "node-x");
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("8.8.8.8:9"))));
  for (int i = 0; i < 100; ++i) {
    h.server->handleClientInput(channelData(0x4000, 1000), c.tuple, h.now);
    h.fromPeer(c.relayPort(), ep("8.8.8.8:9"), Bytes(1000, 1));
  }
  EXPECT_TRUE(Harness::only<AllocationEnded>(h.log).empty());  // 100 KB each way: under the cap
  const auto* a = h.server->findAllocation(c.tuple);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->meter.toPeer, 100'000u);
  EXPECT_EQ(a->meter.toClient, 100'000u);
}

TEST(QuotaEngine, LimitedLifetimeIsTwoMinutesFromTheStart) {
  Harness h;
  TurnClient c = restClient(h, udpTuple(), "node-x");
  const Bytes ok = c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(stun::kTransportUdp).addU32(stun::attr::Lifetime, 3600);
  });
  ASSERT_TRUE(isSuccess(ok));
  EXPECT_EQ(view(ok).u32(stun::attr::Lifetime), 120u);
  h.advance(Seconds(100));
  const Bytes refreshed = c.refresh(600);
  ASSERT_TRUE(isSuccess(refreshed));
  EXPECT_EQ(view(refreshed).u32(stun::attr::Lifetime), 20u);
  h.advance(Seconds(19));
  h.drain();
  EXPECT_EQ(h.server->allocationCount(), 1u);
  h.advance(Seconds(2));
  h.drain();
  EXPECT_EQ(h.server->allocationCount(), 0u);
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::Expired);
}

TEST(QuotaEngine, StaticUsersAreUnlimitedUnlessListed) {
  Harness h;
  TurnClient c(h, udpTuple());  // alice, a static user
  ASSERT_TRUE(isSuccess(c.allocate()));
  EXPECT_EQ(h.server->findAllocation(c.tuple)->quotaClass(), "unlimited");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("8.8.8.8:9"))));
  for (int i = 0; i < 300; ++i) h.server->handleClientInput(channelData(0x4000, 1000), c.tuple, h.now);
  EXPECT_EQ(relayedToPeer(h.drain()), 300'000u);
}

// A configured class with a rate: over-rate packets are dropped and counted, in both directions and
// both framings, against one bucket per identity; what passes stays within one burst of the cap.
TEST(QuotaEngine, RateCapDropsOverRatePacketsBothDirectionsBothFramings) {
  auto book = bookWithClass({.name = "slow", .bytesPerSecond = 50'000, .burst = 65'535}, {"alice"});
  Config config = configWith(book);
  Harness h(config);
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(stun::kTransportUdp).addU32(stun::attr::Lifetime, 3600);
  })));
  EXPECT_EQ(h.server->findAllocation(c.tuple)->quotaClass(), "slow");
  const Endpoint chPeer = ep("8.8.8.8:9"), indPeer = ep("9.9.9.9:9");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, chPeer)));
  ASSERT_TRUE(isSuccess(c.permit(indPeer)));
  const RelayPort relay = c.relayPort();
  uint64_t passed = 0;
  // 20 s at 4x the cap: every 10 ms one 500-byte packet of each kind (200 KB/s offered).
  for (int tick = 0; tick < 2000; ++tick) {
    h.now.mono += std::chrono::milliseconds(10);
    h.server->handleClientInput(channelData(0x4000, 500), c.tuple, h.now);
    h.server->handleClientInput(sendIndication(c, indPeer, 500), c.tuple, h.now);
    h.server->handlePeerInput(relay, chPeer, Bytes(500, 1), h.now);
    h.server->handlePeerInput(relay, indPeer, Bytes(500, 1), h.now);
    for (const Command& cmd : h.drain()) {
      if (const auto* s = std::get_if<SendToPeer>(&cmd)) passed += s->bytes.size();
      if (const auto* s = std::get_if<SendToClient>(&cmd)) {
        if (stun::classify(s->bytes) == stun::PacketKind::ChannelData) {
          passed += stun::parseChannelData(s->bytes)->data.size();
        } else if (auto m = stun::MessageView::parse(s->bytes); m && m->data()) {
          passed += m->data()->size();
        }
      }
    }
  }
  const uint64_t cap = 50'000 * 20;
  EXPECT_LE(passed, cap + 65'535);
  EXPECT_GE(passed, cap - 500);
  EXPECT_EQ(h.server->stats().dropRateLimited, 8000u - passed / 500);
  EXPECT_EQ(h.server->stats().bytesClientToPeer + h.server->stats().bytesPeerToClient, passed);
  EXPECT_TRUE(Harness::only<AllocationEnded>(h.log).empty());  // rate limits drop, they do not end
}

TEST(QuotaEngine, NodeCapacityCapsEveryoneTogether) {
  auto book = std::make_shared<QuotaBook>();
  QuotaPolicy p;
  p.bpsCapacity = 100'000;
  book->apply(p);
  Config config = baseConfig();
  config.quota = book;
  Harness h(config);
  TurnClient a(h, udpTuple("198.51.100.7:40000"), "alice", "secret");
  TurnClient b(h, udpTuple("198.51.100.8:40000"), "bob", "hunter2");
  ASSERT_TRUE(isSuccess(a.allocate()));
  ASSERT_TRUE(isSuccess(b.allocate()));
  ASSERT_TRUE(isSuccess(a.bindChannel(0x4000, ep("8.8.8.8:9"))));
  ASSERT_TRUE(isSuccess(b.bindChannel(0x4000, ep("8.8.8.8:9"))));
  uint64_t passed = 0;
  for (int tick = 0; tick < 1000; ++tick) {  // 10 s, 2 x 100 KB/s offered
    h.now.mono += std::chrono::milliseconds(10);
    h.server->handleClientInput(channelData(0x4000, 1000), a.tuple, h.now);
    h.server->handleClientInput(channelData(0x4000, 1000), b.tuple, h.now);
    passed += relayedToPeer(h.drain());
  }
  EXPECT_LE(passed, 100'000u * 10 + 100'000);
  EXPECT_GE(passed, 100'000u * 10 - 1000);
  EXPECT_GT(h.server->stats().dropRateLimited, 0u);
}

TEST(QuotaEngine, ConcurrentAllocationsAndNodeTotalAcrossWorkers) {
  // Two workers' engines sharing one book: the identity's count and the node total are node-wide.
  auto book = bookWithClass({.name = "two", .allocations = 2}, {"node-a"}, QuotaPolicy{.maxAllocations = 4});
  Config config = configWith(book);
  Harness w1(config), w2(config);
  TurnClient a1 = restClient(w1, udpTuple("198.51.100.7:1"), "node-a");
  TurnClient a2 = restClient(w2, udpTuple("198.51.100.7:2"), "node-a");
  TurnClient a3 = restClient(w2, udpTuple("198.51.100.7:3"), "node-a");
  EXPECT_TRUE(isSuccess(a1.allocate()));
  EXPECT_TRUE(isSuccess(a2.allocate()));
  EXPECT_EQ(errorOf(a3.allocate()), 486);
  EXPECT_EQ(w2.server->stats().quotaRejected, 1u);
  TurnClient b1 = restClient(w1, udpTuple("198.51.100.8:1"), "node-b");
  TurnClient b2 = restClient(w2, udpTuple("198.51.100.8:2"), "node-b");
  TurnClient b3 = restClient(w1, udpTuple("198.51.100.8:3"), "node-b");
  EXPECT_TRUE(isSuccess(b1.allocate()));
  EXPECT_TRUE(isSuccess(b2.allocate()));
  EXPECT_EQ(errorOf(b3.allocate()), 508);  // 4 allocations on the node
  EXPECT_EQ(w1.server->stats().capacityRejected, 1u);
  // One ends (Refresh 0 on worker 1): room again, on either worker.
  ASSERT_TRUE(isSuccess(a1.refresh(0)));
  EXPECT_TRUE(isSuccess(a3.allocate()));
  EXPECT_EQ(book->allocations(), 4u);
}

TEST(QuotaEngine, DailyBudgetEndsEveryAllocationOfTheIdentityOnEveryWorker) {
  auto book = bookWithClass({.name = "budget", .bytesPerDay = 10'000}, {"node-a"});
  Config config = configWith(book);
  Harness w1(config), w2(config);
  TurnClient a1 = restClient(w1, udpTuple("198.51.100.7:1"), "node-a");
  TurnClient a2 = restClient(w2, udpTuple("198.51.100.7:2"), "node-a");
  ASSERT_TRUE(isSuccess(a1.allocate()));
  ASSERT_TRUE(isSuccess(a2.allocate()));
  ASSERT_TRUE(isSuccess(a1.bindChannel(0x4000, ep("8.8.8.8:9"))));
  ASSERT_TRUE(isSuccess(a2.bindChannel(0x4000, ep("8.8.8.8:9"))));
  w1.server->handleClientInput(channelData(0x4000, 6000), a1.tuple, w1.now);
  EXPECT_EQ(relayedToPeer(w1.drain()), 6000u);
  w2.server->handleClientInput(channelData(0x4000, 4000), a2.tuple, w2.now);
  EXPECT_EQ(relayedToPeer(w2.drain()), 4000u);
  // The budget is spent: the next byte ends worker 2's allocation at once...
  w2.server->handleClientInput(channelData(0x4000, 1), a2.tuple, w2.now);
  EXPECT_EQ(relayedToPeer(w2.drain()), 0u);
  auto ended2 = Harness::only<AllocationEnded>(w2.log);
  ASSERT_EQ(ended2.size(), 1u);
  EXPECT_EQ(ended2[0].reason, EndReason::DailyBudget);
  // ...and worker 1's idle allocation ends at its next metering tick.
  w1.advance(Seconds(1));
  w1.drain();
  auto ended1 = Harness::only<AllocationEnded>(w1.log);
  ASSERT_EQ(ended1.size(), 1u);
  EXPECT_EQ(ended1[0].reason, EndReason::DailyBudget);
  EXPECT_EQ(errorOf(a1.allocate()), 486);
  EXPECT_EQ(errorOf(a2.refresh(600)), 486);
  // The next UTC day: allowed again.
  w1.now.unixSeconds += 86400;
  w1.now.mono += std::chrono::hours(24);
  TurnClient tomorrow = restClient(w1, udpTuple("198.51.100.7:1"), "node-a");  // fresh REST credentials
  EXPECT_TRUE(isSuccess(tomorrow.allocate()));
}

TEST(QuotaEngine, RefreshOfASpentIdentityIsAnswered486AndEndsTheAllocation) {
  auto book = bookWithClass({.name = "budget", .bytesPerDay = 1'000'000}, {"alice"});
  Config config = configWith(book);
  Harness h(config);
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  book->seedDailyUsage("alice", 1'000'000, h.now.unixSeconds);  // spent elsewhere (another worker, the ledger)
  EXPECT_EQ(errorOf(c.refresh(600)), 486);
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::DailyBudget);
}

TEST(QuotaEngine, ReloadMovesALiveAllocationToItsNewClassWithoutDroppingIt) {
  auto book = std::make_shared<QuotaBook>();
  Config config = baseConfig();
  config.quota = book;
  Harness h(config);
  TurnClient c = restClient(h, udpTuple(), "node-x");
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, ep("8.8.8.8:9"))));
  for (int i = 0; i < 100; ++i) h.server->handleClientInput(channelData(0x4000, 1000), c.tuple, h.now);
  h.drain();
  QuotaPolicy p;
  QuotaClass big;
  big.name = "big";
  p.classes["big"] = big;
  p.members["node-x"] = "big";
  book->apply(p);
  size_t relayed = 0;
  for (int i = 0; i < 100; ++i) {
    h.server->handleClientInput(channelData(0x4000, 1000), c.tuple, h.now);
    relayed += relayedToPeer(h.drain());
  }
  EXPECT_EQ(relayed, 100'000u);  // past the limited class's 128 KiB
  const auto usage = Harness::only<AllocationUsage>([&] {
    h.advance(Seconds(1));
    return h.drain();
  }());
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].quotaClass, "big");
  EXPECT_TRUE(Harness::only<AllocationEnded>(h.log).empty());
  // A longer lifetime than limited's 120 s is now granted.
  const Bytes refreshed = c.refresh(1800);
  ASSERT_TRUE(isSuccess(refreshed));
  EXPECT_EQ(view(refreshed).u32(stun::attr::Lifetime), 1800u);
}

}  // namespace
}  // namespace rdv::relay::test
