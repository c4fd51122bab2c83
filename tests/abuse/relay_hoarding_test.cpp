// Issue 12, item 4: relay ports hoarded with free identities. Attackers on their own 127.x addresses mint
// fresh REST identities (the `limited` class) and hold as many allocations as the node gives them. The
// node's limits: Allocates per source IP (allocate-rate-per-ip/-burst-per-ip: 486), and the limited
// class's node-wide share (limited-max-share of max-allocations: 486). An honest client of a known class
// on another address still allocates and relays both ways; the limited class never holds more than its
// share; the daemon's RSS stays bounded.
#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <vector>

#include "tests/abuse/abuse_support.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test::abuse {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kSecret = "abuse-lab-hoarding-secret-0123";
constexpr const char* kToken = "abuse-lab-admin-token";
constexpr int kMaxAllocations = 300;          // the node's total; the limited share is half: 150
constexpr int kSpreadAddresses = 20;          // attack 1: many addresses...
constexpr int kIdentitiesPerAddress = 15;     // ...each with fresh identities (300 attempts)
constexpr int kOneAddressAttempts = 250;      // attack 2: one address, fresh identities, as fast as it can
constexpr auto kHonestBound = std::chrono::milliseconds(3000);  // allocate + permission + data both ways
constexpr long kRssBoundKiB = 32 * 1024;

struct Tally {
  int ok = 0, quota486 = 0, capacity508 = 0, other = 0;
};

// Allocations with fresh identities from `address` (host order); the clients are kept (they hold them).
Tally hoard(const Endpoint& server, uint32_t address, int count, const std::string& tag,
            std::vector<std::unique_ptr<TurnTestClient>>& held) {
  Tally t;
  TurnTestClient* first = nullptr;
  for (int i = 0; i < count; ++i) {
    const std::string user = restUsername(tag + "-" + std::to_string(i));
    auto c = std::make_unique<TurnTestClient>(server, user, restPassword(kSecret, user), address);
    if (first) c->learnFrom(*first);  // one 401 round trip per address (the 401 limiter is per source too)
    const TurnAnswer a = c->allocate();
    if (a.ok) ++t.ok;
    else if (a.error == 486) ++t.quota486;
    else if (a.error == 508) ++t.capacity508;
    else ++t.other;
    if (!first) first = c.get();
    held.push_back(std::move(c));
  }
  return t;
}

// A counter of the admin API's /metrics (UINT64_MAX when it is missing).
uint64_t metric(const std::string& admin, const std::string& name) {
  return promValue(httpGetFrom(loopback(1), *Endpoint::parse(admin), "/metrics", kToken), name).value_or(UINT64_MAX);
}

TEST(RelayHoarding, FreeIdentitiesGetTheLimitedShareOnlyHonestClientStillRelays) {
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8", "--max-allocations",
             std::to_string(kMaxAllocations), "--quota-classes", R"({"known": {"allocations": 4}})",
             "--quota-members", R"({"honest-app": "known"})", "--admin-listen", "127.0.0.1:0", "--admin-token", kToken,
             "--log-level", "warn"});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint server = *Endpoint::parse(node.udp());
  const std::string admin = node.ready().value("admin", "");
  RssWatch rss(node.process());
  std::vector<std::unique_ptr<TurnTestClient>> held;

  // Attack 1: 20 addresses x 15 fresh identities. The limited class holds at most half the node's
  // allocations; the rest is refused with 486 (never 508: the node is not full).
  const auto t0 = Clock::now();
  Tally spread;
  for (int a = 0; a < kSpreadAddresses; ++a) {
    const Tally t = hoard(server, attackerAddress(static_cast<uint32_t>(a)), kIdentitiesPerAddress,
                          "spread" + std::to_string(a), held);
    spread.ok += t.ok, spread.quota486 += t.quota486, spread.capacity508 += t.capacity508, spread.other += t.other;
    rss.sample();
  }
  std::cout << "[ measured ] hoarding from " << kSpreadAddresses << " addresses: " << spread.ok << " allocated, "
            << spread.quota486 << " x 486, " << spread.capacity508 << " x 508, " << spread.other << " other, in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count() << " ms\n";
  EXPECT_EQ(spread.ok, kMaxAllocations / 2);  // exactly the share: 150
  EXPECT_EQ(spread.quota486, kSpreadAddresses * kIdentitiesPerAddress - kMaxAllocations / 2);
  EXPECT_EQ(spread.capacity508, 0);
  EXPECT_EQ(spread.other, 0);

  // Attack 2: one more address, fresh identities as fast as one client goes: its burst of Allocates, then
  // 486 for the rest (the share is spent too, so none of them gets a port either way).
  const auto t1 = Clock::now();
  const Tally one = hoard(server, attackerAddress(1000), kOneAddressAttempts, "one", held);
  const double secs = std::chrono::duration<double>(Clock::now() - t1).count();
  rss.sample();
  std::cout << "[ measured ] " << kOneAddressAttempts << " Allocates from one address in " << secs << " s: " << one.ok
            << " allocated, " << one.quota486 << " x 486\n";
  EXPECT_EQ(one.ok, 0);
  EXPECT_EQ(one.quota486, kOneAddressAttempts);
  const uint64_t rateLimited = metric(admin, "rendezvous_relay_allocate_rate_limited_total");
  const uint64_t shareRefused = metric(admin, "rendezvous_relay_limited_share_rejected_total");
  std::cout << "[ measured ] refused by the per-IP Allocate rate: " << rateLimited
            << ", by the limited share: " << shareRefused << "\n";
  // 100 of the burst (default), plus 10/s while the attack ran, reach the share check; the rest is rate-limited.
  EXPECT_GE(rateLimited, static_cast<uint64_t>(kOneAddressAttempts - 100 - 10 * (secs + 1)));
  EXPECT_LT(rateLimited, static_cast<uint64_t>(kOneAddressAttempts));
  EXPECT_EQ(shareRefused + rateLimited, static_cast<uint64_t>(spread.quota486 + one.quota486));

  // The honest client: a known identity from 127.0.0.1 allocates and relays both ways within its bound.
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  const auto h0 = Clock::now();
  const std::string user = restUsername("honest-app");
  TurnTestClient honest(server, user, restPassword(kSecret, user));
  const TurnAnswer a = honest.allocate();
  ASSERT_TRUE(a.ok) << "honest Allocate refused: " << a.error << "\n" << node.log();
  ASSERT_TRUE(honest.permit(peer.local()).ok);
  ASSERT_TRUE(honest.bindChannel(0x4000, peer.local()).ok);
  const Bytes hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(honest.sendChannelData(0x4000, hello));
  Endpoint from;
  auto got = peer.receive(std::chrono::milliseconds(2000), &from);
  ASSERT_TRUE(got) << "the peer got nothing through the relay";
  EXPECT_EQ(*got, hello);
  ASSERT_TRUE(peer.sendTo(from, hello));
  auto back = honest.receiveData(std::chrono::milliseconds(2000));
  ASSERT_TRUE(back) << "nothing came back through the relay";
  EXPECT_EQ(*back, hello);
  const auto took = Clock::now() - h0;
  std::cout << "[ measured ] honest allocate + relay both ways during the hoarding: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_LT(took, kHonestBound);

  // Memory: 150 allocations held, 550 refusals.
  rss.sample();
  std::cout << "[ measured ] RSS " << rss.startKiB << " KiB -> peak " << rss.peakKiB << " KiB\n";
  EXPECT_LT(rss.growthKiB(), kRssBoundKiB);
  EXPECT_TRUE(node.process().running());
}

}  // namespace
}  // namespace rdv::test::abuse
