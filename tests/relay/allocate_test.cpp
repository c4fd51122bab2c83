// Allocate (RFC 8656 §7.2) and authentication (RFC 8489 §9.2) scenarios, driving the Server with real
// STUN messages and checking the commands that come out.
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;
using stun::Method;

TEST(Allocate, ChallengeThenAuthenticatedMd5) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes challenge = c.request(Method::Allocate, [](MessageBuilder& b) { b.addRequestedTransport(17); }, false);
  ASSERT_EQ(errorOf(challenge), 401);
  const auto cm = view(challenge);
  EXPECT_EQ(cm.string(stun::attr::Realm), "example.org");
  ASSERT_TRUE(cm.string(stun::attr::Nonce));
  EXPECT_EQ(cm.string(stun::attr::Nonce)->substr(0, 13), "obMatJos2gAAA");
  EXPECT_EQ(cm.passwordAlgorithms().size(), 2u);
  EXPECT_FALSE(cm.has(stun::attr::MessageIntegrity));
  c.learn(challenge);

  const Bytes reply = c.allocate();
  ASSERT_TRUE(isSuccess(reply));
  const auto m = view(reply);
  EXPECT_EQ(stun::verifyMessageIntegrity(m, c.key()), stun::IntegrityCheck::Ok);
  // 1:1 NAT: the advertised (external) address, on a port of the range; bound on the local address.
  const auto relayed = m.xorAddress(stun::attr::XorRelayedAddress);
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->ip(), ip("203.0.113.10"));
  EXPECT_GE(relayed->port(), 50000);
  EXPECT_LE(relayed->port(), 50099);
  EXPECT_EQ(h.binder.bound.at({Family::V4, relayed->port()}), Endpoint(ip("10.0.0.1"), relayed->port()));
  EXPECT_EQ(m.xorAddress(stun::attr::XorMappedAddress), c.tuple.client);
  EXPECT_EQ(m.u32(stun::attr::Lifetime), 600u);
  EXPECT_EQ(m.string(stun::attr::Software), "rendezvous-test");
  EXPECT_EQ(h.server->stats().allocationsCreated, 1u);
  EXPECT_EQ(h.server->stats().allocationsActive, 1u);
  EXPECT_EQ(h.server->stats().unauthorized, 1u);
  const Allocation* a = h.server->findAllocation(c.tuple);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->username(), "alice");
  EXPECT_EQ(a->identity(), "alice");
  EXPECT_EQ(Harness::only<AllocationStarted>(h.log).size(), 1u);
}

TEST(Allocate, Sha256PasswordAlgorithmNegotiated) {
  Harness h;
  TurnClient c(h, udpTuple());
  c.negotiate = true;
  c.alg = stun::PasswordAlgorithm::Sha256;
  c.sha256Mac = true;
  const Bytes reply = c.allocate();
  ASSERT_TRUE(isSuccess(reply));
  const auto m = view(reply);
  EXPECT_EQ(stun::verifyMessageIntegritySha256(m, c.key()), stun::IntegrityCheck::Ok);
  EXPECT_FALSE(m.has(stun::attr::MessageIntegrity));
}

