// The batched data path against the real rendezvousd (issue 13): bursts of ChannelData both ways, read
// with recvmmsg and sent with sendmmsg/UDP GSO in batches, arrive complete, byte for byte, in their own
// datagrams, and the usage counters the node reports match exactly.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

// Payload `i` of a burst: its index in the first 4 bytes, then a pattern of its own. Mostly one size (so
// that consecutive datagrams to one destination form GSO runs), with shorter and longer ones mixed in.
Bytes payload(uint32_t i, uint8_t salt) {
  const size_t size = i % 10 == 9 ? 61 + i % 7 : (i % 25 == 12 ? 1300 : 180);
  Bytes b(size);
  storeBe32(b.data(), i);
  for (size_t k = 4; k < size; ++k) b[k] = static_cast<uint8_t>(i * 31 + k * 7 + salt);
  return b;
}

TEST(RelayBurst, HundredsOfChannelDataBothWaysEveryByteAndExactCounters) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland", "--allow-peer",
             "127.0.0.0/8", "--log-format", "json"});
  ASSERT_TRUE(node.started()) << node.log();
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  TurnTestClient client(loopback(node.udpPort()), "alice", "wonderland");
  ASSERT_TRUE(client.allocate().ok) << node.log();
  ASSERT_TRUE(client.bindChannel(0x4000, peer.local()).ok);

  constexpr uint32_t kPackets = 600;
  constexpr uint32_t kBurst = 60;  // sent back to back; the node's socket buffers hold a burst
  uint64_t bytesToPeer = 0, bytesToClient = 0;
  Endpoint relayed;
  // Client -> peer.
  std::map<uint32_t, Bytes> atPeer;
  for (uint32_t first = 0; first < kPackets; first += kBurst) {
    for (uint32_t i = first; i < first + kBurst; ++i) {
      const Bytes p = payload(i, 1);
      ASSERT_TRUE(client.sendChannelData(0x4000, p));
      bytesToPeer += p.size();
    }
    while (atPeer.size() < first + kBurst) {
      auto got = peer.receive(std::chrono::seconds(10), &relayed);
      ASSERT_TRUE(got.has_value()) << "peer got " << atPeer.size() << " of " << first + kBurst;
      ASSERT_GE(got->size(), 4u);
      const uint32_t i = loadBe32(got->data());
      EXPECT_EQ(*got, payload(i, 1)) << "datagram " << i;
      EXPECT_TRUE(atPeer.emplace(i, std::move(*got)).second) << "datagram " << i << " twice";
    }
  }
  ASSERT_EQ(atPeer.size(), kPackets);
  EXPECT_EQ(relayed, *client.relayed());

  // Peer -> client: ChannelData to the client, in batches from the relay socket.
  std::map<uint32_t, Bytes> atClient;
  for (uint32_t first = 0; first < kPackets; first += kBurst) {
    for (uint32_t i = first; i < first + kBurst; ++i) {
      const Bytes p = payload(i, 2);
      ASSERT_TRUE(peer.sendTo(relayed, p));
      bytesToClient += p.size();
    }
    while (atClient.size() < first + kBurst) {
      auto got = client.receiveData(std::chrono::seconds(10));
      ASSERT_TRUE(got.has_value()) << "client got " << atClient.size() << " of " << first + kBurst;
      ASSERT_GE(got->size(), 4u);
      const uint32_t i = loadBe32(got->data());
      EXPECT_EQ(*got, payload(i, 2)) << "datagram " << i;
      EXPECT_TRUE(atClient.emplace(i, std::move(*got)).second) << "datagram " << i << " twice";
    }
  }
  ASSERT_EQ(atClient.size(), kPackets);

  // The usage the node reports (the allocation's final totals, as the ledger books them) is exact.
  ASSERT_TRUE(node.process().stop(SIGTERM)) << node.log();
  const auto ended = events(node.log(), "allocation-ended");
  ASSERT_EQ(ended.size(), 1u) << node.log();
  EXPECT_EQ(ended[0].value("bytes_to_peer", uint64_t{0}), bytesToPeer);
  EXPECT_EQ(ended[0].value("bytes_to_client", uint64_t{0}), bytesToClient);
  EXPECT_EQ(ended[0].value("packets_to_peer", uint64_t{0}), kPackets);
  EXPECT_EQ(ended[0].value("packets_to_client", uint64_t{0}), kPackets);
}

}  // namespace
}  // namespace rdv::test
