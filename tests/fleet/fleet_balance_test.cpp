// Balancing (docs/fleet.md, "Balancing") with real nodes on one Redis: node A is full (max-allocations
// 1), so its Allocate answers 300 ALTERNATE-SERVER with node B's TURN address from the directory; our
// client and coturn's turnutils_uclient follow it and relay at B. A full node of a fleet without another
// live node answers 508, as a single node does; a draining node of a fleet sends clients to B too.
#include <gtest/gtest.h>

#include "tests/fleet/fleet_http.h"
#include "tests/fleet/redis_server.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

const std::string kToken = "fleet-balance-test-admin-token-01";
const std::string kSecret = "fleet-balance-test-rest-secret-01";

std::unique_ptr<Node> balanceNode(const RedisServer& redis, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--redis", redis.url(), "--fleet", "balance",
                                "--admin-listen", "127.0.0.1:0", "--admin-token", kToken, "--auth-secret", kSecret,
                                "--allow-peer", "127.0.0.0/8", "--log-format", "json", "--limited-max-share", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<Node>(args);
}

std::string metric(const Node& node, const std::string& name) {
  return metricOf(node.ready()["admin"].get<std::string>(), kToken, name);
}

Endpoint at(const std::string& hostPort) { return *Endpoint::parse(hostPort); }

bool startedFor(const Node& node, const std::string& id) {
  for (const auto& e : events(node.log(), "allocation-started"))
    if (e.dump().find(id) != std::string::npos) return true;
  return false;
}

TEST(FleetBalance, AFullNodeSendsClientsToALessLoadedNodeAndTheyFollow) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = balanceNode(redis, {"--max-allocations", "1"});
  ASSERT_TRUE(a->started()) << a->log();
  // Alone and full: 508, as a single node.
  const std::string u1 = restUsername("first"), u2 = restUsername("second");
  TurnTestClient first(at(a->udp()), u1, restPassword(kSecret, u1));
  ASSERT_TRUE(first.allocate().ok) << a->log();
  TurnTestClient lonely(at(a->udp()), u2, restPassword(kSecret, u2));
  EXPECT_EQ(lonely.allocate().error, 508);

  auto b = balanceNode(redis);
  ASSERT_TRUE(b->started()) << b->log();
  ASSERT_TRUE(waitUntil([&] { return metric(*a, "rendezvous_fleet_alternate_known") == "1"; }, 15s)) << a->log();
  // Our client: 300 with B's address (authenticated like any answer), then an allocation at B.
  TurnTestClient sent(at(a->udp()), u2, restPassword(kSecret, u2));
  const TurnAnswer answer = sent.allocate();
  ASSERT_EQ(answer.error, 300) << a->log();
  ASSERT_TRUE(answer.message);
  const auto alternate = answer.message->address(stun::attr::AlternateServer);
  ASSERT_TRUE(alternate);
  EXPECT_EQ(alternate->toString(), b->udp());
  TurnTestClient followed(*alternate, u2, restPassword(kSecret, u2));
  EXPECT_TRUE(followed.allocate().ok) << b->log();
  EXPECT_TRUE(startedFor(*b, "second"));
  EXPECT_EQ(metric(*a, "rendezvous_relay_allocate_redirected_total"), "1");

  // coturn's uclient follows the 300 by itself and relays at B.
  auto uclient = run({"turnutils_uclient", "-y", "-c", "-n", "5", "-m", "2", "-l", "100", "-z", "5", "-W", kSecret,
                      "-u", "node-uclient", "-p", std::to_string(a->udpPort()), "127.0.0.1"},
                     std::chrono::seconds(30));
  EXPECT_EQ(uclient.exitCode, 0) << uclient.out << uclient.err;
  EXPECT_TRUE(startedFor(*b, "node-uclient")) << b->log();
  EXPECT_FALSE(startedFor(*a, "node-uclient")) << a->log();

  // A is listed as full: B, full too, has nowhere to send (508), never back to A.
  ASSERT_TRUE(waitUntil([&] {
    auto r = httpGet(b->http(), "/v1/nodes");
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j["nodes"].is_array()) return false;
    for (const auto& n : j["nodes"])
      if (n.value("node_id", "") != "" && n["full"].is_boolean() && n["full"].get<bool>()) return true;
    return false;
  }, 15s));
  EXPECT_EQ(metric(*b, "rendezvous_fleet_alternate_known"), "0");
}

TEST(FleetBalance, ADrainingNodeOfAFleetSendsClientsToAnotherNode) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = balanceNode(redis), b = balanceNode(redis);
  ASSERT_TRUE(a->started() && b->started()) << a->log() << b->log();
  ASSERT_TRUE(waitUntil([&] { return metric(*a, "rendezvous_fleet_alternate_known") == "1"; }, 15s)) << a->log();
  auto drained = run({binary("rdv"), "admin", "drain", "--node", "http://" + a->ready()["admin"].get<std::string>(),
                      "--token", kToken});
  ASSERT_EQ(drained.exitCode, 0) << drained.out << drained.err;
  const std::string u = restUsername("drained");
  TurnTestClient c(at(a->udp()), u, restPassword(kSecret, u));
  const TurnAnswer answer = c.allocate();
  ASSERT_EQ(answer.error, 300) << a->log();
  EXPECT_EQ(answer.message->address(stun::attr::AlternateServer)->toString(), b->udp());
}

}  // namespace
}  // namespace rdv::test