// A MESSAGE-INTEGRITY-SHA256 that is wrong (one bit off), truncated below RFC 8489 §14.6's 16 bytes, or
// garbage gets 401 and no allocation; the same request with the right MAC succeeds (so the 401 is the MAC's).
TEST(Allocate, BadMessageIntegritySha256Gets401) {
  Harness h;
  TurnClient c(h, udpTuple());
  c.learn(c.request(Method::Allocate, {}, false));
  c.negotiate = true;
  c.alg = stun::PasswordAlgorithm::Sha256;
  c.sha256Mac = true;
  c.fingerprint = false;  // the MAC is then the message's last attribute: its value is the last 32 bytes
  const auto udp = [](stun::MessageBuilder& b) { b.addRequestedTransport(stun::kTransportUdp); };
  const auto withMac = [&](ByteSpan mac) {
    stun::MessageBuilder b(Method::Allocate, stun::Class::Request, c.nextTid());
    udp(b);
    b.addString(stun::attr::Username, c.user).addString(stun::attr::Realm, c.realm).addString(stun::attr::Nonce, c.nonce);
    b.addPasswordAlgorithms(c.offered).addPasswordAlgorithm(c.alg);
    b.add(stun::attr::MessageIntegritySha256, mac);
    return std::move(b).finish();
  };
  Bytes wrong = c.build(Method::Allocate, stun::Class::Request, c.nextTid(), udp, true);
  ASSERT_EQ(stun::verifyMessageIntegritySha256(view(wrong), c.key()), stun::IntegrityCheck::Ok);
  wrong[wrong.size() - 1] ^= 0x01;
  const Bytes good = c.build(Method::Allocate, stun::Class::Request, c.nextTid(), udp, true);
  const Bytes truncated = withMac(ByteSpan(good).last(32).first(12));  // the right MAC's first 12 bytes
  Bytes junk(32);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(0x5a ^ (i * 37));
  const Bytes garbage = withMac(junk);
  for (const auto& [name, request] : {std::pair{"wrong", wrong}, {"truncated", truncated}, {"garbage", garbage}}) {
    const Bytes reply = c.sendRaw(request);
    EXPECT_EQ(errorOf(reply), 401) << name;
    EXPECT_EQ(h.server->allocationCount(), 0u) << name;
  }
  EXPECT_EQ(h.server->stats().unauthorized, 4u);  // the challenge and the three bad MACs
  EXPECT_TRUE(isSuccess(c.sendRaw(good)));
  EXPECT_EQ(h.server->allocationCount(), 1u);
}

TEST(Allocate, PasswordAlgorithmsMustEchoTheOffer) {
  Harness h;
  TurnClient d(h, udpTuple());
  d.learn(d.request(Method::Allocate, {}, false));
  d.negotiate = true;
  d.alg = stun::PasswordAlgorithm::Sha256;
  d.offered = {stun::PasswordAlgorithm::Sha256};  // stripped MD5: a bid-down attempt
  EXPECT_EQ(errorOf(d.allocate()), 400);
  d.offered = {stun::PasswordAlgorithm::Sha256, stun::PasswordAlgorithm::Md5};
  EXPECT_TRUE(isSuccess(d.allocate()));
}

TEST(Allocate, WrongPasswordAndUnknownUserGet401) {
  Harness h;
  TurnClient c(h, udpTuple(), "alice", "wrong");
  EXPECT_EQ(errorOf(c.allocate()), 401);
  TurnClient d(h, udpTuple("198.51.100.9:1"), "mallory", "x");
  EXPECT_EQ(errorOf(d.allocate()), 401);
  EXPECT_EQ(h.server->allocationCount(), 0u);
}

TEST(Allocate, IntegrityWithoutUsernameIs400) {
  Harness h;
  TurnClient c(h, udpTuple());
  c.learn(c.request(Method::Allocate, {}, false));
  MessageBuilder b(Method::Allocate, stun::Class::Request, c.nextTid());
  b.addRequestedTransport(17).addString(stun::attr::Realm, c.realm).addString(stun::attr::Nonce, c.nonce);
  b.addMessageIntegrity(c.key());
  EXPECT_EQ(errorOf(c.sendRaw(std::move(b).finish())), 400);
}

TEST(Allocate, RestCredentialsValidExpiredAndRotated) {
  Harness h;
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":node-abc";
  TurnClient current(h, udpTuple(), user, restPassword("new-secret", user));
  ASSERT_TRUE(isSuccess(current.allocate()));
  EXPECT_EQ(h.server->findAllocation(current.tuple)->identity(), "node-abc");

  TurnClient rotated(h, udpTuple("198.51.100.7:40010"), user, restPassword("old-secret", user));
  EXPECT_TRUE(isSuccess(rotated.allocate()));

  TurnClient unknown(h, udpTuple("198.51.100.7:40011"), user, restPassword("never-configured", user));
  EXPECT_EQ(errorOf(unknown.allocate()), 401);

  const std::string old = std::to_string(h.now.unixSeconds - 1) + ":node-abc";
  TurnClient expired(h, udpTuple("198.51.100.7:40012"), old, restPassword("new-secret", old));
  EXPECT_EQ(errorOf(expired.allocate()), 401);

  const std::string bare = std::to_string(h.now.unixSeconds + 60);
  TurnClient noId(h, udpTuple("198.51.100.7:40013"), bare, restPassword("new-secret", bare));
  ASSERT_TRUE(isSuccess(noId.allocate()));
  EXPECT_EQ(h.server->findAllocation(noId.tuple)->identity(), bare);
}

