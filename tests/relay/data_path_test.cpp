// Relayed traffic: CreatePermission and ChannelBind rules, Send/Data indications, ChannelData both ways
// (padded on TCP), drops counted, policy 403s.
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

Bytes sendIndication(TurnClient& c, const Endpoint& peer, ByteSpan data, bool df = false) {
  return c.build(Method::Send, stun::Class::Indication, c.nextTid(), [&](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, peer).add(stun::attr::Data, data);
    if (df) b.addFlag(stun::attr::DontFragment);
  }, false);
}

std::vector<Command> fromClient(Harness& h, const ClientTuple& t, ByteSpan bytes) {
  h.server->handleClientInput(bytes, t, h.now);
  return h.drain();
}

TEST(DataPath, SendAndDataIndications) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  const Bytes payload = {'h', 'e', 'l', 'l', 'o'};
  // Without a permission: dropped silently.
  EXPECT_TRUE(fromClient(h, c.tuple, sendIndication(c, peer, payload)).empty());
  EXPECT_EQ(h.server->stats().dropNoPermission, 1u);

  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:1"))));  // the port does not matter for permissions
  auto out = Harness::only<SendToPeer>(fromClient(h, c.tuple, sendIndication(c, peer, payload, true)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].peer, peer);
  EXPECT_EQ(out[0].relay, c.relayPort());
  EXPECT_EQ(out[0].bytes, payload);
  EXPECT_TRUE(out[0].dontFragment);

  // Peer -> client without a channel: a Data indication with XOR-PEER-ADDRESS and DATA.
  const Bytes answer = {'w', 'o', 'r', 'l', 'd', '!'};
  const auto back = Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, answer));
  ASSERT_EQ(back.size(), 1u);
  const auto m = view(back[0].bytes);
  EXPECT_TRUE(m.is(Method::Data, stun::Class::Indication));
  EXPECT_EQ(m.xorAddress(stun::attr::XorPeerAddress), peer);
  ASSERT_TRUE(m.data());
  EXPECT_EQ(Bytes(m.data()->begin(), m.data()->end()), answer);

  // From an address without permission: dropped.
  EXPECT_TRUE(h.fromPeer(c.relayPort(), ep("8.8.4.4:9000"), answer).empty());
  const Stats& s = h.server->stats();
  EXPECT_EQ(s.sendIndications, 1u);
  EXPECT_EQ(s.dataIndications, 1u);
  EXPECT_EQ(s.bytesClientToPeer, 5u);
  EXPECT_EQ(s.bytesPeerToClient, 6u);
  EXPECT_EQ(s.dropNoPermission, 2u);
}

TEST(DataPath, SendIndicationWithoutDataOrPeerIsDropped) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(c.permit(ep("8.8.8.8:1"))));
  const Bytes noData = c.build(Method::Send, stun::Class::Indication, c.nextTid(), [](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, ep("8.8.8.8:1"));
  }, false);
  EXPECT_TRUE(fromClient(h, c.tuple, noData).empty());
  const Bytes noPeer = c.build(Method::Send, stun::Class::Indication, c.nextTid(), [](MessageBuilder& b) {
    b.add(stun::attr::Data, asBytes("x"));
  }, false);
  EXPECT_TRUE(fromClient(h, c.tuple, noPeer).empty());
  EXPECT_EQ(h.server->stats().dropBadIndication, 2u);
  // A Send indication from a 5-tuple without allocation.
  TurnClient stranger(h, udpTuple("198.51.100.99:1"));
  EXPECT_TRUE(fromClient(h, stranger.tuple, sendIndication(stranger, ep("8.8.8.8:1"), asBytes("x"))).empty());
  EXPECT_EQ(h.server->stats().dropNoAllocation, 1u);
}

