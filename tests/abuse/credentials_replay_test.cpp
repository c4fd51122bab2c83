// Attacks on GET /v1/ice-servers of a real rendezvousd (issue 12, item 4, credentials): a captured
// RDV-Sig header replayed from another address, and a flood of signed requests with fresh keys from
// one address. The honest client (rdv ice-servers on 127.0.0.1) is still served; RSS stays bounded.
#include <gtest/gtest.h>

#include <ctime>

#include "rendezvous/identity/api_signature.h"
#include "tests/abuse/hub_ws_client.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using abuse::connectFrom;

// GET /v1/ice-servers from `sourceIp` with an Authorization header; the status and body.
abuse::HttpReply iceServers(const std::string& sourceIp, const Node& node, const std::string& authorization) {
  abuse::HttpReply r;
  const int fd = connectFrom(sourceIp, node.http());
  if (fd < 0) return r;
  const std::string req = "GET /v1/ice-servers HTTP/1.1\r\nHost: " + node.http() + "\r\nAuthorization: " + authorization +
                          "\r\nConnection: close\r\n\r\n";
  std::string in;
  if (abuse::sendAll(fd, req)) abuse::readAtLeast(fd, in, SIZE_MAX, std::chrono::steady_clock::now() + 10s);
  ::close(fd);
  if (in.size() >= 12) r.status = std::stoi(in.substr(9, 3));
  if (const auto end = in.find("\r\n\r\n"); end != std::string::npos)
    r.body = nlohmann::json::parse(in.substr(end + 4), nullptr, false);
  return r;
}

std::string rdvSig(const identity::PrivateKey& key, const identity::NodeId& node, int64_t ts) {
  auto sig = key.signRecoverable(identity::apiRequestDigest(identity::kIceServersDomain, node, ts)).value();
  return "RDV-Sig " + key.nodeId().hex() + ":" + std::to_string(ts) + ":" + toHex(sig);
}

// Bound: RSS grows by less than 16 MiB.
TEST(CredentialAbuse, ReplayedHeadersAndFloodsAreRefusedHonestClientServed) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", "abuse-lab-secret-0123456789"});
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  auto info = abuse::httpFrom("127.0.0.1", node.http(), "GET", "/v1/node");
  ASSERT_EQ(info.status, 200);
  const auto nodeId = identity::NodeId::fromHex(info.body["node_id"].get<std::string>()).value();

  // The victim's header, captured on the wire: served once (to the victim), refused to the attacker.
  const auto victim = identity::PrivateKey::generate().value();
  const std::string header = rdvSig(victim, nodeId, static_cast<int64_t>(std::time(nullptr)));
  ASSERT_EQ(iceServers("127.0.0.1", node, header).status, 200);
  auto replay = iceServers("127.0.0.80", node, header);
  EXPECT_EQ(replay.status, 401);
  EXPECT_EQ(replay.body.value("error", ""), "replayed_signature") << replay.body.dump();

  // A flood of fresh identities from one address: the burst (10), then 429.
  int served = 0, limited = 0;
  for (int i = 0; i < 200; ++i) {
    const auto key = identity::PrivateKey::generate().value();
    const int status = iceServers("127.0.0.81", node, rdvSig(key, nodeId, static_cast<int64_t>(std::time(nullptr)))).status;
    served += status == 200;
    limited += status == 429;
  }
  std::cout << "[ measured ] ice-servers flood: 200 x" << served << ", 429 x" << limited << "\n";
  EXPECT_LE(served, 10 + 5);  // the burst, plus what 30/min refills while the flood runs
  EXPECT_GE(limited, 180);

  // The honest client, from its own address.
  ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", dir.file("honest.key")}).exitCode, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto honest = run({binary("rdv"), "ice-servers", "--node", "http://" + node.http(), "--key", dir.file("honest.key")}, 20s);
  ASSERT_EQ(honest.exitCode, 0) << honest.err;
  EXPECT_NE(honest.out.find("\"credential\""), std::string::npos) << honest.out;
  std::cout << "[ measured ] honest ice-servers: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count() << " ms\n";
  EXPECT_LT(node.process().rssKiB() - rssBefore, 16 * 1024);
}

}  // namespace
}  // namespace rdv::test
