// The admin API: bearer token required, /metrics parses with Prometheus' reference parser and its
// counters match what the test did.
#include <gtest/gtest.h>

#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

const std::string kToken = "test-admin-token-0123456789";

std::string scraper() { return std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/prometheus_scrape.py"; }

TEST(Metrics, RequiresTokenAndParsesWithPrometheusParser) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2", "--admin-listen", "127.0.0.1:0", "--admin-token", kToken});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string admin = node.ready()["admin"];
  const std::string url = "http://" + admin + "/metrics";

  auto refused = run({"/usr/bin/python3", scraper(), url, "wrong-token"});
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.err.find("401"), std::string::npos) << refused.err;

  const int requests = 7;
  for (int i = 0; i < requests; ++i) ASSERT_EQ(run({binary("rdv"), "stun", node.udp()}).exitCode, 0);
  auto scrape = run({"/usr/bin/python3", scraper(), url, kToken});
  ASSERT_EQ(scrape.exitCode, 0) << scrape.err;
  auto j = nlohmann::json::parse(scrape.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << scrape.out;
  // The reference parser reports counters without the _total suffix in family names but keeps it on samples.
  EXPECT_EQ(j.value("rendezvous_binding_requests_total", -1.0), requests) << scrape.out;
  EXPECT_EQ(j.value(R"(rendezvous_relay_allocations_active{class="limited"})", -1.0), 0.0) << scrape.out;
  EXPECT_TRUE(j.contains("rendezvous_relay_bytes_client_to_peer_total")) << scrape.out;
}

TEST(Metrics, AdminTokenIsRequiredAtStart) {
  auto r = run({binary("rendezvousd"), "--admin-listen", "127.0.0.1:0", "--check-config"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("'admin-token'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rdv::test