TEST(DataPath, ChannelDataBothWaysOverUdp) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, peer)));
  Bytes cd;
  stun::appendChannelData(cd, 0x4000, asBytes("abcde"), false);
  const auto out = Harness::only<SendToPeer>(fromClient(h, c.tuple, cd));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].peer, peer);
  EXPECT_EQ(asString(out[0].bytes), "abcde");

  const auto back = Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, asBytes("xyz")));
  ASSERT_EQ(back.size(), 1u);
  Bytes expected;
  stun::appendChannelData(expected, 0x4000, asBytes("xyz"), false);
  EXPECT_EQ(back[0].bytes, expected);  // UDP: no padding (7 bytes)
  const ChannelBinding* ch = h.server->findChannel(c.tuple, 0x4000);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->toPeer.bytes, 5u);
  EXPECT_EQ(ch->toClient.bytes, 3u);
  EXPECT_EQ(ch->toPeer.packets, 1u);
  // Recycled buffers are reused without changing what is sent.
  for (auto& cmd : h.log) {
    if (auto* s = std::get_if<SendToPeer>(&cmd)) h.server->recycle(std::move(s->bytes));
  }
  EXPECT_EQ(asString(Harness::only<SendToPeer>(fromClient(h, c.tuple, cd))[0].bytes), "abcde");
}

TEST(DataPath, ChannelDataIsPaddedForTcpClients) {
  Harness h;
  TurnClient c(h, tcpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4ABC, peer)));
  const auto back = Harness::only<SendToClient>(h.fromPeer(c.relayPort(), peer, asBytes("xyz")));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].tuple, c.tuple);
  ASSERT_EQ(back[0].bytes.size(), 8u);  // 4 + 3, padded to 8
  EXPECT_EQ(loadBe16(back[0].bytes.data() + 2), 3);
  // A padded frame from the TCP client is accepted (the length field says 3).
  Bytes cd;
  stun::appendChannelData(cd, 0x4ABC, asBytes("abc"), true);
  ASSERT_EQ(cd.size(), 8u);
  const auto out = Harness::only<SendToPeer>(fromClient(h, c.tuple, cd));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(asString(out[0].bytes), "abc");
}

TEST(DataPath, UnknownChannelIsDroppedAndCounted) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  Bytes cd;
  stun::appendChannelData(cd, 0x4123, asBytes("abc"), false);
  EXPECT_TRUE(fromClient(h, c.tuple, cd).empty());
  EXPECT_EQ(h.server->stats().dropUnknownChannel, 1u);
  // From a tuple with no allocation at all: the same.
  EXPECT_TRUE(fromClient(h, udpTuple("1.1.1.1:1"), cd).empty());
  EXPECT_EQ(h.server->stats().dropUnknownChannel, 2u);
  // Peer data on a relay port nobody owns.
  EXPECT_TRUE(h.fromPeer(RelayPort{Family::V4, 50099}, ep("8.8.8.8:1"), asBytes("x")).empty());
  EXPECT_EQ(h.server->stats().dropUnknownRelayPort, 1u);
}

TEST(DataPath, ChannelBindRules) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint a = ep("8.8.8.8:1000");
  const Endpoint b = ep("8.8.8.8:2000");
  EXPECT_EQ(errorOf(c.bindChannel(0x3FFF, a)), 400);  // below the range
  EXPECT_EQ(errorOf(c.bindChannel(static_cast<uint16_t>(stun::kMaxChannel + 1), a)), 400);  // above the range
  EXPECT_EQ(errorOf(c.request(Method::ChannelBind, [](MessageBuilder& m) { m.addChannelNumber(0x4000); })), 400);
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, a)));
  EXPECT_TRUE(isSuccess(c.bindChannel(0x4000, a)));       // refresh: same channel, same peer
  EXPECT_EQ(errorOf(c.bindChannel(0x4000, b)), 400);      // channel bound to another peer
  EXPECT_EQ(errorOf(c.bindChannel(0x4001, a)), 400);      // peer bound to another channel
  EXPECT_TRUE(isSuccess(c.bindChannel(0x4001, b)));       // same IP, other port: another peer
  EXPECT_EQ(errorOf(c.bindChannel(0x4002, ep("10.1.2.3:5"))), 403);  // policy
  // Another allocation may use the same channel number and the same peer.
  TurnClient d(h, udpTuple("198.51.100.7:40500"));
  ASSERT_TRUE(isSuccess(d.allocate()));
  EXPECT_TRUE(isSuccess(d.bindChannel(0x4000, a)));
  EXPECT_EQ(h.server->stats().channelsActive, 3u);
}

