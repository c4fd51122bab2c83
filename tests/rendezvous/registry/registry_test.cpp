#include "rendezvous/registry/registry.h"

#include <gtest/gtest.h>

#include <set>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/cookie.h"
#include "rendezvous/registry/unregister_message.h"

namespace rdv::registry {
namespace {

using namespace std::chrono_literals;
using identity::PrivateKey;

// A fake clock: tests move it forward explicitly.
struct FakeClock {
  TimePoint now = TimePoint{} + 1'700'000'000s;
  void advance(std::chrono::seconds d) { now += d; }
};

enr::EnrRecord makeRecord(const PrivateKey& key, uint64_t seq, uint16_t udp = 30303) {
  return *enr::EnrBuilder().setSeq(seq).setIp({198, 51, 100, 7}).setUdp(udp).sign(key);
}

constexpr int64_t kSignedAt = 1'700'000'000;

identity::Signature unregisterSig(const PrivateKey& key, std::string_view ns, uint64_t seq) {
  return *key.sign(unregisterDigest(ns, key.nodeId(), seq, kSignedAt));
}

class RegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  Registry registry_;
  PrivateKey alice_ = *PrivateKey::generate();
  PrivateKey bob_ = *PrivateKey::generate();
};

TEST_F(RegistryTest, TtlDefaultAndBounds) {
  auto plan = registry_.registerRecord("chat", makeRecord(alice_, 1), std::nullopt, clock_.now);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->kind, RegisterKind::Created);
  EXPECT_EQ(plan->ttl, 2h);
  EXPECT_EQ(plan->registration.expiresAt, clock_.now + 2h);

  auto tooShort = registry_.registerRecord("chat", makeRecord(bob_, 1), 59s, clock_.now);
  ASSERT_FALSE(tooShort.ok());
  EXPECT_EQ(tooShort.error(), RegistryError::TtlOutOfRange);
  EXPECT_EQ(registry_.message(tooShort.error()), "ttl must be between 60 and 259200 seconds");
  EXPECT_EQ(registry_.registerRecord("chat", makeRecord(bob_, 1), 72h + 1s, clock_.now).error(),
            RegistryError::TtlOutOfRange);
  EXPECT_TRUE(registry_.registerRecord("chat", makeRecord(bob_, 1), 72h, clock_.now).ok());
  EXPECT_EQ(httpStatus(RegistryError::TtlOutOfRange), 400);
}

TEST_F(RegistryTest, NamespaceLength) {
  EXPECT_EQ(registry_.registerRecord("", makeRecord(alice_, 1), {}, clock_.now).error(),
            RegistryError::InvalidNamespace);
  EXPECT_EQ(registry_.registerRecord(std::string(256, 'n'), makeRecord(alice_, 1), {}, clock_.now).error(),
            RegistryError::InvalidNamespace);
  EXPECT_TRUE(registry_.registerRecord(std::string(255, 'n'), makeRecord(alice_, 1), {}, clock_.now).ok());
}

