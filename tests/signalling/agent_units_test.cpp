// The peer agent's pure parts: DTLS over memory (handshake, fingerprint check, DTLS-SRTP keys with
// libsrtp2), message ordering across two paths, RTP receiver statistics, ice-servers parsing.
#include <gtest/gtest.h>
#include <openssl/err.h>

#include "signalling/agent/dtls_transport.h"
#include "signalling/agent/ice_config.h"
#include "signalling/agent/media_stats.h"
#include "signalling/agent/message_order.h"
#include "signalling/agent/srtp_session.h"

namespace rdv::agent {
namespace {

using Role = DtlsTransport::Role;

// Moves datagrams between the two until neither has anything to say (or a round limit).
void pump(DtlsTransport& a, DtlsTransport& b, size_t dropEveryNth = 0) {
  size_t n = 0;
  for (int round = 0; round < 50; ++round) {
    auto fromA = a.takeOutgoing();
    auto fromB = b.takeOutgoing();
    if (fromA.empty() && fromB.empty()) return;
    for (auto& d : fromA)
      if (dropEveryNth == 0 || ++n % dropEveryNth != 0) b.handleDatagram(d);
    for (auto& d : fromB)
      if (dropEveryNth == 0 || ++n % dropEveryNth != 0) a.handleDatagram(d);
  }
}

struct Pair {
  std::unique_ptr<DtlsTransport> client, server;
  Pair() {
    auto c = DtlsTransport::create(Role::Client);
    auto s = DtlsTransport::create(Role::Server);
    EXPECT_TRUE(c && s);
    client = std::move(*c);
    server = std::move(*s);
  }
};

TEST(DtlsTransport, HandshakeWithAnnouncedFingerprintsCarriesRecordsBothWays) {
  Pair p;
  EXPECT_EQ(p.client->localFingerprint().rfind("sha-256 ", 0), 0u);
  EXPECT_EQ(p.client->localFingerprint().size(), 8u + 32 * 3 - 1);
  EXPECT_NE(p.client->localFingerprint(), p.server->localFingerprint());  // fresh certificate each
  p.client->setRemoteFingerprint(p.server->localFingerprint());
  p.server->setRemoteFingerprint(p.client->localFingerprint());
  p.client->start();
  pump(*p.client, *p.server);
  ASSERT_TRUE(p.client->connected()) << p.client->error();
  ASSERT_TRUE(p.server->connected()) << p.server->error();
  for (const auto& d : p.client->takeOutgoing()) EXPECT_LE(d.size(), 1200u);
  ASSERT_TRUE(p.client->send(asBytes("hello server")));
  pump(*p.client, *p.server);
  auto got = p.server->takeReceived();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(asString(got[0]), "hello server");
  ASSERT_TRUE(p.server->send(asBytes("hello client")));
  pump(*p.client, *p.server);
  got = p.client->takeReceived();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(asString(got[0]), "hello client");
}

// OpenSSL keeps one error queue per thread, and SSL_get_error() answers SSL_ERROR_SSL while it holds
// anything: an error another session (or a refused certificate) left in this thread must not fail a
// healthy association whose read simply has no data yet.
TEST(DtlsTransport, AnErrorLeftInTheThreadsQueueDoesNotFailAHealthyAssociation) {
  Pair p;
  p.client->setRemoteFingerprint(p.server->localFingerprint());
  p.server->setRemoteFingerprint(p.client->localFingerprint());
  ERR_raise(ERR_LIB_USER, 1);
  p.client->start();
  ERR_raise(ERR_LIB_USER, 1);
  pump(*p.client, *p.server);
  ASSERT_TRUE(p.client->connected()) << p.client->error();
  ASSERT_TRUE(p.server->connected()) << p.server->error();
  ERR_raise(ERR_LIB_USER, 1);
  ASSERT_TRUE(p.client->send(asBytes("still here")));
  EXPECT_FALSE(p.client->failed()) << p.client->error();
  ERR_raise(ERR_LIB_USER, 1);
  pump(*p.client, *p.server);
  EXPECT_FALSE(p.server->failed()) << p.server->error();
  auto got = p.server->takeReceived();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(asString(got[0]), "still here");
  ERR_clear_error();
}

TEST(DtlsTransport, SharedCertificateIsOnePerProcessAndStillHandshakes) {
  ASSERT_TRUE(DtlsTransport::prepareCertificate());
  auto c = DtlsTransport::create(Role::Client, DtlsTransport::Certificate::Shared);
  auto s = DtlsTransport::create(Role::Server, DtlsTransport::Certificate::Shared);
  ASSERT_TRUE(c && s);
  EXPECT_EQ((*c)->localFingerprint(), (*s)->localFingerprint());
  auto fresh = DtlsTransport::create(Role::Server);
  ASSERT_TRUE(fresh);
  EXPECT_NE((*fresh)->localFingerprint(), (*c)->localFingerprint());
  (*c)->setRemoteFingerprint((*s)->localFingerprint());
  (*s)->setRemoteFingerprint((*c)->localFingerprint());
  (*c)->start();
  pump(**c, **s);
  EXPECT_TRUE((*c)->connected()) << (*c)->error();
  EXPECT_TRUE((*s)->connected()) << (*s)->error();
}

TEST(DtlsTransport, WrongFingerprintIsRefusedOnBothSides) {
  Pair p;
  Pair other;  // a third certificate: what a man in the middle would present
  p.client->setRemoteFingerprint(other.server->localFingerprint());
  p.server->setRemoteFingerprint(p.client->localFingerprint());
  p.client->start();
  pump(*p.client, *p.server);
  EXPECT_FALSE(p.client->connected());
  EXPECT_TRUE(p.client->failed());
  EXPECT_EQ(p.client->error().rfind("dtls-fingerprint-mismatch", 0), 0u) << p.client->error();
  EXPECT_FALSE(p.client->send(asBytes("secret")));
  EXPECT_FALSE(p.server->send(asBytes("secret")) && p.client->connected());
}

TEST(DtlsTransport, MissingRemoteFingerprintIsRefused) {
  Pair p;
  p.server->setRemoteFingerprint(p.client->localFingerprint());
  p.client->start();
  pump(*p.client, *p.server);
  EXPECT_TRUE(p.client->failed());
  EXPECT_FALSE(p.client->connected());
}

TEST(DtlsTransport, SrtpKeysFromTheExporterMatchAndProtectMedia) {
  Pair p;
  p.client->setRemoteFingerprint(p.server->localFingerprint());
  p.server->setRemoteFingerprint(p.client->localFingerprint());
  p.client->start();
  pump(*p.client, *p.server);
  ASSERT_TRUE(p.client->connected() && p.server->connected());
  auto ck = p.client->exportSrtpKeys();
  auto sk = p.server->exportSrtpKeys();
  ASSERT_TRUE(ck && sk);
  EXPECT_EQ(ck->client, sk->client);
  EXPECT_EQ(ck->server, sk->server);
  EXPECT_NE(ck->client, ck->server);
  auto out = SrtpSession::create(ck->client, SrtpSession::Direction::Outbound);
  auto in = SrtpSession::create(sk->client, SrtpSession::Direction::Inbound);
  auto wrong = SrtpSession::create(sk->server, SrtpSession::Direction::Inbound);
  ASSERT_TRUE(out && in && wrong);
  Bytes rtp = makeRtpPacket(7, 1234, 0xdeadbeef, 200);
  Bytes packet = rtp;
  ASSERT_TRUE((*out)->protect(packet));
  EXPECT_EQ(packet.size(), rtp.size() + 10);  // HMAC-SHA1-80 tag
  EXPECT_NE(Bytes(packet.begin() + 12, packet.begin() + 212), Bytes(rtp.begin() + 12, rtp.end()));
  Bytes copy = packet;
  EXPECT_FALSE((*wrong)->unprotect(copy));
  ASSERT_TRUE((*in)->unprotect(packet));
  EXPECT_EQ(packet, rtp);
  Bytes replay = copy;
  EXPECT_FALSE((*in)->unprotect(replay));  // replayed packet refused
}

TEST(InboundOrder, DeliversInOrderOnceAcrossTwoPaths) {
  InboundOrder in;
  EXPECT_EQ(in.accept(1, "a", Path::Fast).size(), 1u);
  EXPECT_TRUE(in.accept(3, "c", Path::Hub).empty());  // early: held
  EXPECT_EQ(in.held(), 1u);
  auto d = in.accept(2, "b", Path::Hub);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].body, "b");
  EXPECT_EQ(d[1].body, "c");
  EXPECT_EQ(d[1].path, Path::Hub);
  EXPECT_TRUE(in.accept(2, "b", Path::Fast).empty());  // a repeat over the other path
  EXPECT_TRUE(in.accept(0, "zero", Path::Fast).empty());
  EXPECT_EQ(in.duplicates(), 2u);
  EXPECT_EQ(in.delivered(), 3u);
}