TEST(Allocate, StaleNonceGets438WithFreshNonce) {
  Harness h;
  TurnClient c(h, udpTuple());
  c.retryStale = false;
  c.learn(c.request(Method::Allocate, {}, false));
  const std::string old = c.nonce;
  h.advance(Seconds(601));
  const Bytes stale = c.allocate();
  ASSERT_EQ(errorOf(stale), 438);
  const auto m = view(stale);
  EXPECT_EQ(m.string(stun::attr::Realm), "example.org");
  EXPECT_NE(m.string(stun::attr::Nonce), old);
  c.learn(stale);
  EXPECT_TRUE(isSuccess(c.allocate()));
  EXPECT_EQ(h.server->stats().staleNonce, 1u);
}

TEST(Allocate, NonceFromAnotherAddressIsStale) {
  Harness h;
  TurnClient c(h, udpTuple());
  c.learn(c.request(Method::Allocate, {}, false));
  TurnClient thief(h, udpTuple("192.0.2.99:5000"));
  thief.retryStale = false;
  thief.realm = c.realm;
  thief.nonce = c.nonce;
  EXPECT_EQ(errorOf(thief.allocate()), 438);
}

TEST(Allocate, SecondAllocateOnSameTupleIs437AndRetransmissionIsIdentical) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes first = c.allocate();
  ASSERT_TRUE(isSuccess(first));
  const int bindsBefore = h.binder.calls;
  // The same request again (same transaction id): the very same bytes, no second relay socket.
  EXPECT_EQ(c.sendRaw(c.lastRequest), first);
  EXPECT_EQ(h.binder.calls, bindsBefore);
  EXPECT_EQ(h.server->stats().retransmissionsAnswered, 1u);
  // A new Allocate (new transaction id) on the same 5-tuple: 437.
  EXPECT_EQ(errorOf(c.allocate()), 437);
}

TEST(Allocate, RetransmittedRefreshAndPermissionAreIdentical) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  const Bytes refresh = c.refresh(1200);
  h.advance(Seconds(1));
  EXPECT_EQ(c.sendRaw(c.lastRequest), refresh);
  const Bytes permit = c.permit(ep("8.8.8.8:1"));
  EXPECT_EQ(c.sendRaw(c.lastRequest), permit);
}

TEST(Allocate, UsernameChangeOnExistingAllocationIs441) {
  Harness h;
  TurnClient c(h, udpTuple());
  ASSERT_TRUE(isSuccess(c.allocate()));
  TurnClient bob(h, c.tuple, "bob", "hunter2");
  bob.realm = c.realm;
  bob.nonce = c.nonce;
  EXPECT_EQ(errorOf(bob.refresh(600)), 441);
  EXPECT_EQ(h.server->stats().wrongCredentials, 1u);
}

TEST(Allocate, RequestedTransportRules) {
  Harness h;
  TurnClient c(h, udpTuple());
  EXPECT_EQ(errorOf(c.allocate([](MessageBuilder& b) { b.addRequestedTransport(stun::kTransportTcp); })), 442);
  EXPECT_EQ(errorOf(c.allocate([](MessageBuilder&) {})), 400);
  EXPECT_EQ(h.server->allocationCount(), 0u);
}

TEST(Allocate, UnknownComprehensionRequiredAttributeIs420) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes reply = c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17);
    b.addU32(0x7F00, 1);
  });
  ASSERT_EQ(errorOf(reply), 420);
  ASSERT_EQ(view(reply).unknownAttributes(), std::vector<uint16_t>{0x7F00});
}