TEST(DataPath, CreatePermissionRules) {
  Harness h;
  TurnClient c(h, udpTuple());
  // 437 before an allocation exists.
  c.learn(c.request(Method::Allocate, {}, false));
  EXPECT_EQ(errorOf(c.permit(ep("8.8.8.8:1"))), 437);
  ASSERT_TRUE(isSuccess(c.allocate()));
  EXPECT_EQ(errorOf(c.request(Method::CreatePermission, {})), 400);  // no XOR-PEER-ADDRESS
  // Several peers in one request; one denied: 403 and none installed.
  const Bytes denied = c.request(Method::CreatePermission, [](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, ep("8.8.8.8:1"));
    b.addXorAddress(stun::attr::XorPeerAddress, ep("192.168.1.1:1"));
  });
  EXPECT_EQ(errorOf(denied), 403);
  EXPECT_TRUE(h.server->findAllocation(c.tuple)->permissions.empty());
  const Bytes both = c.request(Method::CreatePermission, [](MessageBuilder& b) {
    b.addXorAddress(stun::attr::XorPeerAddress, ep("8.8.8.8:1"));
    b.addXorAddress(stun::attr::XorPeerAddress, ep("1.1.1.1:1"));
  });
  EXPECT_TRUE(isSuccess(both));
  EXPECT_EQ(h.server->findAllocation(c.tuple)->permissions.size(), 2u);
  EXPECT_EQ(h.server->stats().policyRejected, 1u);
}

TEST(DataPath, SendToDeniedPeerIsDropped) {
  Config cfg = baseConfig();
  Harness h(cfg);
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  // The node's own address is allowed for permissions (relay-to-relay), but only at ports of live
  // allocations: not a service port, not a free port of the relay range (the kernel's ephemeral ports).
  ASSERT_TRUE(isSuccess(c.permit(ep("203.0.113.10:1"))));
  EXPECT_TRUE(fromClient(h, c.tuple, sendIndication(c, ep("203.0.113.10:22"), asBytes("x"))).empty());
  EXPECT_EQ(h.server->stats().dropPolicy, 1u);
  const uint16_t free = c.relayed->port() == 50001 ? 50002 : 50001;
  EXPECT_TRUE(fromClient(h, c.tuple, sendIndication(c, Endpoint(ip("203.0.113.10"), free), asBytes("x"))).empty());
  EXPECT_EQ(h.server->stats().dropPolicy, 2u);
  EXPECT_EQ(errorOf(c.bindChannel(0x4000, ep("203.0.113.10:3478"))), 403);
  EXPECT_EQ(errorOf(c.bindChannel(0x4000, Endpoint(ip("203.0.113.10"), free))), 403);
  // A datagram from a free port of the node's address (a local service) is dropped, not relayed.
  EXPECT_TRUE(h.server->liveRelays().contains(RelayPort{Family::V4, c.relayed->port()}));
  EXPECT_FALSE(h.server->liveRelays().contains(RelayPort{Family::V4, free}));
}

// The per-datagram policy check on the way in (RFC 8656 §10.3 Data-indication path): a permission for the
// node's own address exists (relay-to-relay needs it), yet a datagram from a port of that address that is
// no live relay allocation (a local service) must not reach the client; one from a live relay port must.
TEST(DataPath, InboundFromDeniedPeerOnAPermissionIsDroppedAndCounted) {
  Harness h;
  TurnClient c(h, udpTuple("198.51.100.7:1"));
  TurnClient other(h, udpTuple("198.51.100.8:2"));
  ASSERT_TRUE(isSuccess(c.allocate()));
  ASSERT_TRUE(isSuccess(other.allocate()));
  ASSERT_TRUE(isSuccess(c.permit(ep("203.0.113.10:1"))));
  const uint64_t before = h.server->stats().dropPolicy;
  EXPECT_TRUE(h.fromPeer(c.relayPort(), ep("203.0.113.10:22"), asBytes("local service")).empty());
  EXPECT_EQ(h.server->stats().dropPolicy, before + 1);
  EXPECT_EQ(h.server->stats().dataIndications, 0u);
  EXPECT_EQ(h.server->stats().bytesPeerToClient, 0u);
  // The same permission still carries traffic from a live relay allocation of this node.
  const auto in = Harness::only<SendToClient>(h.fromPeer(c.relayPort(), *other.relayed, asBytes("relay")));
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].tuple, c.tuple);
  EXPECT_EQ(h.server->stats().dropPolicy, before + 1);
  EXPECT_EQ(h.server->stats().dataIndications, 1u);
}