TEST(OutboundQueue, KeepsMessagesUntilAcknowledged) {
  OutboundQueue q;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::seconds(1);
  for (int i = 0; i < 4; ++i) q.markSent(q.push("m" + std::to_string(i)), Path::Fast, t0 + std::chrono::milliseconds(i));
  EXPECT_EQ(q.oldestSentVia(Path::Fast), t0);
  q.ackUpTo(2);
  EXPECT_EQ(q.pending().size(), 2u);
  q.ack(4);
  ASSERT_EQ(q.pending().size(), 1u);
  EXPECT_EQ(q.pending().begin()->first, 3u);
  q.markSent(3, Path::Hub, t0);
  EXPECT_FALSE(q.oldestSentVia(Path::Fast));
}

TEST(MediaStats, LossJitterAndBitrate) {
  MediaStats m;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::seconds(10);
  // 50 packets, 20 ms apart, #10 and #20 lost; every 5th arrives 4 ms late.
  for (uint16_t i = 0; i < 50; ++i) {
    if (i == 10 || i == 20) continue;
    const auto arrival = t0 + std::chrono::milliseconds(20 * i + (i % 5 == 0 ? 4 : 0));
    m.onPacket(makeRtpPacket(static_cast<uint16_t>(65530 + i), i * 1800u, 1, 100), arrival);  // wraps past 65535
  }
  auto r = m.report(std::nullopt);
  EXPECT_EQ(r["packets_received"], 48);
  EXPECT_EQ(r["packets_expected"], 50);
  EXPECT_EQ(r["packets_lost"], 2);
  EXPECT_GT(r["jitter_ms"].get<double>(), 0.1);
  EXPECT_LT(r["jitter_ms"].get<double>(), 4.0);
  EXPECT_NEAR(r["bitrate_bps"].get<double>(), 48 * 100 * 8 / 0.98, 2000);
  EXPECT_EQ(m.report(52)["packets_lost"], 4);  // the sender's count includes tail losses
}