TEST(Allocate, AddressFamilyRules) {
  Config cfg = baseConfig();
  cfg.relayV6.reset();
  Harness h(cfg);
  TurnClient c(h, udpTuple());
  // 440: IPv6 requested on a node without an IPv6 relay address.
  EXPECT_EQ(errorOf(c.allocate([](MessageBuilder& b) {
              b.addRequestedTransport(17).addRequestedAddressFamily(Family::V6);
            })),
            440);
  // 400: both family attributes.
  EXPECT_EQ(errorOf(c.allocate([](MessageBuilder& b) {
              b.addRequestedTransport(17).addRequestedAddressFamily(Family::V4).addAdditionalAddressFamily(Family::V6);
            })),
            400);
  // 400: ADDITIONAL-ADDRESS-FAMILY IPv4.
  EXPECT_EQ(errorOf(c.allocate([](MessageBuilder& b) {
              b.addRequestedTransport(17).addAdditionalAddressFamily(Family::V4);
            })),
            400);
  // Dual allocation without IPv6: IPv4 only, ADDRESS-ERROR-CODE 440 for IPv6.
  const Bytes dual = c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addAdditionalAddressFamily(Family::V6);
  });
  ASSERT_TRUE(isSuccess(dual));
  const auto m = view(dual);
  EXPECT_EQ(m.xorAddresses(stun::attr::XorRelayedAddress).size(), 1u);
  const auto* aec = m.find(stun::attr::AddressErrorCode);
  ASSERT_NE(aec, nullptr);
  ASSERT_GE(aec->value.size(), 4u);
  EXPECT_EQ(aec->value[0], 2);  // IPv6
  EXPECT_EQ(aec->value[2] * 100 + aec->value[3], 440);
}

TEST(Allocate, DualAllocationAndRefreshFamilyMismatch) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes dual = c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addAdditionalAddressFamily(Family::V6);
  });
  ASSERT_TRUE(isSuccess(dual));
  const auto relayed = view(dual).xorAddresses(stun::attr::XorRelayedAddress);
  ASSERT_EQ(relayed.size(), 2u);
  EXPECT_EQ(relayed[0].family(), Family::V4);
  EXPECT_EQ(relayed[1].ip(), ip("fd00::1"));
  EXPECT_EQ(h.binder.bound.size(), 2u);
  // Permissions of both families on one allocation.
  EXPECT_TRUE(isSuccess(c.permit(ep("[2606:4700::1111]:1"))));
  EXPECT_TRUE(isSuccess(c.permit(ep("8.8.8.8:1"))));

  TurnClient v6(h, udpTuple("198.51.100.7:40100"));
  ASSERT_TRUE(isSuccess(v6.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addRequestedAddressFamily(Family::V6);
  })));
  // 443: an IPv4 peer on an IPv6-only allocation; a Refresh naming IPv4.
  EXPECT_EQ(errorOf(v6.permit(ep("8.8.8.8:1"))), 443);
  EXPECT_EQ(errorOf(v6.request(Method::Refresh,
                               [](MessageBuilder& b) { b.addRequestedAddressFamily(Family::V4); })),
            443);
  EXPECT_EQ(errorOf(v6.bindChannel(0x4000, ep("8.8.8.8:1"))), 443);
}

TEST(Allocate, PerUserCapIs486) {
  Config cfg = baseConfig();
  cfg.maxAllocationsPerUser = 2;
  Harness h(cfg);
  for (int i = 0; i < 2; ++i) {
    TurnClient c(h, udpTuple("198.51.100.7:" + std::to_string(41000 + i)));
    ASSERT_TRUE(isSuccess(c.allocate()));
  }
  TurnClient third(h, udpTuple("198.51.100.7:41002"));
  EXPECT_EQ(errorOf(third.allocate()), 486);
  TurnClient bob(h, udpTuple("198.51.100.7:41003"), "bob", "hunter2");
  EXPECT_TRUE(isSuccess(bob.allocate()));
  EXPECT_EQ(h.server->stats().quotaRejected, 1u);
}

