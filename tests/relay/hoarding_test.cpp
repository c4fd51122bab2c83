// Relay hoarding (issue 12, item 4) with a fake clock: the per-source Allocate rate (486), the limited
// class's node-wide share of allocations (486) and of bps-capacity, and EVEN-PORT reservations counted
// against the identity's allocation quota until they are claimed or lapse.
#include "relay/credentials.h"
#include "relay/quota.h"
#include "tests/relay/test_support.h"

namespace rdv::relay::test {
namespace {

using stun::MessageBuilder;

TurnClient restUser(Harness& h, const ClientTuple& t, const std::string& id) {
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":" + id;
  return TurnClient(h, t, user, restPassword("new-secret", user));
}
ClientTuple from(int host, int port) {
  return udpTuple("198.51.100." + std::to_string(host) + ":" + std::to_string(port));
}

TEST(AllocateRate, PerSourceIpBurstThenRateThen486AndOtherSourcesUnaffected) {
  Config cfg = baseConfig();
  cfg.allocateRate = RateLimit{2.0, 5.0};
  cfg.relayPorts = PortRange{50000, 50999};
  Harness h(cfg);
  int ok = 0, refused = 0;
  for (int i = 0; i < 8; ++i) {  // eight identities, one address: the burst of 5, then 486
    TurnClient c = restUser(h, from(7, 40000 + i), "id-" + std::to_string(i));
    const Bytes reply = c.allocate();
    if (isSuccess(reply)) ++ok;
    else if (errorOf(reply) == 486) ++refused;
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(h.server->stats().allocateRateLimited, 3u);
  // Another address is served at once.
  TurnClient other = restUser(h, from(8, 40000), "other");
  EXPECT_TRUE(isSuccess(other.allocate()));
  // One second later the first address has two more.
  h.advance(Seconds(1));
  for (int i = 0; i < 3; ++i) {
    TurnClient c = restUser(h, from(7, 41000 + i), "late-" + std::to_string(i));
    EXPECT_EQ(isSuccess(c.allocate()), i < 2) << i;
  }
}

TEST(AllocateRate, RetransmissionsAreAnsweredFromTheCacheNotCounted) {
  Config cfg = baseConfig();
  cfg.allocateRate = RateLimit{0.001, 1.0};
  Harness h(cfg);
  TurnClient c(h, from(7, 40000));
  ASSERT_TRUE(isSuccess(c.allocate()));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(isSuccess(c.sendRaw(c.lastRequest)));
  EXPECT_EQ(h.server->stats().allocateRateLimited, 0u);
}

TEST(LimitedShare, FreeIdentitiesHoldAtMostTheShareOfMaxAllocationsKnownOnesStillAllocate) {
  auto book = std::make_shared<QuotaBook>();
  QuotaPolicy p;
  p.maxAllocations = 10;
  p.limitedMaxShare = 0.5;
  book->apply(p);
  Config cfg = baseConfig();
  cfg.quota = book;
  Harness h(cfg);
  int ok = 0;
  for (int i = 0; i < 8; ++i) {  // 8 fresh identities from 8 addresses
    TurnClient c = restUser(h, from(10 + i, 40000), "free-" + std::to_string(i));
    const Bytes reply = c.allocate();
    if (isSuccess(reply)) ++ok;
    else EXPECT_EQ(errorOf(reply), 486);
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(book->limitedAllocations(), 5u);
  EXPECT_EQ(book->limitedCap(), std::optional<uint32_t>(5));
  EXPECT_EQ(h.server->stats().limitedShareRejected, 3u);
  // Static users (unlimited class) take the other half.
  for (int i = 0; i < 5; ++i) {
    TurnClient c(h, from(30 + i, 40000), "alice", "secret");
    EXPECT_TRUE(isSuccess(c.allocate())) << i;
  }
  TurnClient eleventh(h, from(40, 40000), "bob", "hunter2");
  EXPECT_EQ(errorOf(eleventh.allocate()), 508);  // the node's total
}

TEST(LimitedShare, WithoutMaxAllocationsTheShareIsOfTheRelayPorts) {
  auto book = std::make_shared<QuotaBook>();
  QuotaPolicy p;
  p.relayPortCount = 8;
  p.limitedMaxShare = 0.25;
  book->apply(p);
  EXPECT_EQ(book->limitedCap(), std::optional<uint32_t>(2));
  p.limitedMaxShare = 1.0;
  book->apply(p);
  EXPECT_EQ(book->limitedCap(), std::nullopt);
  QuotaPolicy bad;
  bad.limitedMaxShare = 1.5;
  ASSERT_EQ(validate(bad).size(), 1u);
  EXPECT_NE(validate(bad)[0].find("limited-max-share"), std::string::npos);
}

TEST(LimitedShare, ReleasedAfterAClassChangeKeepsTheCountExact) {
  QuotaPolicy p;
  p.maxAllocations = 4;
  QuotaBook book(p);
  const int64_t now = 1'700'000'000;
  auto a = book.acquire("x", "x", false, now);
  ASSERT_EQ(a.error, 0);
  EXPECT_EQ(book.limitedAllocations(), 1u);
  p.members["x"] = "unlimited";  // SIGHUP moves x out of the limited class while it holds a lease
  book.apply(p);
  book.release(a.quota);
  EXPECT_EQ(book.limitedAllocations(), 0u);
  EXPECT_EQ(book.allocations(), 0u);
}

Bytes channelData(uint16_t channel, size_t size) {
  Bytes out;
  stun::appendChannelData(out, channel, Bytes(size, 0xcd), false);
  return out;
}

TEST(LimitedShare, LimitedBytesDrawFromTheirShareOfBpsCapacity) {
  auto book = std::make_shared<QuotaBook>();
  QuotaPolicy p;
  p.bpsCapacity = 200'000;
  p.limitedMaxShare = 0.25;  // 50 kB/s for the limited class
  p.limited.bytesPerAllocation = 0;
  p.limited.maxLifetime = Seconds(0);
  book->apply(p);
  Config cfg = baseConfig();
  cfg.quota = book;
  Harness h(cfg);
  TurnClient free1 = restUser(h, from(7, 40000), "free-1");
  TurnClient known(h, from(8, 40000), "alice", "secret");
  ASSERT_TRUE(isSuccess(free1.allocate()));
  ASSERT_TRUE(isSuccess(known.allocate()));
  ASSERT_TRUE(isSuccess(free1.bindChannel(0x4000, ep("8.8.8.8:9"))));
  ASSERT_TRUE(isSuccess(known.bindChannel(0x4000, ep("8.8.8.8:9"))));
  uint64_t freeBytes = 0, knownBytes = 0;
  for (int tick = 0; tick < 1000; ++tick) {  // 10 s; each offers 100 kB/s
    h.now.mono += std::chrono::milliseconds(10);
    h.server->handleClientInput(channelData(0x4000, 1000), free1.tuple, h.now);
    for (const auto& s : Harness::only<SendToPeer>(h.drain())) freeBytes += s.bytes.size();
    h.server->handleClientInput(channelData(0x4000, 1000), known.tuple, h.now);
    for (const auto& s : Harness::only<SendToPeer>(h.drain())) knownBytes += s.bytes.size();
  }
  EXPECT_LE(freeBytes, 50'000u * 10 + 65'535);  // its share, plus one burst
  EXPECT_GE(freeBytes, 50'000u * 10 - 1000);
  EXPECT_GE(knownBytes, 100'000u * 10 - 1000);  // the known identity is not slowed by the free one
}

TEST(Reservations, CountAgainstTheIdentitysAllocationsUntilClaimedOrLapsed) {
  auto book = std::make_shared<QuotaBook>();
  QuotaPolicy p;
  p.limited.allocations = 3;
  book->apply(p);
  Config cfg = baseConfig();
  cfg.quota = book;
  Harness h(cfg);
  const auto evenR = [](MessageBuilder& b) { b.addRequestedTransport(17).addEvenPort(true); };
  TurnClient a = restUser(h, from(7, 40000), "hoarder");
  ASSERT_TRUE(isSuccess(a.allocate(evenR)));  // an allocation and a reservation: 2 of 3
  EXPECT_EQ(book->allocations(), 2u);
  TurnClient b = restUser(h, from(7, 40001), "hoarder");
  EXPECT_EQ(errorOf(b.allocate(evenR)), 486);  // would be 4
  TurnClient c = restUser(h, from(7, 40002), "hoarder");
  ASSERT_TRUE(isSuccess(c.allocate()));  // a plain one: 3 of 3
  EXPECT_EQ(book->allocations(), 3u);
  // The reservation lapses: its lease comes back.
  h.advance(cfg.reservationLifetime + Seconds(1));
  h.drain();
  EXPECT_EQ(book->allocations(), 2u);
  // The plain one ends: 1 of 3. Another pair: 3 of 3.
  ASSERT_TRUE(isSuccess(c.refresh(0)));
  EXPECT_EQ(book->allocations(), 1u);
  TurnClient d = restUser(h, from(7, 40003), "hoarder");
  const Bytes reply = d.allocate(evenR);
  ASSERT_TRUE(isSuccess(reply));
  const auto token = view(reply).u64(stun::attr::ReservationToken);
  ASSERT_TRUE(token);
  EXPECT_EQ(book->allocations(), 3u);
  // Claimed by another identity: that allocation has its own lease, the reservation's comes back.
  TurnClient e = restUser(h, from(9, 40000), "claimer");
  ASSERT_TRUE(isSuccess(e.allocate([&](MessageBuilder& b) {
    b.addRequestedTransport(17).addU64(stun::attr::ReservationToken, *token);
  })));
  EXPECT_EQ(book->allocations(), 3u);  // hoarder 2, claimer 1
  TurnClient f = restUser(h, from(7, 40004), "hoarder");
  EXPECT_TRUE(isSuccess(f.allocate()));  // hoarder 3 of 3 again
  // Shutdown gives every lease back, reservations' too.
  TurnClient g = restUser(h, from(10, 40000), "other");
  ASSERT_TRUE(isSuccess(g.allocate(evenR)));
  h.server->endAll(h.now);
  h.drain();
  EXPECT_EQ(book->allocations(), 0u);
}

// Quota keys by (kind, id) (issue 12 item 8): a static user, a REST username an app makes with the shared
// secret, and a node id's node-bound credential (as /v1/ice-servers issues it) never share a bucket.
TEST(QuotaKeys, StaticUsersRestIdsAndNodeIdsAreSeparateIdentities) {
  QuotaPolicy p;
  p.limited.allocations = 1;
  // The static user alice: one allocation.
  auto book = bookWithClass({.name = "one", .allocations = 1}, {"alice"}, p);
  Config cfg = configWith(book);
  Harness h(cfg);
  const std::string nodeId(64, 'a');
  const std::string user = std::to_string(h.now.unixSeconds + 3600) + ":" + nodeId;
  // The peer, with its node-bound credential: its one limited allocation.
  TurnClient peer(h, from(7, 40000), user, restPassword(nodeCredentialSecret("new-secret"), user));
  ASSERT_TRUE(isSuccess(peer.allocate()));
  EXPECT_EQ(h.server->findAllocation(peer.tuple)->identity(), nodeId);
  // An app (or anyone holding the shared secret) making a REST username with the peer's id: its own
  // bucket, so the peer's quota is not spent by it, and it does not find the peer's quota spent.
  TurnClient impostor(h, from(8, 40000), user, restPassword("new-secret", user));
  ASSERT_TRUE(isSuccess(impostor.allocate()));
  TurnClient impostor2(h, from(8, 40001), user, restPassword("new-secret", user));
  EXPECT_EQ(errorOf(impostor2.allocate()), 486);  // its own limit of 1
  TurnClient peer2(h, from(7, 40001), user, restPassword(nodeCredentialSecret("new-secret"), user));
  EXPECT_EQ(errorOf(peer2.allocate()), 486);  // the peer's own limit of 1
  // The static user alice and a REST username "EXPIRY:alice": two identities as well.
  TurnClient staticAlice(h, from(9, 40000), "alice", "secret");
  ASSERT_TRUE(isSuccess(staticAlice.allocate()));
  const std::string restAlice = std::to_string(h.now.unixSeconds + 3600) + ":alice";
  TurnClient appAlice(h, from(9, 40001), restAlice, restPassword("new-secret", restAlice));
  EXPECT_TRUE(isSuccess(appAlice.allocate()));  // members name "alice": the class "one", its own bucket
  EXPECT_EQ(book->allocations(), 4u);
  // A node-bound credential for an id that is not a node id is not accepted (the derivation is only
  // tried for 64-hex ids).
  TurnClient notNode(h, from(10, 40000), restAlice, restPassword(nodeCredentialSecret("new-secret"), restAlice));
  EXPECT_EQ(errorOf(notNode.allocate()), 401);
}

TEST(QuotaKeys, LedgerSeedReachesEveryKindTheIdCanBe) {
  QuotaPolicy p;
  QuotaBook book(p);
  const int64_t now = 1'700'000'000;
  const std::string nodeId(64, 'b');
  book.seedDailyUsage(nodeId, 1000, now);
  EXPECT_EQ(book.bytesToday(nodeId, now), 1000u);
  auto lease = book.acquire(nodeId, "x:" + nodeId, false, now, IdentityKind::Node);
  ASSERT_EQ(lease.error, 0);
  EXPECT_EQ(lease.quota->bytesToday.load(), 1000u);
  EXPECT_EQ(lease.quota->kind, IdentityKind::Node);
  book.release(lease.quota);
}

}  // namespace
}  // namespace rdv::relay::test
