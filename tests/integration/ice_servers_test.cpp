// GET /v1/ice-servers: the API core with a fixed clock (signatures, skew, secrets), and end to end:
// credentials fetched by `rdv ice-servers` carry a relay allocation by coturn's turnutils_uclient,
// metered under the peer's node id; an expired credential gets 401.
#include <gtest/gtest.h>

#include <fstream>

#include "relay/credentials.h"
#include "rendezvous/identity/api_signature.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/node/api/ice_servers.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

using node::HttpRequest;

struct Fixture {
  identity::PrivateKey nodeKey = identity::PrivateKey::generate().value();
  identity::PrivateKey peerKey = identity::PrivateKey::generate().value();
  int64_t now = 1'800'000'000;
  node::IceServersApi api{node::IceServersConfig{{"current", "old"},
                                                 nodeKey.nodeId(),
                                                 {*Endpoint::parse("127.0.0.1:3478")},
                                                 {*Endpoint::parse("127.0.0.1:5349")},
                                                 {},
                                                 3600,
                                                 300},
                          [this] { return now; }};

  HttpRequest signedBy(const identity::PrivateKey& key, const identity::NodeId& forNode, int64_t ts) const {
    HttpRequest r;
    auto sig = key.signRecoverable(identity::apiRequestDigest(identity::kIceServersDomain, forNode, ts)).value();
    r.authorization = "RDV-Sig " + key.nodeId().hex() + ":" + std::to_string(ts) + ":" + toHex(sig);
    return r;
  }
};

TEST(IceServersApi, SignedRequestGetsCredentialBoundToNodeId) {
  Fixture f;
  auto resp = f.api.get(f.signedBy(f.peerKey, f.nodeKey.nodeId(), f.now - 10));
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto j = nlohmann::json::parse(resp.body);
  const auto& turn = j["iceServers"][1];
  const std::string username = turn["username"];
  EXPECT_EQ(username, std::to_string(f.now + 3600) + ":" + f.peerKey.nodeId().hex());
  // Made with the first secret's node-bound derivation (quota key space `node`), not the plain secret.
  EXPECT_EQ(turn["credential"], relay::restPassword(relay::nodeCredentialSecret("current"), username));
  EXPECT_NE(turn["credential"], relay::restPassword("current", username));
  EXPECT_EQ(j["iceServers"][0]["urls"][0], "stun:127.0.0.1:3478");
  EXPECT_EQ(turn["urls"], nlohmann::json::array({"turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp",
                                                 "turns:127.0.0.1:5349?transport=tcp"}));
}

TEST(IceServersApi, RefusesForgedStaleAndMisdirectedSignatures) {
  Fixture f;
  auto other = identity::PrivateKey::generate().value();
  // Signed for another node: no replay across nodes.
  EXPECT_EQ(f.api.get(f.signedBy(f.peerKey, other.nodeId(), f.now)).status, 401);
  // Too old and too far in the future.
  EXPECT_EQ(f.api.get(f.signedBy(f.peerKey, f.nodeKey.nodeId(), f.now - 301)).status, 401);
  EXPECT_EQ(f.api.get(f.signedBy(f.peerKey, f.nodeKey.nodeId(), f.now + 301)).status, 401);
  // A signature by one key claimed for another node id.
  HttpRequest r = f.signedBy(f.peerKey, f.nodeKey.nodeId(), f.now);
  r.authorization.replace(8, 64, other.nodeId().hex());
  EXPECT_EQ(f.api.get(r).status, 401);
  // Malformed headers are 400 with a message, absent ones 401.
  HttpRequest bad;
  bad.authorization = "RDV-Sig nonsense";
  EXPECT_EQ(f.api.get(bad).status, 400);
  EXPECT_EQ(f.api.get(HttpRequest{}).status, 401);
}

TEST(IceServersApi, ASignedHeaderIsAcceptedOnce) {
  Fixture f;
  const HttpRequest r = f.signedBy(f.peerKey, f.nodeKey.nodeId(), f.now - 5);
  ASSERT_EQ(f.api.get(r).status, 200);
  auto again = f.api.get(r);  // the same header, replayed within the skew window
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(nlohmann::json::parse(again.body)["error"], "replayed_signature") << again.body;
  f.now += 200;  // still inside this fixture's 300 s window
  EXPECT_EQ(f.api.get(r).status, 401);
  EXPECT_EQ(f.api.replaysRefused(), 2u);
  // The owner signs the next request with the current time and is served.
  EXPECT_EQ(f.api.get(f.signedBy(f.peerKey, f.nodeKey.nodeId(), f.now)).status, 200);
}

TEST(IceServersApi, DefaultSkewIsOneMinute) {
  EXPECT_EQ(node::IceServersConfig{}.maxClockSkewSeconds, 60u);
}

