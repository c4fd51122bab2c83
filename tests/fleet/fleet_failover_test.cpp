// Failover across the nodes of a fleet (docs/fleet.md, "Clients"), with real processes: bob listens with
// two --node URLs (logged in at A), alice connects to him through B; A is killed -9: bob's hub session
// moves to B by itself, and carol, given A first and B second, skips the dead A and connects to him.
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "tests/fleet/redis_server.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

const std::string kSecret = "fleet-failover-test-rest-secret-0";

std::unique_ptr<Node> failoverNode(const RedisServer& redis) {
  return std::make_unique<Node>(std::vector<std::string>{"--listen", "127.0.0.1:0", "--redis", redis.url(), "--fleet",
                                                         "failover", "--auth-secret", kSecret, "--allow-peer",
                                                         "127.0.0.0/8"});
}

std::string newKey(const TempDir& dir, const std::string& name, std::string& nodeId) {
  const std::string key = dir.file(name + ".key");
  auto r = run({binary("rdv"), "key", "new", "--out", key});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  nodeId = r.out.substr(0, r.out.find('\n'));
  return key;
}

// The first of the agent's JSON event lines named `name`.
std::optional<nlohmann::json> eventIn(const std::string& text, const std::string& name) {
  auto found = events(text, name);
  if (found.empty()) return std::nullopt;
  return found.front();
}

TEST(FleetFailover, AKilledNodesPeerMovesToAnotherNodeAndClientsSkipTheDeadOne) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = failoverNode(redis), b = failoverNode(redis);
  ASSERT_TRUE(a->started() && b->started()) << a->log() << b->log();
  const std::string urlA = "http://" + a->http(), urlB = "http://" + b->http();
  TempDir dir;
  std::string bobId, aliceId, carolId;
  const std::string bob = newKey(dir, "bob", bobId), alice = newKey(dir, "alice", aliceId),
                    carol = newKey(dir, "carol", carolId);

  Process listener({binary("rdv"), "listen", "--node", urlA, "--node", urlB, "--key", bob, "--local-address",
                    "127.0.0.1", "--timeout", "90"},
                   dir.file("listen.log"));
  ASSERT_TRUE(waitUntil([&] { return eventIn(listener.log(), "listening").has_value() || !listener.running(); }, 20s))
      << listener.log();
  // (Each peer its own key: one key's signed /v1/ice-servers request is good once per second.)
  auto connect = [&](const std::string& key, std::vector<std::string> nodes) {
    std::vector<std::string> argv{binary("rdv"), "connect"};
    for (const auto& n : nodes) argv.insert(argv.end(), {"--node", n});
    argv.insert(argv.end(), {"--key", key, "--to", bobId, "--local-address", "127.0.0.1", "--count", "5",
                             "--timeout", "30"});
    return run(argv, 45s);
  };
  // Bob at A, alice at B: the offer crosses the fleet.
  auto first = connect(alice, {urlB});
  ASSERT_EQ(first.exitCode, 0) << first.out << first.err << "\nlistener:\n" << listener.log();
  ASSERT_TRUE(eventIn(first.out, "done")) << first.out;

  a->process().stop(SIGKILL);
  ASSERT_TRUE(waitUntil([&] { return eventIn(listener.log(), "node-changed").has_value() || !listener.running(); }, 20s))
      << listener.log();
  const auto moved = eventIn(listener.log(), "node-changed");
  ASSERT_TRUE(moved) << listener.log();
  EXPECT_EQ((*moved)["from"], urlA);
  EXPECT_EQ((*moved)["node"], urlB);
  // Carol lists the dead A first: she skips it, and bob, now at B, answers.
  auto second = connect(carol, {urlA, urlB});
  ASSERT_EQ(second.exitCode, 0) << second.out << second.err << "\nlistener:\n" << listener.log();
  auto done = eventIn(second.out, "done");
  ASSERT_TRUE(done) << second.out;
  EXPECT_EQ((*done)["received"], 5);
  EXPECT_TRUE(listener.running()) << listener.log();
}

}  // namespace
}  // namespace rdv::test

namespace rdv::test {
namespace {

// Peers signalling through two nodes of a fleet (bob at A, alice at B), relayed by a third (C): both take
// their ICE servers (TURN credentials) from C with --ice-node, relay-only.
TEST(FleetRelay, PeersOnTwoNodesAreRelayedThroughAThird) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = failoverNode(redis), b = failoverNode(redis), c = failoverNode(redis);
  ASSERT_TRUE(a->started() && b->started() && c->started()) << a->log() << b->log() << c->log();
  const std::string urlC = "http://" + c->http();
  TempDir dir;
  std::string bobId, aliceId;
  const std::string bob = newKey(dir, "bob", bobId), alice = newKey(dir, "alice", aliceId);
  Process listener({binary("rdv"), "listen", "--node", "http://" + a->http(), "--ice-node", urlC, "--relay-only",
                    "--key", bob, "--local-address", "127.0.0.1", "--timeout", "60"},
                   dir.file("listen.log"));
  ASSERT_TRUE(waitUntil([&] { return eventIn(listener.log(), "listening").has_value() || !listener.running(); }, 20s))
      << listener.log();
  auto r = run({binary("rdv"), "connect", "--node", "http://" + b->http(), "--ice-node", urlC, "--relay-only", "--key",
                alice, "--to", bobId, "--local-address", "127.0.0.1", "--count", "10", "--interval-ms", "20",
                "--timeout", "30"},
               45s);
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener.log();
  auto connected = eventIn(r.out, "connected");
  ASSERT_TRUE(connected) << r.out;
  EXPECT_EQ((*connected)["path"], "relayed") << *connected;
  auto done = eventIn(r.out, "done");
  ASSERT_TRUE(done) << r.out;
  EXPECT_EQ((*done)["received"], 10);
  // The allocations are C's: neither A nor B relayed anything.
  auto allocatedAt = [](const Node& n, const std::string& id) {
    std::istringstream in(n.log());
    for (std::string line; std::getline(in, line);)
      if (line.find("allocation-started") != std::string::npos && line.find(id) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(waitUntil([&] { return allocatedAt(*c, aliceId) && allocatedAt(*c, bobId); }, 5s)) << c->log();
  EXPECT_FALSE(allocatedAt(*a, aliceId) || allocatedAt(*a, bobId));
  EXPECT_FALSE(allocatedAt(*b, aliceId) || allocatedAt(*b, bobId));
}

}  // namespace
}  // namespace rdv::test