TEST(Allocate, NoPortLeftIs508) {
  Config cfg = baseConfig();
  cfg.relayPorts = PortRange{50000, 50002};
  Harness h(cfg);
  h.binder.refused = {50001};  // held by another worker
  for (int i = 0; i < 2; ++i) {
    TurnClient c(h, udpTuple("198.51.100.7:" + std::to_string(42000 + i)));
    ASSERT_TRUE(isSuccess(c.allocate()));
  }
  TurnClient full(h, udpTuple("198.51.100.7:42002"));
  EXPECT_EQ(errorOf(full.allocate()), 508);
  EXPECT_EQ(h.server->stats().capacityRejected, 1u);
}

TEST(Allocate, EvenPortWithReservationToken) {
  Harness h;
  TurnClient rtp(h, udpTuple());
  const Bytes reply = rtp.allocate([](MessageBuilder& b) { b.addRequestedTransport(17).addEvenPort(true); });
  ASSERT_TRUE(isSuccess(reply));
  const auto m = view(reply);
  const uint16_t port = m.xorAddress(stun::attr::XorRelayedAddress)->port();
  EXPECT_EQ(port % 2, 0);
  const auto token = m.u64(stun::attr::ReservationToken);
  ASSERT_TRUE(token);
  EXPECT_TRUE(h.binder.isBound(Family::V4, port + 1));  // held for the token

  // RESERVATION-TOKEN with EVEN-PORT: 400. A wrong token: 508.
  TurnClient rtcp(h, udpTuple("198.51.100.7:40001"));
  EXPECT_EQ(errorOf(rtcp.allocate([&](MessageBuilder& b) {
              b.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token).addEvenPort(false);
            })),
            400);
  EXPECT_EQ(errorOf(rtcp.allocate([&](MessageBuilder& b) {
              b.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token + 1);
            })),
            508);
  const Bytes second = rtcp.allocate([&](MessageBuilder& b) {
    b.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token);
  });
  ASSERT_TRUE(isSuccess(second));
  EXPECT_EQ(view(second).xorAddress(stun::attr::XorRelayedAddress)->port(), port + 1);
  // A token is good once.
  TurnClient again(h, udpTuple("198.51.100.7:40002"));
  EXPECT_EQ(errorOf(again.allocate([&](MessageBuilder& b) {
              b.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token);
            })),
            508);
}

// Several workers: the token is claimed on another worker (the client's second socket hashed elsewhere),
// which adopts the parked socket; the reserving worker's timer then finds it claimed and leaves it alone.
TEST(Allocate, ReservationTokenClaimedOnAnotherWorker) {
  Config c = baseConfig();
  c.sharedReservations = std::make_shared<ReservationBook>();
  Harness a(c), b(c);
  auto lot = std::make_shared<FakeBinder::Lot>();
  a.binder.lot = lot;
  b.binder.lot = lot;
  TurnClient rtp(a, udpTuple());
  const Bytes reply = rtp.allocate([](MessageBuilder& m) { m.addRequestedTransport(17).addEvenPort(true); });
  ASSERT_TRUE(isSuccess(reply));
  const uint16_t port = view(reply).xorAddress(stun::attr::XorRelayedAddress)->port();
  const auto token = view(reply).u64(stun::attr::ReservationToken);
  ASSERT_TRUE(token);
  EXPECT_FALSE(a.binder.isBound(Family::V4, port + 1));
  EXPECT_EQ(lot->count({Family::V4, static_cast<uint16_t>(port + 1)}), 1u);  // parked, still held

  TurnClient rtcp(b, udpTuple("198.51.100.7:40001"));
  const Bytes second = rtcp.allocate([&](MessageBuilder& m) {
    m.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token);
  });
  ASSERT_TRUE(isSuccess(second));
  EXPECT_EQ(view(second).xorAddress(stun::attr::XorRelayedAddress)->port(), port + 1);
  EXPECT_TRUE(b.binder.isBound(Family::V4, port + 1));
  EXPECT_TRUE(lot->empty());

  // Good once, on either worker; the reserving worker's expiry releases nothing.
  TurnClient again(a, udpTuple("198.51.100.7:40002"));
  EXPECT_EQ(errorOf(again.allocate([&](MessageBuilder& m) {
              m.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token);
            })),
            508);
  a.advance(Seconds(31));
  a.drain();
  EXPECT_TRUE(b.binder.isBound(Family::V4, port + 1));
}