TEST(IceConfig, Nat64SynthesisOnlyForANodeReachedThroughTheWellKnownPrefix) {
  IceConfig c;
  c.stun = StunServer{"198.18.0.2", 3478};
  c.turn.push_back(TurnServer{"198.18.0.2", 3478, TurnServer::Transport::Tcp, "u", "p"});
  c.turn.push_back(TurnServer{"2001:db8::1", 3478, TurnServer::Transport::Udp, "u", "p"});
  auto v6 = synthesizeNat64(c, "64:ff9b::c612:2");
  EXPECT_EQ(v6.stun->host, "64:ff9b::c612:2");
  EXPECT_EQ(v6.turn[0].host, "64:ff9b::c612:2");
  EXPECT_EQ(v6.turn[0].transport, TurnServer::Transport::Tcp);
  EXPECT_EQ(v6.turn[1].host, "2001:db8::1");  // already IPv6: kept
  EXPECT_EQ(synthesizeNat64(c, "198.18.0.2").stun->host, "198.18.0.2");       // an IPv4 node: unchanged
  EXPECT_EQ(synthesizeNat64(c, "2001:db8::5").stun->host, "198.18.0.2");  // an IPv6 node, no NAT64
  // A network-specific prefix shows itself by embedding the node's IPv4 address.
  auto nsp = synthesizeNat64(c, "2001:db8:64::c612:2");
  EXPECT_EQ(nsp.stun->host, "2001:db8:64::c612:2");
  EXPECT_EQ(nsp.turn[0].host, "2001:db8:64::c612:2");
  EXPECT_EQ(nsp.turn[1].host, "2001:db8::1");
  EXPECT_EQ(synthesizeNat64(c, "2001:db8:64::c612:3").stun->host, "198.18.0.2");  // embeds another address
  EXPECT_EQ(synthesizeNat64(c, "node.example").stun->host, "198.18.0.2");
}

TEST(IceConfig, ParsesTheNodesIceServers) {
  auto j = nlohmann::json::parse(R"({"iceServers":[{"urls":["stun:198.51.100.7:3478"]},
    {"urls":["turn:198.51.100.7:3478?transport=udp","turn:198.51.100.7:3478?transport=tcp","turns:[2001:db8::1]:5349?transport=tcp"],
     "username":"1700000000:abc","credential":"pw","credentialType":"password"}],"ttl":3600})");
  auto c = parseIceServers(j);
  ASSERT_TRUE(c) << c.error();
  ASSERT_TRUE(c->stun);
  EXPECT_EQ(c->stun->host, "198.51.100.7");
  EXPECT_EQ(c->stun->port, 3478);
  ASSERT_EQ(c->turn.size(), 3u);
  EXPECT_EQ(c->turn[0].transport, TurnServer::Transport::Udp);
  EXPECT_EQ(c->turn[1].transport, TurnServer::Transport::Tcp);
  EXPECT_EQ(c->turn[2].transport, TurnServer::Transport::Tls);
  EXPECT_EQ(c->turn[2].host, "2001:db8::1");
  EXPECT_EQ(c->turn[2].port, 5349);
  EXPECT_EQ(c->turn[0].username, "1700000000:abc");
  EXPECT_EQ(c->turn[0].password, "pw");
  EXPECT_EQ(c->ttlSeconds, 3600u);  // rdv listen fetches again at half of it
  EXPECT_EQ(parseIceServers(nlohmann::json::parse(R"({"iceServers":[]})"))->ttlSeconds, 0u);
  EXPECT_EQ(parseIceServers(nlohmann::json::parse(R"({"iceServers":[],"ttl":-5})"))->ttlSeconds, 0u);
  EXPECT_FALSE(parseIceServers(nlohmann::json::parse(R"({"nope":1})")));
  EXPECT_FALSE(parseIceServers(nlohmann::json::parse(R"({"iceServers":[{"urls":["stun:[::1"]}]})")));
  EXPECT_FALSE(parseIceServers(nlohmann::json::parse(R"({"iceServers":[{"urls":["turn:1.2.3.4:99999"]}]})")));
}

}  // namespace
}  // namespace rdv::agent
