// The fleet's Redis stores against the test's own redis-server (no daemon): the registry's seq rules,
// caps, expiry and cookies shared by two "nodes" (two stores on two connections), the shared mailbox
// (ids in arrival order across nodes, collected anywhere, removed once), and the circuit breaker.
#include <gtest/gtest.h>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/fleet/redis_mailbox_store.h"
#include "rendezvous/fleet/redis_registry.h"
#include "rendezvous/registry/unregister_message.h"
#include "signalling/envelope/crypto.h"
#include "signalling/envelope/envelope.h"
#include "tests/fleet/redis_server.h"

namespace rdv::fleet {
namespace {

using namespace std::chrono_literals;
using test::RedisServer;

std::shared_ptr<RedisClient> client(const RedisServer& redis) {
  auto url = parseRedisUrl(redis.url());
  EXPECT_TRUE(url);
  return std::make_shared<RedisClient>(*url, 500ms);
}

enr::EnrRecord record(const identity::PrivateKey& key, uint64_t seq, uint16_t udp = 4000) {
  return enr::EnrBuilder().setSeq(seq).setIp({192, 0, 2, 1}).setUdp(udp).sign(key).value();
}

registry::RegistryConfig smallCaps() {
  registry::RegistryConfig c;
  c.maxPerIdentity = 2;
  c.maxPerNamespace = 3;
  c.maxRecords = 4;
  return c;
}

const registry::TimePoint kNow = registry::TimePoint{} + std::chrono::seconds(1'800'000'000);

TEST(RedisRegistry, SeqRulesAndCookiesAreSharedBetweenNodes) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  RedisRegistry a(registry::RegistryConfig{}, Keys("t"), client(redis));
  RedisRegistry b(registry::RegistryConfig{}, Keys("t"), client(redis));
  auto key = identity::PrivateKey::generate().value();

  auto created = a.registerRecord("room", record(key, 2), registry::Seconds(600), kNow);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->kind, registry::RegisterKind::Created);
  // The same record at B refreshes; a lower seq is stale; the same seq with other content conflicts.
  auto refreshed = b.registerRecord("room", record(key, 2), registry::Seconds(900), kNow);
  ASSERT_TRUE(refreshed);
  EXPECT_EQ(refreshed->kind, registry::RegisterKind::Refreshed);
  EXPECT_EQ(refreshed->registration.counter, created->registration.counter);
  auto stale = b.registerRecord("room", record(key, 1), std::nullopt, kNow);
  ASSERT_FALSE(stale);
  EXPECT_EQ(std::get<registry::RegistryError>(stale.error()), registry::RegistryError::StaleRecord);
  auto conflict = b.registerRecord("room", record(key, 2, 4001), std::nullopt, kNow);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(std::get<registry::RegistryError>(conflict.error()), registry::RegistryError::ConflictingRecord);
  // Seq beyond 2^53 compares exactly (strings, not Lua doubles).
  const uint64_t big = (uint64_t{1} << 60) + 1;
  ASSERT_TRUE(a.registerRecord("big", record(key, big), std::nullopt, kNow));
  auto bigStale = b.registerRecord("big", record(key, big - 1), std::nullopt, kNow);
  ASSERT_FALSE(bigStale);
  EXPECT_EQ(std::get<registry::RegistryError>(bigStale.error()), registry::RegistryError::StaleRecord);

  // Discover at B, then page on at A with B's cookie: only what is newer.
  auto page = b.discover("room", 10, "", kNow);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->registrations.size(), 1u);
  EXPECT_EQ(page->registrations[0].nodeId(), key.nodeId());
  EXPECT_EQ(page->registrations[0].expiresAt, kNow + std::chrono::seconds(900));
  auto empty = a.discover("room", 10, page->cookie, kNow);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->registrations.empty());
  auto other = identity::PrivateKey::generate().value();
  ASSERT_TRUE(a.registerRecord("room", record(other, 1), std::nullopt, kNow));
  auto newer = b.discover("room", 10, page->cookie, kNow);
  ASSERT_TRUE(newer);
  ASSERT_EQ(newer->registrations.size(), 1u);
  EXPECT_EQ(newer->registrations[0].nodeId(), other.nodeId());
  EXPECT_FALSE(a.discover("other-ns", 10, page->cookie, kNow));  // a cookie of another namespace
  EXPECT_TRUE(b.hasIdentity(key.nodeId()));
  EXPECT_TRUE(a.find("room", other.nodeId(), kNow).has_value());
}