TEST_F(RegistryTest, SeqRules) {
  const auto v1 = makeRecord(alice_, 1);
  ASSERT_TRUE(registry_.registerRecord("chat", v1, 1h, clock_.now).ok());
  const uint64_t firstCounter = registry_.find("chat", alice_.nodeId())->counter;

  clock_.advance(10min);
  auto refresh = registry_.registerRecord("chat", v1, 1h, clock_.now);
  ASSERT_TRUE(refresh.ok());
  EXPECT_EQ(refresh->kind, RegisterKind::Refreshed);
  EXPECT_EQ(registry_.find("chat", alice_.nodeId())->expiresAt, clock_.now + 1h);
  EXPECT_EQ(registry_.find("chat", alice_.nodeId())->counter, firstCounter);

  auto conflict = registry_.registerRecord("chat", makeRecord(alice_, 1, 4000), 1h, clock_.now);
  EXPECT_EQ(conflict.error(), RegistryError::ConflictingRecord);
  EXPECT_EQ(httpStatus(conflict.error()), 409);

  auto update = registry_.registerRecord("chat", makeRecord(alice_, 2, 4000), 1h, clock_.now);
  ASSERT_TRUE(update.ok());
  EXPECT_EQ(update->kind, RegisterKind::Updated);
  EXPECT_GT(registry_.find("chat", alice_.nodeId())->counter, firstCounter);
  EXPECT_EQ(registry_.find("chat", alice_.nodeId())->record->udp(), 4000);

  EXPECT_EQ(registry_.registerRecord("chat", v1, 1h, clock_.now).error(), RegistryError::StaleRecord);
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(RegistryTest, UnregisterNeedsTheSameKey) {
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(alice_, 3), {}, clock_.now).ok());
  const auto id = alice_.nodeId();
  EXPECT_EQ(registry_.unregister("chat", id, unregisterSig(bob_, "chat", 3), kSignedAt, clock_.now).error(),
            RegistryError::BadSignature);
  EXPECT_EQ(registry_.unregister("chat", id, unregisterSig(alice_, "chat", 2), kSignedAt, clock_.now).error(),
            RegistryError::BadSignature)
      << "signature for another seq";
  EXPECT_EQ(registry_.unregister("chat", id, unregisterSig(alice_, "other", 3), kSignedAt, clock_.now).error(),
            RegistryError::BadSignature)
      << "signature for another namespace";
  EXPECT_EQ(registry_.unregister("other", id, unregisterSig(alice_, "other", 3), kSignedAt, clock_.now).error(),
            RegistryError::NotRegistered);
  EXPECT_EQ(registry_.unregister("chat", id, Bytes(10, 1), kSignedAt, clock_.now).error(), RegistryError::BadSignature);
  EXPECT_EQ(registry_.size(), 1u);

  auto removed = registry_.unregister("chat", id, unregisterSig(alice_, "chat", 3), kSignedAt, clock_.now);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->nodeId(), id);
  EXPECT_EQ(registry_.size(), 0u);
  EXPECT_EQ(registry_.namespaceCount(), 0u);
  EXPECT_EQ(registry_.unregister("chat", id, unregisterSig(alice_, "chat", 3), kSignedAt, clock_.now).error(),
            RegistryError::NotRegistered);
}

TEST_F(RegistryTest, ExpiryAndPurge) {
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(alice_, 5), 60s, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(bob_, 1), 120s, clock_.now).ok());
  EXPECT_EQ(registry_.nextExpiry(), clock_.now + 60s);

  clock_.advance(59s);
  EXPECT_EQ(registry_.purgeExpired(clock_.now), 0u);
  EXPECT_EQ(registry_.discover("chat", 10, "", clock_.now)->registrations.size(), 2u);

  clock_.advance(1s);  // alice's expiry instant: expired
  EXPECT_EQ(registry_.discover("chat", 10, "", clock_.now)->registrations.size(), 1u) << "expired, unpurged";
  // An expired registration no longer holds its seq: a lower seq may register afresh.
  auto fresh = registry_.checkRegister("chat", makeRecord(alice_, 1), 60s, clock_.now);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->kind, RegisterKind::Created);

  EXPECT_EQ(registry_.purgeExpired(clock_.now), 1u);
  EXPECT_EQ(registry_.find("chat", alice_.nodeId()), nullptr);
  EXPECT_EQ(registry_.nextExpiry(), clock_.now + 60s);
  clock_.advance(1h);
  EXPECT_EQ(registry_.purgeExpired(clock_.now), 1u);
  EXPECT_FALSE(registry_.nextExpiry().has_value());
  EXPECT_EQ(registry_.namespaceCount(), 0u);
}

TEST_F(RegistryTest, DiscoverPagesWithCookies) {
  std::vector<PrivateKey> peers;
  for (int i = 0; i < 25; ++i) peers.push_back(*PrivateKey::generate());
  for (const auto& p : peers) ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(p, 1), {}, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("other", makeRecord(alice_, 1), {}, clock_.now).ok());

  std::set<identity::NodeId> seen;
  std::string cookie;
  for (size_t expected : {10u, 10u, 5u, 0u}) {
    auto page = registry_.discover("chat", 10, cookie, clock_.now);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->registrations.size(), expected);
    for (const auto& r : page->registrations) EXPECT_TRUE(seen.insert(r.nodeId()).second) << "returned twice";
    cookie = page->cookie;
  }
  EXPECT_EQ(seen.size(), 25u);

  // A refresh is not new; an update and a newcomer are.
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(peers[3], 1), {}, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(peers[7], 2), {}, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(bob_, 1), {}, clock_.now).ok());
  auto page = registry_.discover("chat", 10, cookie, clock_.now);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->registrations.size(), 2u);
  EXPECT_EQ(page->registrations[0].nodeId(), peers[7].nodeId());
  EXPECT_EQ(page->registrations[0].record->seq(), 2u);
  EXPECT_EQ(page->registrations[1].nodeId(), bob_.nodeId());

  EXPECT_EQ(registry_.discover("other", 10, page->cookie, clock_.now).error(), RegistryError::InvalidCookie);
  EXPECT_EQ(registry_.discover("chat", 10, "garbage!", clock_.now).error(), RegistryError::InvalidCookie);
  EXPECT_EQ(registry_.discover("chat", 0, "", clock_.now).error(), RegistryError::InvalidLimit);
  EXPECT_EQ(registry_.discover("chat", 1001, "", clock_.now).error(), RegistryError::InvalidLimit);
  EXPECT_TRUE(registry_.discover("chat", 1000, "", clock_.now).ok());
  EXPECT_EQ(registry_.discover("nobody-here", 10, "", clock_.now)->registrations.size(), 0u);
}

