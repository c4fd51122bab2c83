// Lifetimes with a fake clock: Refresh (RFC 8656 §7.3), allocation expiry, permission and channel expiry,
// and the single deadline the Server exposes.
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

TEST(Lifetime, RefreshZeroDeletesAndReleasesTheSocket) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const RelayPort relay = c.relayPort();
  const Bytes reply = c.refresh(0);
  ASSERT_TRUE(isSuccess(reply));
  EXPECT_EQ(view(reply).u32(stun::attr::Lifetime), 0u);
  EXPECT_EQ(h.server->allocationCount(), 0u);
  EXPECT_FALSE(h.binder.isBound(relay.family, relay.port));
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].reason, EndReason::Deleted);
  EXPECT_EQ(h.server->stats().allocationsDeleted, 1u);
  // A further Refresh: no allocation, 437.
  EXPECT_EQ(errorOf(c.refresh(600)), 437);
}

TEST(Lifetime, AllocationExpiresAfterItsLifetime) {
  Config config = baseConfig();
  config.usageInterval = std::chrono::hours(2);  // the metering tick would otherwise be the next deadline
  Harness h(config);
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const RelayPort relay = c.relayPort();
  ASSERT_TRUE(h.server->nextDeadline());
  EXPECT_EQ(*h.server->nextDeadline(), h.now.mono + Seconds(600));
  h.advance(Seconds(599));
  h.drain();
  EXPECT_EQ(h.server->allocationCount(), 1u);
  h.advance(Seconds(2));
  const auto cmds = h.drain();
  EXPECT_EQ(h.server->allocationCount(), 0u);
  ASSERT_EQ(Harness::only<ReleaseRelaySocket>(cmds).size(), 1u);
  EXPECT_EQ(Harness::only<ReleaseRelaySocket>(cmds)[0].relay, relay);
  EXPECT_FALSE(h.binder.isBound(relay.family, relay.port));
  EXPECT_EQ(h.server->stats().allocationsExpired, 1u);
  EXPECT_EQ(h.server->stats().allocationsActive, 0u);
  EXPECT_FALSE(h.server->nextDeadline());
  // The client's next request finds nothing.
  EXPECT_EQ(errorOf(c.refresh(600)), 437);
}

TEST(Lifetime, RefreshExtendsTheAllocation) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  for (int i = 0; i < 5; ++i) {
    h.advance(Seconds(500));
    ASSERT_TRUE(isSuccess(c.refresh(std::nullopt))) << i;
  }
  EXPECT_EQ(h.server->allocationCount(), 1u);
  h.advance(Seconds(601));
  EXPECT_EQ(h.server->allocationCount(), 0u);
}

TEST(Lifetime, PermissionExpiresAfter300Seconds) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.permit(peer)));
  const Bytes payload = {1, 2, 3};
  h.advance(Seconds(299));
  EXPECT_EQ(Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, payload)).size(), 1u);
  h.advance(Seconds(2));
  EXPECT_TRUE(Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, payload)).empty());
  EXPECT_EQ(h.server->stats().dropNoPermission, 1u);
  EXPECT_EQ(h.server->findAllocation(c.tuple)->permissions.size(), 0u);
  EXPECT_EQ(h.server->stats().permissionsActive, 0u);
}

TEST(Lifetime, PermissionRefreshKeepsItAlive) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.permit(peer)));
  h.advance(Seconds(250));
  ASSERT_TRUE(isSuccess(c.permit(peer)));
  h.advance(Seconds(250));
  const Bytes payload = {9};
  EXPECT_EQ(Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, payload)).size(), 1u);
}

TEST(Lifetime, ChannelExpiresAfter600SecondsAndItsPermissionBefore) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addU32(stun::attr::Lifetime, 3600);
  })));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4001, peer)));
  Bytes cd;
  stun::appendChannelData(cd, 0x4001, asBytes("hi"), false);
  // After 300 s the permission is gone but the channel remains: data is dropped for lack of permission.
  h.advance(Seconds(301));
  EXPECT_TRUE(Harness::only<SendToPeer>((h.server->handleClientInput(cd, c.tuple, h.now), h.drain())).empty());
  EXPECT_EQ(h.server->stats().dropNoPermission, 1u);
  EXPECT_NE(h.server->findChannel(c.tuple, 0x4001), nullptr);
  // After 600 s the channel is gone too: unknown channel.
  h.advance(Seconds(300));
  EXPECT_EQ(h.server->findChannel(c.tuple, 0x4001), nullptr);
  h.server->handleClientInput(cd, c.tuple, h.now);
  h.drain();
  EXPECT_EQ(h.server->stats().dropUnknownChannel, 1u);
  EXPECT_EQ(h.server->stats().channelsActive, 0u);
  // The channel number and the peer are free again: binding them differently now works.
  EXPECT_TRUE(isSuccess(c.bindChannel(0x4001, ep("8.8.4.4:1"))));
}

TEST(Lifetime, ChannelRebindRefreshesChannelAndPermission) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addU32(stun::attr::Lifetime, 3600);
  })));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4001, peer)));
  for (int i = 0; i < 4; ++i) {
    h.advance(Seconds(280));
    ASSERT_TRUE(isSuccess(c.bindChannel(0x4001, peer)));
  }
  const Bytes payload = {1};
  const auto out = Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, payload));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].bytes[0], 0x40);  // ChannelData, not a Data indication
}

TEST(Lifetime, ClosedStreamEndsItsAllocation) {
  Harness h;
  TurnClient c(h, tcpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const RelayPort relay = c.relayPort();
  h.server->handleConnectionClosed(c.tuple, h.now);
  const auto cmds = h.drain();
  EXPECT_EQ(h.server->allocationCount(), 0u);
  EXPECT_FALSE(h.binder.isBound(relay.family, relay.port));
  ASSERT_EQ(Harness::only<AllocationEnded>(cmds).size(), 1u);
  EXPECT_EQ(Harness::only<AllocationEnded>(cmds)[0].reason, EndReason::ConnectionClosed);
}

TEST(Lifetime, TimerHeapStaysSmallUnderRefreshes) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  // Thousands of refreshes never leave the deadline behind the allocation's real expiry.
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(isSuccess(c.permit(peer)));
    ASSERT_TRUE(isSuccess(c.refresh(600)));
    h.advance(Seconds(1));
  }
  ASSERT_TRUE(h.server->nextDeadline());
  EXPECT_LE(*h.server->nextDeadline(), h.now.mono + Seconds(600));
  EXPECT_EQ(h.server->allocationCount(), 1u);
}

}  // namespace
}  // namespace rdv::relay::test
