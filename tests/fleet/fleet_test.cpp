// A fleet on one Redis (docs/fleet.md), with real processes on loopback: the test's own redis-server
// (redis_server.h) and several rendezvousd nodes pointed at it. Registry shared between nodes, envelopes
// routed to the node the recipient is connected to, the shared mailbox collected at a third node after
// the first was killed -9, the node directory, Redis lost and restarted mid-run, and start-up errors.
#include <gtest/gtest.h>

#include <csignal>

#include "tests/fleet/fleet_http.h"
#include "tests/fleet/redis_server.h"
#include "tests/integration/harness.h"
#include "tests/integration/rdv_peer.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

using Json = nlohmann::json;
const std::string kAdminToken = "fleet-test-admin-token-0123456789";

std::unique_ptr<Node> fleetNode(const RedisServer& redis, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--redis", redis.url(), "--fleet", "test",
                                "--admin-listen", "127.0.0.1:0", "--admin-token", kAdminToken};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<Node>(args);
}

Json lastJsonLine(const std::string& out) {
  auto end = out.find_last_not_of('\n');
  if (end == std::string::npos) return nullptr;
  auto start = out.rfind('\n', end);
  return Json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1), nullptr, false);
}

CommandResult send(const Node& node, const Peer& from, const Peer& to, const std::string& text) {
  return run({binary("rdv"), "send", "--node", "http://" + node.http(), "--key", from.key, "--to", to.enr, text});
}

std::string metric(const Node& node, const std::string& name) {
  return metricOf(node.ready()["admin"].get<std::string>(), kAdminToken, name);
}

TEST(Fleet, UnreachableRedisAtStartExitsTwoNamingTheUrl) {
  const uint16_t port = freeTcpPort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port);
  TempDir dir;
  auto r = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir",
                dir.file("data"), "--redis", url},
               20s);
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find(url), std::string::npos) << r.err;
  // A malformed URL is a configuration error naming the key; the password never appears in messages.
  auto bad = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--redis", "http://u:s3cret@127.0.0.1:1"}, 10s);
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.err.find("redis"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.err.find("s3cret"), std::string::npos) << bad.err;
  auto name = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--fleet", "a{b}"}, 10s);
  EXPECT_EQ(name.exitCode, 2);
  EXPECT_NE(name.err.find("fleet"), std::string::npos) << name.err;
}

TEST(Fleet, RegisteredAtADiscoveredAtBAndBothNodesListed) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = fleetNode(redis), b = fleetNode(redis);
  ASSERT_TRUE(a->started() && b->started()) << a->log() << b->log();
  TempDir dir;
  ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", dir.file("peer.key")}).exitCode, 0);
  auto reg = run({binary("rdv"), "register", "--node", "http://" + a->http(), "--namespace", "room", "--key",
                  dir.file("peer.key"), "--ip", "192.0.2.7", "--udp", "4000", "--ttl", "600"});
  ASSERT_EQ(reg.exitCode, 0) << reg.err << a->log();
  const auto ack = Json::parse(reg.out, nullptr, false);
  auto found = run({binary("rdv"), "discover", "--node", "http://" + b->http(), "--namespace", "room"});
  ASSERT_EQ(found.exitCode, 0) << found.err;
  auto page = Json::parse(found.out, nullptr, false);
  ASSERT_EQ(page["registrations"].size(), 1u) << found.out;
  EXPECT_EQ(page["registrations"][0]["node_id"], ack["node_id"]);
  EXPECT_GT(page["registrations"][0]["ttl_remaining"].get<int>(), 590);
  // The cookie B gave pages on at A: nothing newer yet.
  auto next = httpGet(a->http(), "/v1/registrations?namespace=room&cookie=" + page["cookie"].get<std::string>());
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(Json::parse(next.body, nullptr, false)["registrations"].size(), 0u) << next.body;
  // A stale seq written at B is refused: the seq rule is fleet-wide.
  auto stale = run({binary("rdv"), "register", "--node", "http://" + b->http(), "--namespace", "room", "--key",
                    dir.file("peer.key"), "--seq", "0"});
  EXPECT_NE(stale.exitCode, 0) << stale.out;

  // The directory lists both nodes with their signed record and load.
  Json nodes;
  ASSERT_TRUE(waitUntil([&] {
    auto r = httpGet(b->http(), "/v1/nodes");
    nodes = Json::parse(r.body, nullptr, false);
    return r.status == 200 && nodes["nodes"].size() == 2;
  }, 15s)) << nodes.dump();
  for (const auto& n : nodes["nodes"]) {
    EXPECT_TRUE(n.contains("enr") && n["enr"].get<std::string>().rfind("enr:", 0) == 0) << n.dump();
    EXPECT_TRUE(n["load"].contains("allocations") && n["load"].contains("bps")) << n.dump();
  }
  EXPECT_EQ(metric(*a, "rendezvous_fleet_redis_up"), "1");
}