TEST(Cookie, RoundTripAndNamespaceBinding) {
  const auto c = encodeCookie("chat", 0x0102030405060708ULL);
  EXPECT_EQ(decodeCookie("chat", c), 0x0102030405060708ULL);
  EXPECT_FALSE(decodeCookie("chat2", c).has_value());
  EXPECT_FALSE(decodeCookie("chat", c + "A").has_value());
  EXPECT_FALSE(decodeCookie("chat", "").has_value());
}

TEST(RegistryCaps, PerIdentityAndPerNamespace) {
  RegistryConfig config;
  config.maxPerIdentity = 2;
  config.maxPerNamespace = 3;
  Registry registry(config);
  FakeClock clock;
  auto alice = *PrivateKey::generate();
  ASSERT_TRUE(registry.registerRecord("a", makeRecord(alice, 1), {}, clock.now).ok());
  ASSERT_TRUE(registry.registerRecord("b", makeRecord(alice, 1), {}, clock.now).ok());
  auto third = registry.registerRecord("c", makeRecord(alice, 1), {}, clock.now);
  EXPECT_EQ(third.error(), RegistryError::IdentityCapReached);
  EXPECT_EQ(httpStatus(third.error()), 429);
  EXPECT_TRUE(registry.registerRecord("b", makeRecord(alice, 2), {}, clock.now).ok()) << "updates need no new slot";

  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(registry.registerRecord("a", makeRecord(*PrivateKey::generate(), 1), 60s, clock.now).ok());
  }
  auto full = registry.registerRecord("a", makeRecord(*PrivateKey::generate(), 1), {}, clock.now);
  EXPECT_EQ(full.error(), RegistryError::NamespaceCapReached);
  EXPECT_NE(full.error(), RegistryError::IdentityCapReached);
  EXPECT_EQ(registry.message(full.error()), "this namespace already holds 3 registrations");
  clock.now += 61s;
  registry.purgeExpired(clock.now);
  EXPECT_TRUE(registry.registerRecord("a", makeRecord(*PrivateKey::generate(), 1), {}, clock.now).ok());
}

TEST_F(RegistryTest, UnregisterSignatureBindsItsTime) {
  ASSERT_TRUE(registry_.registerRecord("chat", makeRecord(alice_, 3), {}, clock_.now).ok());
  // A signature made for one time does not verify as another (the HTTP layer checks the time is recent).
  EXPECT_EQ(registry_.unregister("chat", alice_.nodeId(), unregisterSig(alice_, "chat", 3), kSignedAt + 1, clock_.now).error(),
            RegistryError::BadSignature);
  EXPECT_NE(unregisterDigest("chat", alice_.nodeId(), 3, 1), unregisterDigest("chat", alice_.nodeId(), 3, 2));
  const auto r3 = makeRecord(alice_, 3), r3b = makeRecord(alice_, 3, 4000);
  EXPECT_NE(registerDigest("chat", r3.encoded(), 0, 1), registerDigest("chat", r3.encoded(), 60, 1));
  EXPECT_NE(registerDigest("chat", r3.encoded(), 0, 1), registerDigest("chat2", r3.encoded(), 0, 1));
  EXPECT_NE(registerDigest("chat", r3.encoded(), 0, 1), registerDigest("chat", r3.encoded(), 0, 2));
  EXPECT_NE(registerDigest("chat", r3.encoded(), 0, 1), registerDigest("chat", r3b.encoded(), 0, 1));  // the record itself
  EXPECT_NE(registerDigest("chat", r3.encoded(), 0, 1), unregisterDigest("chat", alice_.nodeId(), 3, 1));
}