TEST(IceServersApi, RateLimitedPerSourceAddress) {
  Fixture f;
  HttpRequest r;
  r.authorization = "Bearer current";
  r.remoteIp = "127.0.0.9";
  int served = 0;
  for (int i = 0; i < 30; ++i) served += f.api.get(r).status == 200;
  EXPECT_GE(served, 10);  // the default burst (plus one if the loop took over 2 s)
  EXPECT_LE(served, 11);
  auto limited = f.api.get(r);
  ASSERT_EQ(limited.status, 429);
  EXPECT_EQ(nlohmann::json::parse(limited.body)["error"], "rate_limited");
  // Another address has its own bucket.
  r.remoteIp = "127.0.0.10";
  EXPECT_EQ(f.api.get(r).status, 200);
  EXPECT_GE(f.api.rateLimited(), 20u);
}

TEST(IceServersApi, SharedSecretForAppsAcceptsRotatedSecrets) {
  Fixture f;
  HttpRequest r;
  r.authorization = "Bearer old";
  r.query["username"] = "synapse";
  auto resp = f.api.get(r);
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(nlohmann::json::parse(resp.body)["iceServers"][1]["username"], std::to_string(f.now + 3600) + ":synapse");
  r.authorization = "Bearer wrong";
  EXPECT_EQ(f.api.get(r).status, 401);
  r.authorization = "Bearer current";
  r.query["username"] = "a:b";
  EXPECT_EQ(f.api.get(r).status, 400);
}

TEST(IceServers, CredentialsCarryACoturnClientAndExpiredOnesAreRefused) {
  ASSERT_TRUE(onPath("turnutils_uclient")) << "coturn's clients are needed (scripts/install-deps.sh --test)";
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", "s3cret-0123456789", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string url = "http://" + node.http();

  auto key = run({binary("rdv"), "key", "new", "--out", dir.file("peer.key")});
  ASSERT_EQ(key.exitCode, 0) << key.err;
  const std::string nodeId = key.out.substr(0, 64);
  auto fetched = run({binary("rdv"), "ice-servers", "--node", url, "--key", dir.file("peer.key")});
  ASSERT_EQ(fetched.exitCode, 0) << fetched.err;
  auto j = nlohmann::json::parse(fetched.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << fetched.out;
  const std::string username = j["iceServers"][1]["username"];
  const std::string credential = j["iceServers"][1]["credential"];
  EXPECT_EQ(username.substr(username.find(':') + 1), nodeId);

  // turnutils_peer echoes; it is ready once it echoes a probe of ours (retried on a port race).
  std::unique_ptr<Process> peer;
  uint16_t peerPort = 0;
  const auto echoes = [&](uint16_t port) {
    UdpSocket probe;
    const Bytes ping = {'p', 'r', 'o', 'b', 'e'};
    if (!probe.ok() || !probe.sendTo(Endpoint(*IpAddress::parse("127.0.0.1"), port), ping)) return false;
    auto got = probe.receive(200ms);
    return got && *got == ping;
  };
  for (int i = 0; i < 5 && !peer; ++i) {
    peerPort = freeUdpPort();
    peer = std::make_unique<Process>(std::vector<std::string>{"turnutils_peer", "-p", std::to_string(peerPort), "-L", "127.0.0.1"},
                                     dir.file("peer.log"));
    if (!waitUntil([&] { return !peer->running() || echoes(peerPort); }, 10s) || !peer->running()) peer.reset();
  }
  ASSERT_TRUE(peer) << "turnutils_peer did not start";
  const std::string port = std::to_string(node.udpPort());
  auto uclient = run({"turnutils_uclient", "-u", username, "-w", credential, "-p", port, "-e", "127.0.0.1", "-r",
                      std::to_string(peerPort), "-n", "20", "-m", "2", "-l", "200", "127.0.0.1"},
                     60s);
  EXPECT_EQ(uclient.exitCode, 0) << uclient.out << uclient.err;
  EXPECT_NE(uclient.out.find("Total lost packets 0 "), std::string::npos) << uclient.out;
  // Metered per identity: the allocation log names the peer's node id.
  EXPECT_NE(node.log().find("identity=" + nodeId), std::string::npos) << node.log();

  // An expired REST username (same secret, expiry in the past) is refused (401): no allocation starts.
  auto countAllocations = [&node] {
    const std::string log = node.log();
    size_t n = 0;
    for (size_t at = log.find("allocation-started"); at != std::string::npos; at = log.find("allocation-started", at + 1)) ++n;
    return n;
  };
  const size_t before = countAllocations();
  const std::string expired = "1000000000:" + nodeId;
  auto refused = run({"turnutils_uclient", "-u", expired, "-w", relay::restPassword("s3cret-0123456789", expired), "-p", port,
                      "-e", "127.0.0.1", "-r", std::to_string(peerPort), "-n", "5", "-m", "1", "-l", "200", "127.0.0.1"},
                     60s);
  EXPECT_NE(refused.exitCode, 0) << refused.out;
  EXPECT_NE(refused.out.find("Cannot complete Allocation"), std::string::npos) << refused.out << refused.err;
  EXPECT_EQ(countAllocations(), before) << node.log();
}

}  // namespace
}  // namespace rdv::test