TEST(Fleet, EnvelopeToAPeerOnAnotherNodeIsDeliveredThere) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = fleetNode(redis), b = fleetNode(redis);
  ASSERT_TRUE(a->started() && b->started()) << a->log() << b->log();
  TempDir dir;
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  Process inbox({binary("rdv"), "inbox", "--node", "http://" + b->http(), "--key", bob.key, "--count", "3", "--timeout", "30"},
                dir.file("inbox.log"));
  ASSERT_TRUE(waitUntil([&] { return inbox.log().find("listening as") != std::string::npos; }, 10s)) << inbox.log();
  for (const char* text : {"one", "two", "three"}) {
    auto sent = send(*a, alice, bob, text);
    ASSERT_EQ(sent.exitCode, 0) << sent.err << a->log();
    EXPECT_EQ(lastJsonLine(sent.out)["status"], "delivered") << sent.out;
  }
  ASSERT_TRUE(waitUntil([&] { return !inbox.running(); }, 30s)) << inbox.log();
  const std::string out = inbox.log();
  const auto p1 = out.find("\"one\""), p2 = out.find("\"two\""), p3 = out.find("\"three\"");
  ASSERT_TRUE(p1 != std::string::npos && p2 != std::string::npos && p3 != std::string::npos) << out;
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
}

TEST(Fleet, StoredAtAThenAKilledCollectedAtC) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = fleetNode(redis), c = fleetNode(redis);
  ASSERT_TRUE(a->started() && c->started()) << a->log() << c->log();
  TempDir dir;
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  for (const char* text : {"first", "second", "third"}) {
    auto sent = send(*a, alice, bob, text);
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_EQ(lastJsonLine(sent.out)["status"], "stored") << sent.out;
  }
  a->process().stop(SIGKILL);
  auto got = run({binary("rdv"), "inbox", "--node", "http://" + c->http(), "--key", bob.key, "--count", "3", "--timeout", "15"});
  ASSERT_EQ(got.exitCode, 0) << got.err << c->log();
  const auto p1 = got.out.find("first"), p2 = got.out.find("second"), p3 = got.out.find("third");
  ASSERT_TRUE(p1 != std::string::npos && p2 != std::string::npos && p3 != std::string::npos) << got.out;
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  // Confirmed at C: gone from the shared mailbox.
  auto again = run({binary("rdv"), "inbox", "--node", "http://" + c->http(), "--key", bob.key, "--timeout", "1"});
  EXPECT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(again.out, "");
}

TEST(Fleet, RedisRestartedMidRunTheNodeKeepsServingAndResynchronises) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto a = fleetNode(redis);
  ASSERT_TRUE(a->started()) << a->log();
  TempDir dir;
  ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", dir.file("peer.key")}).exitCode, 0);
  ASSERT_EQ(run({binary("rdv"), "register", "--node", "http://" + a->http(), "--namespace", "room", "--key",
                 dir.file("peer.key")}).exitCode, 0);

  redis.kill9();
  ASSERT_TRUE(waitUntil([&] { return metric(*a, "rendezvous_fleet_redis_up") == "0"; }, 10s)) << a->log();
  // STUN still answers; the registry says why it cannot answer (503), quickly (the circuit breaker).
  auto stun = run({binary("rdv"), "stun", a->udp()}, 10s);
  EXPECT_EQ(stun.exitCode, 0) << stun.err;
  const auto before = std::chrono::steady_clock::now();
  auto down = httpGet(a->http(), "/v1/registrations?namespace=room");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  EXPECT_NE(a->log().find("fleet-redis-down"), std::string::npos) << a->log();

  ASSERT_TRUE(redis.start()) << redis.log();
  ASSERT_TRUE(waitUntil([&] { return metric(*a, "rendezvous_fleet_redis_up") == "1"; }, 15s)) << a->log();
  // The AOF kept the registration; the node is back in the directory.
  ASSERT_TRUE(waitUntil([&] {
    auto r = httpGet(a->http(), "/v1/registrations?namespace=room");
    return r.status == 200 && Json::parse(r.body, nullptr, false)["registrations"].size() == 1;
  }, 10s));
  ASSERT_TRUE(waitUntil([&] {
    auto r = httpGet(a->http(), "/v1/nodes");
    return r.status == 200 && Json::parse(r.body, nullptr, false)["nodes"].size() == 1;
  }, 10s));
  EXPECT_NE(a->log().find("fleet-redis-up"), std::string::npos);
}