TEST(RedisRegistry, CapsExpiryAndUnregisterAreFleetWide) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  RedisRegistry a(smallCaps(), Keys("t"), client(redis));
  RedisRegistry b(smallCaps(), Keys("t"), client(redis));
  auto k1 = identity::PrivateKey::generate().value();
  ASSERT_TRUE(a.registerRecord("n1", record(k1, 1), registry::Seconds(60), kNow));
  ASSERT_TRUE(b.registerRecord("n2", record(k1, 1), registry::Seconds(60), kNow));
  auto third = a.registerRecord("n3", record(k1, 1), registry::Seconds(60), kNow);
  ASSERT_FALSE(third);
  EXPECT_EQ(std::get<registry::RegistryError>(third.error()), registry::RegistryError::IdentityCapReached);
  std::vector<identity::PrivateKey> keys;
  for (int i = 0; i < 2; ++i) {
    keys.push_back(identity::PrivateKey::generate().value());
    ASSERT_TRUE((i % 2 ? a : b).registerRecord("n1", record(keys.back(), 1), registry::Seconds(60), kNow));
  }
  auto k4 = identity::PrivateKey::generate().value();
  auto full = a.registerRecord("n1", record(k4, 1), registry::Seconds(60), kNow);
  ASSERT_FALSE(full);
  EXPECT_EQ(std::get<registry::RegistryError>(full.error()), registry::RegistryError::NamespaceCapReached);
  auto total = a.registerRecord("n9", record(k4, 1), registry::Seconds(60), kNow);
  ASSERT_FALSE(total);
  EXPECT_EQ(std::get<registry::RegistryError>(total.error()), registry::RegistryError::RegistryFull);

  // 61 s later everything has expired: the purge frees every index, and the slots are free again.
  const auto later = kNow + std::chrono::seconds(61);
  auto purged = b.purgeExpired(later);
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 4u);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_FALSE(a.hasIdentity(k1.nodeId()));
  auto page = a.discover("n1", 10, "", later);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->registrations.empty());
  ASSERT_TRUE(a.registerRecord("n1", record(k4, 1), registry::Seconds(60), later));

  // Unregister needs the registrant's signature over the registered seq; done once, at any node.
  const int64_t signedTime = 1'800'000'061'000;
  auto sig = k4.sign(registry::unregisterDigest("n1", k4.nodeId(), 1, signedTime)).value();
  auto wrong = k1.sign(registry::unregisterDigest("n1", k4.nodeId(), 1, signedTime)).value();
  auto refused = b.unregister("n1", k4.nodeId(), wrong, signedTime, later);
  ASSERT_FALSE(refused);
  EXPECT_EQ(std::get<registry::RegistryError>(refused.error()), registry::RegistryError::BadSignature);
  ASSERT_TRUE(b.unregister("n1", k4.nodeId(), sig, signedTime, later));
  auto again = a.unregister("n1", k4.nodeId(), sig, signedTime, later);
  ASSERT_FALSE(again);
  EXPECT_EQ(std::get<registry::RegistryError>(again.error()), registry::RegistryError::NotRegistered);
}

signalling::Envelope envelope(const identity::PrivateKey& from, const identity::PrivateKey& to, uint64_t seq) {
  signalling::CryptoRng rng;
  signalling::EnvelopeHeader h{from.nodeId(), to.nodeId(), signalling::EnvelopeType::Message, seq, 1'800'000'000'000};
  const std::string body = "m" + std::to_string(seq);
  return signalling::seal(from, to.publicKey(), h, asBytes(body), rng).value();
}

TEST(RedisMailboxStore, StoredAtOneNodeCollectedAtAnotherInOrderAndRemovedOnce) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  RedisMailboxStore a(Keys("t"), client(redis), 256), c(Keys("t"), client(redis), 256);
  auto alice = identity::PrivateKey::generate().value(), carol = identity::PrivateKey::generate().value();
  auto bob = identity::PrivateKey::generate().value();
  const signalling::TimePoint now = signalling::TimePoint{} + std::chrono::seconds(1'800'000'000);
  const auto e1 = envelope(alice, bob, 1);
  auto id1 = a.put(e1, now + 60s);
  auto id2 = c.put(envelope(carol, bob, 7), now + 60s);
  auto id3 = a.put(envelope(alice, bob, 2), now + 1s);
  ASSERT_TRUE(id1 && id2 && id3);
  EXPECT_LT(*id1, *id2);
  EXPECT_LT(*id2, *id3);
  auto atC = c.loadFor(bob.nodeId(), now);
  ASSERT_TRUE(atC);
  ASSERT_EQ(atC->size(), 3u);
  EXPECT_EQ((*atC)[0].envelope.header.seq, 1u);
  EXPECT_EQ((*atC)[1].envelope.header.seq, 7u);
  EXPECT_EQ((*atC)[2].envelope.header.seq, 2u);
  EXPECT_EQ((*atC)[0].envelope.header, e1.header);
  EXPECT_EQ((*atC)[0].envelope.ciphertext, e1.ciphertext);
  EXPECT_EQ((*atC)[0].expiresAt, now + 60s);
  // Expired entries are not delivered (and are dropped from Redis).
  auto later = c.loadFor(bob.nodeId(), now + 2s);
  ASSERT_TRUE(later);
  EXPECT_EQ(later->size(), 2u);
  // C confirms the first: A no longer sees it.
  const int64_t first = *id1;
  ASSERT_TRUE(c.remove(std::span<const int64_t>(&first, 1)));
  auto atA = a.loadFor(bob.nodeId(), now);
  ASSERT_TRUE(atA);
  ASSERT_EQ(atA->size(), 1u);
  EXPECT_EQ((*atA)[0].id, *id2);
  auto nobody = a.loadFor(alice.nodeId(), now);
  ASSERT_TRUE(nobody);
  EXPECT_TRUE(nobody->empty());
}

TEST(RedisClient, ALostRedisFailsFastUntilTheBackoffPasses) {
  RedisServer redis;
  ASSERT_TRUE(redis.started()) << redis.log();
  auto c = client(redis);
  ASSERT_TRUE(c->command({"PING"}));
  redis.kill9();
  EXPECT_FALSE(c->command({"PING"}));
  // In backoff: refused at once, without touching the network.
  const auto before = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    auto r = c->command({"PING"});
    ASSERT_FALSE(r);
    EXPECT_TRUE(r.error().connection);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - before, 50ms);
  ASSERT_TRUE(redis.start()) << redis.log();
  EXPECT_TRUE(test::waitUntil([&] { return static_cast<bool>(c->command({"PING"})); }, 10s));
}

}  // namespace
}  // namespace rdv::fleet