TEST(RegistryCaps, GlobalRecordCap) {
  RegistryConfig config;
  config.maxRecords = 3;
  Registry registry(config);
  const TimePoint now = TimePoint{} + 1'700'000'000s;
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(*PrivateKey::generate());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(registry.registerRecord("ns" + std::to_string(i), makeRecord(keys[i], 1), {}, now).ok());
  EXPECT_EQ(registry.registerRecord("ns9", makeRecord(keys[3], 1), {}, now).error(), RegistryError::RegistryFull);
  EXPECT_EQ(httpStatus(RegistryError::RegistryFull), 503);
  // Refreshing or updating what is there needs no new slot.
  EXPECT_TRUE(registry.registerRecord("ns0", makeRecord(keys[0], 1), {}, now).ok());
  EXPECT_TRUE(registry.registerRecord("ns0", makeRecord(keys[0], 2), {}, now).ok());
  EXPECT_NE(registry.message(RegistryError::RegistryFull).find("3"), std::string::npos);
}

TEST(RegistryRestore, KeepsCounterAboveRestoredEntries) {
  Registry registry;
  FakeClock clock;
  auto alice = *PrivateKey::generate();
  Registration reg{"chat", std::make_shared<const enr::EnrRecord>(makeRecord(alice, 1)), clock.now + 1h, 41};
  registry.restore(reg);
  registry.restoreCounter(50);
  EXPECT_EQ(registry.counter(), 50u);
  auto bob = registry.registerRecord("chat", makeRecord(*PrivateKey::generate(), 1), {}, clock.now);
  EXPECT_EQ(bob->registration.counter, 51u);
  EXPECT_EQ(registry.find("chat", alice.nodeId())->counter, 41u);
}

TEST(RegistryPlan, CheckDoesNotMutate) {
  Registry registry;
  FakeClock clock;
  auto alice = *PrivateKey::generate();
  auto plan = registry.checkRegister("chat", makeRecord(alice, 1), {}, clock.now);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(registry.size(), 0u);
  registry.apply(*plan);
  EXPECT_EQ(registry.size(), 1u);
  auto un = registry.checkUnregister("chat", alice.nodeId(), unregisterSig(alice, "chat", 1), kSignedAt, clock.now);
  ASSERT_TRUE(un.ok());
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_TRUE(registry.remove("chat", alice.nodeId()));
  EXPECT_EQ(registry.size(), 0u);
}

// Issue 17: one identity's registrations by node id or Ethereum address (the index behind GET
// /v1/registrations?address=), kept through updates, unregistering and expiry.
TEST_F(RegistryTest, RegistrationsByIdentityAndAddress) {
  const auto address = identity::EthAddress::ofKey(alice_.publicKey());
  EXPECT_FALSE(registry_.identityOfAddress(address));
  ASSERT_TRUE(registry_.registerRecord("b-space", makeRecord(alice_, 1), 600s, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("a-space", makeRecord(alice_, 1), 60s, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("a-space", makeRecord(bob_, 1), 600s, clock_.now).ok());
  ASSERT_TRUE(registry_.registerRecord("a-space", makeRecord(alice_, 2), 60s, clock_.now).ok());  // an update
  ASSERT_EQ(registry_.identityOfAddress(address), alice_.nodeId());
  auto regs = registry_.registrationsOf(alice_.nodeId(), clock_.now);
  ASSERT_EQ(regs.size(), 2u);
  EXPECT_EQ(regs[0].ns, "a-space");  // namespace order
  EXPECT_EQ(regs[0].record->seq(), 2u);
  EXPECT_EQ(regs[1].ns, "b-space");
  EXPECT_FALSE(registry_.identityOfAddress(identity::EthAddress{}));
  // Expired but not yet purged: not listed; purged: gone from the index.
  clock_.advance(120s);
  EXPECT_EQ(registry_.registrationsOf(alice_.nodeId(), clock_.now).size(), 1u);
  EXPECT_EQ(registry_.purgeExpired(clock_.now), 1u);
  EXPECT_TRUE(registry_.identityOfAddress(address));
  EXPECT_TRUE(registry_.remove("b-space", alice_.nodeId()));
  EXPECT_FALSE(registry_.identityOfAddress(address));
  EXPECT_TRUE(registry_.registrationsOf(alice_.nodeId(), clock_.now).empty());
  EXPECT_EQ(registry_.registrationsOf(bob_.nodeId(), clock_.now).size(), 1u);
}

}  // namespace
}  // namespace rdv::registry
