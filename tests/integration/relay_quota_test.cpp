// Relay metering and quotas (issue 7) against the real rendezvousd: exact totals on SIGTERM, the limited
// class's data cap, a rate cap over many allocations, 486/508 at Allocate, SIGHUP reloads.
#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

// The node's JSON log lines with "event" == `event`.
std::vector<nlohmann::json> events(const std::string& log, const std::string& event) {
  std::vector<nlohmann::json> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) out.push_back(std::move(j));
  }
  return out;
}

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

TEST(RelayMetering, SigtermEndsLiveAllocationsWithExactTotals) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2", "--user", "alice:wonderland", "--allow-peer",
             "127.0.0.0/8", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  TurnTestClient client(loopback(node.udpPort()), "alice", "wonderland");
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4000, peer.local()).ok);
  // Known byte counts both ways; every datagram is confirmed received before the next is counted.
  uint64_t toPeer = 0, toClient = 0;
  Endpoint relayed;
  for (int i = 1; i <= 20; ++i) {
    const Bytes out(static_cast<size_t>(i * 10), 0x5a);
    ASSERT_TRUE(client.sendChannelData(0x4000, out));
    auto got = peer.receive(std::chrono::seconds(5), &relayed);
    ASSERT_TRUE(got && got->size() == out.size());
    toPeer += out.size();
    const Bytes back(static_cast<size_t>(i * 7), 0xa5);
    ASSERT_TRUE(peer.sendTo(relayed, back));
    auto echoed = client.receiveData(std::chrono::seconds(5));
    ASSERT_TRUE(echoed && echoed->size() == back.size());
    toClient += back.size();
  }
  const auto status = node.process().stop(SIGTERM);
  ASSERT_TRUE(status) << node.log();
  const auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u) << node.log();
  EXPECT_EQ(ended[0].value("reason", ""), "shutdown");
  EXPECT_EQ(ended[0].value("bytes_to_peer", uint64_t{0}), toPeer);
  EXPECT_EQ(ended[0].value("bytes_to_client", uint64_t{0}), toClient);
  EXPECT_EQ(ended[0].value("packets_to_peer", uint64_t{0}), 20u);
  EXPECT_EQ(ended[0].value("packets_to_client", uint64_t{0}), 20u);
  EXPECT_EQ(ended[0].value("peers", 0), 1);
}

}  // namespace
}  // namespace rdv::test
