// Fleet-wide quotas (docs/fleet.md, "Quotas") with real nodes: one identity of the limited class, capped
// at 2 concurrent allocations and 60,000 bytes a day, allocates and relays at node A and at node B; the
// caps hold for the sum, to the byte once a quota tick has passed. Redis lost: each node falls back to
// local-only quotas, says so in its log and in /metrics.
#include <gtest/gtest.h>

#include "tests/fleet/fleet_http.h"
#include "tests/fleet/redis_server.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

const std::string kToken = "fleet-quota-test-admin-token-0123";
const std::string kSecret = "fleet-quota-test-rest-secret-0123";

std::unique_ptr<Node> quotaNode(const RedisServer& redis) {
  return std::make_unique<Node>(std::vector<std::string>{
      "--listen", "127.0.0.1:0", "--redis", redis.url(), "--fleet", "quota", "--admin-listen", "127.0.0.1:0",
      "--admin-token", kToken, "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8", "--log-format", "json",
      "--limited-class", R"({"allocations": 2, "bytes-per-day": 60000})"});
}

std::string metric(const Node& node, const std::string& name) {
  return metricOf(node.ready()["admin"].get<std::string>(), kToken, name);
}
uint64_t rounds(const Node& node) {
  const std::string v = metric(node, "rendezvous_fleet_quota_rounds_total");
  return v.empty() ? 0 : std::stoull(v);
}
// Waits until both nodes finished two quota ticks after this call (A's news reached Redis, then B read it).
bool ticked(const Node& a, const Node& b) {
  const uint64_t a0 = rounds(a);
  if (!waitUntil([&] { return rounds(a) >= a0 + 2; }, 10s)) return false;
  const uint64_t b0 = rounds(b);
  return waitUntil([&] { return rounds(b) >= b0 + 2; }, 10s);
}

Endpoint at(const std::string& hostPort) { return *Endpoint::parse(hostPort); }

// Relays `count` datagrams of `size` bytes on channel 0x4000 to `peer` and returns how many arrived
// (all of them, or what came before 1.5 s of silence).
int relay(TurnTestClient& client, UdpSocket& peer, int count, size_t size) {
  const Bytes payload(size, 0x42);
  for (int i = 0; i < count; ++i) client.sendChannelData(0x4000, payload);
  int got = 0;
  while (got < count) {
    auto d = peer.receive(std::chrono::milliseconds(1500));
    if (!d) break;
    got += d->size() == size ? 1 : 0;
  }
  return got;
}

TEST(FleetQuota, OneIdentitysLimitedClassIsCappedAcrossTwoNodes) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = quotaNode(redis), b = quotaNode(redis);
  ASSERT_TRUE(a->started() && b->started()) << a->log() << b->log();
  const std::string user = restUsername("alice");
  const std::string pass = restPassword(kSecret, user);

  // Allocations: 2 at A, then B refuses a third (486) once a tick has told it.
  TurnTestClient a1(at(a->udp()), user, pass), a2(at(a->udp()), user, pass), b1(at(b->udp()), user, pass);
  ASSERT_TRUE(a1.allocate().ok) << a->log();
  ASSERT_TRUE(a2.allocate().ok) << a->log();
  ASSERT_TRUE(ticked(*a, *b));
  EXPECT_EQ(b1.allocate().error, 486) << b->log();
  EXPECT_EQ(metric(*b, "rendezvous_fleet_quota_identities_elsewhere"), "1");
  // One of A's ends: B lets the identity allocate after the next tick.
  ASSERT_TRUE(a2.refresh(0).ok);
  ASSERT_TRUE(ticked(*a, *b));
  ASSERT_TRUE(b1.allocate().ok) << b->log();

  // Bytes: 50,000 relayed at A; B then relays exactly the 10,000 left of the 60,000 a day.
  UdpSocket peer;
  ASSERT_TRUE(a1.bindChannel(0x4000, peer.local()).ok);
  ASSERT_TRUE(b1.bindChannel(0x4000, peer.local()).ok);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(relay(a1, peer, 1, 1000), 1) << i;
  ASSERT_TRUE(ticked(*a, *b));
  EXPECT_EQ(relay(b1, peer, 20, 1000), 10) << b->log();
  // B's allocation ended on the daily budget; A learns B's bytes at its next ticks and refuses.
  const auto ended = events(b->log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u) << b->log();
  EXPECT_EQ(ended[0].value("reason", ""), "daily-budget");
  ASSERT_TRUE(ticked(*b, *a));
  EXPECT_EQ(relay(a1, peer, 1, 1000), 0);
  TurnTestClient a3(at(a->udp()), user, pass);
  EXPECT_EQ(a3.allocate().error, 486);
  EXPECT_EQ(metric(*a, "rendezvous_fleet_quota_local_only"), "0");
}

TEST(FleetQuota, RedisLostQuotasGoLocalOnlyAndSaySo) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = quotaNode(redis);
  ASSERT_TRUE(a->started()) << a->log();
  ASSERT_TRUE(waitUntil([&] { return rounds(*a) >= 1; }, 10s)) << a->log();
  redis.kill9();
  ASSERT_TRUE(waitUntil([&] { return metric(*a, "rendezvous_fleet_quota_local_only") == "1"; }, 10s)) << a->log();
  EXPECT_FALSE(events(a->log(), "fleet-quota-local-only").empty()) << a->log();
  // The relay still allocates (local quotas) while Redis is away.
  const std::string user = restUsername("bob");
  TurnTestClient c(at(a->udp()), user, restPassword(kSecret, user));
  EXPECT_TRUE(c.allocate().ok) << a->log();
  ASSERT_TRUE(redis.start()) << redis.log();
  ASSERT_TRUE(waitUntil([&] { return metric(*a, "rendezvous_fleet_quota_local_only") == "0"; }, 15s)) << a->log();
  EXPECT_FALSE(events(a->log(), "fleet-quota-fleet-wide").empty());
}

}  // namespace
}  // namespace rdv::test
