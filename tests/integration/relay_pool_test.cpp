// The worker's pool of relay sockets against the real rendezvousd (issue 13 item 3): a relay socket whose
// allocation ended goes back into the pool (io/relay_pool.cpp) and a later allocation gets it. It must
// carry nothing of the old allocation: no permission, no channel, no datagram queued for it.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }
ByteSpan text(const std::string& s) { return asBytes(std::string_view(s)); }
std::string asText(const Bytes& b) { return std::string(b.begin(), b.end()); }

TEST(RelayPool, ARecycledRelaySocketRelaysNothingOfTheOldAllocation) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "1", "--user", "alice:wonderland", "--allow-peer",
             "127.0.0.0/8", "--allocate-rate-per-ip", "1000", "--allocate-burst-per-ip", "1000"});
  ASSERT_TRUE(node.started()) << node.log();
  UdpSocket peer;
  ASSERT_TRUE(peer.ok());
  TurnTestClient a(loopback(node.udpPort()), "alice", "wonderland");
  ASSERT_TRUE(a.allocate().ok) << node.log();
  const Endpoint relayed = *a.relayed();
  ASSERT_TRUE(a.bindChannel(0x4000, peer.local()).ok);
  ASSERT_TRUE(peer.sendTo(relayed, text("live")));
  auto got = a.receiveData(std::chrono::seconds(5));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(asText(*got), "live");

  // Datagrams from the peer right up to the end of the allocation (each either reaches A while it lives
  // or is discarded with the socket's queue), and after it (the pooled socket drops them).
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(peer.sendTo(relayed, text("old-" + std::to_string(i))));
  ASSERT_TRUE(a.refresh(0).ok);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(peer.sendTo(relayed, text("late-" + std::to_string(i))));

  // The pool is a queue: the recycled socket comes round after the ones waiting before it.
  std::vector<std::unique_ptr<TurnTestClient>> others;
  TurnTestClient* b = nullptr;
  for (int k = 0; k < 40 && !b; ++k) {
    auto c = std::make_unique<TurnTestClient>(loopback(node.udpPort()), "alice", "wonderland");
    c->learnFrom(a);
    ASSERT_TRUE(c->allocate().ok) << node.log();
    if (*c->relayed() == relayed) b = c.get();
    others.push_back(std::move(c));
  }
  ASSERT_NE(b, nullptr) << "no allocation got the released relay port back";

  // No permission came with the socket: the old peer is not relayed.
  ASSERT_TRUE(peer.sendTo(relayed, text("no-permission")));
  got = b->receiveData(std::chrono::milliseconds(300));
  EXPECT_FALSE(got.has_value()) << asText(*got);
  // No channel came with it: ChannelData on A's channel number goes nowhere.
  ASSERT_TRUE(b->sendChannelData(0x4000, text("stale-channel")));
  got = peer.receive(std::chrono::milliseconds(300));
  EXPECT_FALSE(got.has_value()) << asText(*got);

  // With its own permission, the new allocation gets exactly what the peer sends from now on.
  ASSERT_TRUE(b->permit(peer.local()).ok);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(peer.sendTo(relayed, text("new-" + std::to_string(i))));
  for (int i = 0; i < 5; ++i) {
    got = b->receiveData(std::chrono::seconds(5));
    ASSERT_TRUE(got.has_value()) << "new-" << i;
    EXPECT_EQ(asText(*got), "new-" + std::to_string(i));
  }
  got = b->receiveData(std::chrono::milliseconds(200));
  EXPECT_FALSE(got.has_value()) << asText(*got);
}

}  // namespace
}  // namespace rdv::test
