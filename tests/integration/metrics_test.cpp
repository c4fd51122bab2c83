// The admin API: bearer token required, /metrics parses with Prometheus' reference parser and its
// counters match what the test did.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

const std::string kToken = "test-admin-token-0123456789";

std::string scraper() { return std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/prometheus_scrape.py"; }

TEST(Metrics, RequiresTokenAndParsesWithPrometheusParser) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2", "--admin-listen", "127.0.0.1:0", "--admin-token", kToken,
             "--user", "alice:wonderland", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string admin = node.ready()["admin"];
  const std::string url = "http://" + admin + "/metrics";

  auto refused = run({"/usr/bin/python3", scraper(), url, "wrong-token"});
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;

  const int requests = 7;
  for (int i = 0; i < requests; ++i) ASSERT_EQ(run({binary("rdv"), "stun", node.udp()}).exitCode, 0);
  // Relayed bytes of known size: Send indications of 10 + 20 + 30 bytes to a peer that receives them all.
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  const Endpoint server(*IpAddress::parse("127.0.0.1"), node.udpPort());
  TurnTestClient client(server, "alice", "wonderland");
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.permit(peer.local()).ok);
  uint64_t relayed = 0;
  for (size_t n : {10u, 20u, 30u}) {
    ASSERT_TRUE(client.sendIndication(peer.local(), Bytes(n, 0x42)));
    auto got = peer.receive(std::chrono::milliseconds(5000));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->size(), n);
    relayed += n;
  }
  // The by-class gauge is the ledger's (booked at its next flush, within a second): scrape until it shows.
  CommandResult scrape;
  nlohmann::json j;
  waitUntil([&] {
    scrape = run({"/usr/bin/python3", scraper(), url, kToken});
    j = nlohmann::json::parse(scrape.out, nullptr, false);
    return j.is_object() && j.value(R"(rendezvous_relay_allocations_active{class="unlimited"})", -1.0) == 1.0;
  }, 10s);
  ASSERT_EQ(scrape.exitCode, 0) << scrape.err;
  ASSERT_TRUE(j.is_object()) << scrape.out;
  // The reference parser reports counters without the _total suffix in family names but keeps it on samples.
  EXPECT_EQ(j.value("rendezvous_binding_requests_total", -1.0), requests) << scrape.out;
  // alice is a static user (class "unlimited"): one live allocation there, none in "limited".
  EXPECT_EQ(j.value(R"(rendezvous_relay_allocations_active{class="limited"})", -1.0), 0.0) << scrape.out;
  EXPECT_EQ(j.value(R"(rendezvous_relay_allocations_active{class="unlimited"})", -1.0), 1.0) << scrape.out;
  EXPECT_EQ(j.value("rendezvous_relay_bytes_client_to_peer_total", -1.0), static_cast<double>(relayed)) << scrape.out;
}

TEST(Metrics, AdminTokenIsRequiredAtStart) {
  auto r = run({binary("rendezvousd"), "--admin-listen", "127.0.0.1:0", "--check-config"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("'admin-token'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rdv::test