TEST(Allocate, UnclaimedSharedReservationIsDiscarded) {
  Config c = baseConfig();
  c.sharedReservations = std::make_shared<ReservationBook>();
  Harness a(c), b(c);
  auto lot = std::make_shared<FakeBinder::Lot>();
  a.binder.lot = lot;
  b.binder.lot = lot;
  TurnClient rtp(a, udpTuple());
  const Bytes reply = rtp.allocate([](MessageBuilder& m) { m.addRequestedTransport(17).addEvenPort(true); });
  const auto token = view(reply).u64(stun::attr::ReservationToken);
  ASSERT_TRUE(token);
  a.advance(Seconds(31));
  a.drain();
  EXPECT_TRUE(lot->empty());  // the parked socket is closed
  b.advance(Seconds(31));
  TurnClient rtcp(b, udpTuple("198.51.100.7:40001"));
  EXPECT_EQ(errorOf(rtcp.allocate([&](MessageBuilder& m) {
              m.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token);
            })),
            508);
}

TEST(Allocate, UnusedReservationIsReleased) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes reply = c.allocate([](MessageBuilder& b) { b.addRequestedTransport(17).addEvenPort(true); });
  const uint16_t port = view(reply).xorAddress(stun::attr::XorRelayedAddress)->port();
  ASSERT_TRUE(h.binder.isBound(Family::V4, port + 1));
  h.advance(Seconds(31));
  h.drain();
  EXPECT_FALSE(h.binder.isBound(Family::V4, port + 1));
  EXPECT_TRUE(h.binder.isBound(Family::V4, port));
}

TEST(Allocate, LifetimeIsClampedBetweenDefaultAndMax) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes big = c.allocate([](MessageBuilder& b) {
    b.addRequestedTransport(17).addU32(stun::attr::Lifetime, 100000);
  });
  EXPECT_EQ(view(big).u32(stun::attr::Lifetime), 3600u);
  EXPECT_EQ(view(c.refresh(30)).u32(stun::attr::Lifetime), 600u);
  EXPECT_EQ(view(c.refresh(1000)).u32(stun::attr::Lifetime), 1000u);
}

TEST(Allocate, UnauthorizedAnswersAreRateLimitedPerSource) {
  Config cfg = baseConfig();
  cfg.unauthorizedRate = RateLimit{1.0, 5.0};
  cfg.unauthorizedBuckets = 64;  // exact entries: sources never share a bucket
  Harness h(cfg);
  TurnClient flood(h, udpTuple("192.0.2.1:1"));
  int answered = 0;
  for (int i = 0; i < 50; ++i) {
    if (!flood.request(Method::Allocate, {}, false).empty()) ++answered;
  }
  EXPECT_EQ(answered, 5);
  EXPECT_EQ(h.server->stats().unauthorizedRateLimited, 45u);
  h.advance(Seconds(2));
  EXPECT_FALSE(flood.request(Method::Allocate, {}, false).empty());
  // Another source has its own bucket.
  TurnClient other(h, udpTuple("192.0.2.2:1"));
  EXPECT_FALSE(other.request(Method::Allocate, {}, false).empty());
}

TEST(Allocate, BindingRequestIsAnsweredWithoutAuthentication) {
  Harness h;
  TurnClient c(h, udpTuple());
  const Bytes reply = c.request(Method::Binding, {}, false);
  ASSERT_TRUE(isSuccess(reply));
  EXPECT_EQ(view(reply).xorAddress(stun::attr::XorMappedAddress), c.tuple.client);
}

TEST(Allocate, UnknownMethodIs400) {
  Harness h;
  TurnClient c(h, udpTuple());
  EXPECT_EQ(errorOf(c.request(Method::Send, {}, false)), 400);
  EXPECT_EQ(errorOf(c.request(static_cast<Method>(0x0FF), {}, false)), 400);
}

}  // namespace
}  // namespace rdv::relay::test