// Each node keeps its own ledger and publishes its flushes to the fleet's usage stream: /v1/usage?scope=fleet
// at either node, and rdv report --scope fleet, sum both nodes.
TEST(Fleet, UsageOfEveryNodeIsReportedWithScopeFleet) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  const std::vector<std::string> relayArgs{"--user", "alice:wonderland", "--allow-peer", "127.0.0.0/8",
                                           "--ledger-flush-interval", "100"};
  auto a = fleetNode(redis, relayArgs), b = fleetNode(redis, relayArgs);
  ASSERT_TRUE(a->started() && b->started()) << a->log() << b->log();
  UdpSocket peer;
  const auto peerEp = *Endpoint::parse("127.0.0.1:" + std::to_string(peer.port()));
  std::vector<std::unique_ptr<TurnTestClient>> clients;
  for (auto* node : {a.get(), b.get()}) {
    clients.push_back(std::make_unique<TurnTestClient>(*Endpoint::parse(node->udp()), "alice", "wonderland"));
    ASSERT_TRUE(clients.back()->allocate().ok) << node->log();
    ASSERT_TRUE(clients.back()->permit(peerEp).ok);
    const std::string payload(1000, 'x');
    ASSERT_TRUE(clients.back()->sendIndication(peerEp, asBytes(payload)));
    ASSERT_TRUE(peer.receive(5s).has_value());
  }
  Json doc;
  ASSERT_TRUE(waitUntil([&] {
    auto r = httpGet(b->ready()["admin"].get<std::string>(), "/v1/usage?scope=fleet", "Bearer " + kAdminToken);
    doc = Json::parse(r.body, nullptr, false);
    return r.status == 200 && doc["totals"]["bytes_to_peer"] == 2000 && doc["totals"]["allocations"] == 2;
  }, 15s)) << doc.dump();
  EXPECT_EQ(doc["scope"], "fleet");
  EXPECT_EQ(doc["nodes"].size(), 2u) << doc.dump();
  ASSERT_EQ(doc["rows"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["rows"][0]["key"], "alice");
  // Each node's own report still covers only itself.
  auto own = httpGet(a->ready()["admin"].get<std::string>(), "/v1/usage", "Bearer " + kAdminToken);
  EXPECT_EQ(Json::parse(own.body, nullptr, false)["totals"]["bytes_to_peer"], 1000) << own.body;
  auto bad = httpGet(a->ready()["admin"].get<std::string>(), "/v1/usage?scope=galaxy", "Bearer " + kAdminToken);
  EXPECT_EQ(bad.status, 400);

  auto report = run({binary("rdv"), "report", "--node", "http://" + a->ready()["admin"].get<std::string>(),
                     "--admin-token", kAdminToken, "--scope", "fleet", "--format", "json"});
  ASSERT_EQ(report.exitCode, 0) << report.err;
  auto rendered = Json::parse(report.out, nullptr, false);
  EXPECT_EQ(rendered["totals"]["bytes_to_peer"], 2000) << report.out;
  auto table = run({binary("rdv"), "report", "--node", "http://" + a->ready()["admin"].get<std::string>(),
                    "--admin-token", kAdminToken, "--scope", "fleet"});
  ASSERT_EQ(table.exitCode, 0) << table.err;
  EXPECT_NE(table.out.find("alice"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace rdv::test
