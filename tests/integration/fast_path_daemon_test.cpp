// The kernel fast path in the real daemon (issue 14): rendezvousd with kernel-fast-path on, our TURN
// client and a peer on loopback. Every ChannelData datagram of a burst both ways is forwarded by the
// kernel (the daemon's kernel-fast-path-stopped line counts them), arrives byte for byte, and the
// allocation's totals the node books are exact. Needs root (BPF); skips with the reason otherwise.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

Bytes payload(uint32_t i, uint8_t salt) {
  const size_t size = i % 10 == 9 ? 61 + i % 7 : (i % 25 == 12 ? 1300 : 180);
  Bytes b(size);
  storeBe32(b.data(), i);
  for (size_t k = 4; k < size; ++k) b[k] = static_cast<uint8_t>(i * 31 + k * 7 + salt);
  return b;
}

std::optional<nlohmann::json> lastEvent(const std::string& log, const std::string& event) {
  std::optional<nlohmann::json> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == event) out = std::move(j);
  }
  return out;
}

TEST(FastPathDaemon, KernelForwardsTheBurstBothWaysAndTheTotalsStayExact) {
  if (geteuid() != 0) GTEST_SKIP() << "the kernel fast path needs root (CAP_BPF, CAP_NET_ADMIN)";
  Node node({"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland", "--allow-peer",
             "127.0.0.0/8", "--log-format", "json", "--kernel-fast-path", "on"});
  ASSERT_TRUE(node.started()) << node.log();
  auto started = lastEvent(node.log(), "kernel-fast-path");
  ASSERT_TRUE(started) << node.log();
  EXPECT_EQ(started->value("devices", ""), "lo");
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  TurnTestClient client(loopback(node.udpPort()), "alice", "wonderland");
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4000, peer.local()).ok);

  constexpr uint32_t kPackets = 300;
  uint64_t bytesToPeer = 0, bytesToClient = 0;
  Endpoint relayed;
  for (uint32_t i = 0; i < kPackets; ++i) {
    const Bytes p = payload(i, 1);
    ASSERT_TRUE(client.sendChannelData(0x4000, p));
    bytesToPeer += p.size();
    auto got = peer.receive(std::chrono::seconds(10), &relayed);
    ASSERT_TRUE(got.has_value()) << "datagram " << i << " did not reach the peer\n" << node.log();
    EXPECT_EQ(*got, p) << "datagram " << i;
  }
  EXPECT_EQ(relayed, *client.relayed()) << "the kernel sends from the allocation's relayed address";
  for (uint32_t i = 0; i < kPackets; ++i) {
    const Bytes p = payload(i, 2);
    ASSERT_TRUE(peer.sendTo(relayed, p));
    bytesToClient += p.size();
    auto got = client.receiveData(std::chrono::seconds(10));
    ASSERT_TRUE(got.has_value()) << "datagram " << i << " did not come back";
    EXPECT_EQ(*got, p) << "datagram " << i;
  }

  ASSERT_TRUE(node.process().stop(SIGTERM)) << node.log();
  auto kernel = lastEvent(node.log(), "kernel-fast-path-stopped");
  ASSERT_TRUE(kernel) << node.log();
  EXPECT_EQ(kernel->value("to_peer_packets", uint64_t{0}), kPackets) << "the kernel carried every datagram";
  EXPECT_EQ(kernel->value("to_client_packets", uint64_t{0}), kPackets);
  EXPECT_EQ(kernel->value("to_peer_bytes", uint64_t{0}), bytesToPeer);
  auto ended = lastEvent(node.log(), "allocation-ended");
  ASSERT_TRUE(ended) << node.log();
  EXPECT_EQ(ended->value("bytes_to_peer", uint64_t{0}), bytesToPeer);
  EXPECT_EQ(ended->value("bytes_to_client", uint64_t{0}), bytesToClient);
  EXPECT_EQ(ended->value("packets_to_peer", uint64_t{0}), kPackets);
  EXPECT_EQ(ended->value("packets_to_client", uint64_t{0}), kPackets);
}

TEST(FastPathDaemon, OnRefusesToStartWithoutASpecificRelayAddress) {
  Node node({"--listen", "0.0.0.0:0", "--workers", "1", "--kernel-fast-path", "on"});
  EXPECT_FALSE(node.started());
  EXPECT_NE(node.log().find("kernel-fast-path on: needs a specific IPv4 relay address"), std::string::npos)
      << node.log();
}

TEST(FastPathDaemon, AutoFallsBackToUserSpaceWithOneLine) {
  Node node({"--listen", "0.0.0.0:0", "--workers", "1", "--kernel-fast-path", "auto", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  auto why = lastEvent(node.log(), "kernel-fast-path-unavailable");
  ASSERT_TRUE(why) << node.log();
  EXPECT_EQ(why->value("using", ""), "user space");
}

}  // namespace
}  // namespace rdv::test