TEST(DataPath, RelayToRelayOnTheSameNode) {
  Harness h;
  TurnClient a(h, udpTuple("198.51.100.7:1"));
  TurnClient b(h, udpTuple("198.51.100.8:2"));
  ASSERT_TRUE(isSuccess(a.allocate()));
  ASSERT_TRUE(isSuccess(b.allocate()));
  const Endpoint aRelay = *a.relayed;  // 203.0.113.10:port
  const Endpoint bRelay = *b.relayed;
  ASSERT_TRUE(isSuccess(a.bindChannel(0x4000, bRelay)));
  ASSERT_TRUE(isSuccess(b.bindChannel(0x4000, aRelay)));
  Bytes cd;
  stun::appendChannelData(cd, 0x4000, asBytes("ping"), false);
  const auto out = Harness::only<SendToPeer>(fromClient(h, a.tuple, cd));
  ASSERT_EQ(out.size(), 1u);
  // The daemon sends it; it arrives on b's relay socket from a's relayed address.
  const auto in = Harness::only<SendToClient>(h.fromPeer(b.relayPort(), aRelay, out[0].bytes));
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].tuple, b.tuple);
  // b's allocation ends: its port is free for any local service, and a's channel to it stops relaying.
  ASSERT_TRUE(isSuccess(b.refresh(0)));
  const uint64_t dropped = h.server->stats().dropPolicy;
  EXPECT_TRUE(Harness::only<SendToPeer>(fromClient(h, a.tuple, cd)).empty());
  EXPECT_EQ(h.server->stats().dropPolicy, dropped + 1);
  // Nor does a datagram from that port reach a's client.
  EXPECT_TRUE(Harness::only<SendToClient>(h.fromPeer(a.relayPort(), bRelay, asBytes("pong"))).empty());
}

TEST(DataPath, OversizeDataIsDropped) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.permit(peer)));
  // DATA larger than a UDP datagram can carry (65507 bytes over IPv4).
  const Bytes big(65508, 0xAB);
  EXPECT_TRUE(fromClient(h, c.tuple, sendIndication(c, peer, big)).empty());
  EXPECT_EQ(h.server->stats().dropOversize, 1u);
  // Peer data that does not fit a Data indication in a UDP datagram to the client.
  const Bytes fromPeer(65500, 0xCD);
  EXPECT_TRUE(h.fromPeer(c.relayPort(), peer, fromPeer).empty());
  EXPECT_EQ(h.server->stats().dropOversize, 2u);
  // What fits goes through.
  const Bytes ok(1200, 0xEF);
  EXPECT_EQ(Harness::only<SendToPeer>(fromClient(h, c.tuple, sendIndication(c, peer, ok))).size(), 1u);
}

TEST(DataPath, MeteringTotalsReachTheEndEvent) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Endpoint peer = ep("8.8.8.8:9000");
  ASSERT_TRUE(isSuccess(c.bindChannel(0x4000, peer)));
  Bytes cd;
  stun::appendChannelData(cd, 0x4000, Bytes(100, 1), false);
  for (int i = 0; i < 3; ++i) fromClient(h, c.tuple, cd);
  h.fromPeer(c.relayPort(), peer, Bytes(50, 2));
  fromClient(h, c.tuple, sendIndication(c, ep("8.8.8.8:1"), Bytes(10, 3)));
  ASSERT_TRUE(isSuccess(c.refresh(0)));
  const auto ended = Harness::only<AllocationEnded>(h.log);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].info.toPeer.bytes, 310u);
  EXPECT_EQ(ended[0].info.toPeer.packets, 4u);
  EXPECT_EQ(ended[0].info.toClient.bytes, 50u);
  EXPECT_EQ(ended[0].info.identity, "alice");
}

}  // namespace
}  // namespace rdv::relay::test
