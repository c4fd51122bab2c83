// The hub under attack (issue 12), with a fake clock: per-sender caps, eviction of the heaviest
// sender, the short TTL for recipients never seen, back-pressure on a recipient that stops reading
// (never a "delivered" ack for a dropped envelope), and the close after repeated pre-auth errors.
#include <gtest/gtest.h>

#include "signalling/envelope/envelope_codec.h"
#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

class HubAbuseTest : public ::testing::Test {
 protected:
  static HubConfig baseConfig(const PrivateKey& hub) {
    HubConfig c;
    c.hubId = hub.nodeId();
    c.mailboxTtl = 3600s;
    c.unknownRecipientTtl = 60s;
    c.mailbox.perRecipient = 8;
    c.mailbox.total = 12;
    c.mailbox.perSender = 10;
    c.mailbox.perSenderRecipient = 6;
    c.framesPerSecond = 1000;
    c.frameBurst = 1000;
    return c;
  }
  std::vector<ErrorFrame> errorsTo(const std::vector<HubCommand>& cmds, const Client& c) {
    return only<ErrorFrame>(framesTo(cmds, c.conn));
  }
  std::vector<AckFrame> acksTo(const std::vector<HubCommand>& cmds, const Client& c) {
    return only<AckFrame>(framesTo(cmds, c.conn));
  }
  // Sends one envelope; returns the ack status or the error code.
  std::string outcome(HubHarness& h, Client& from, const PrivateKey& to, std::string_view body = "x") {
    auto cmds = h.send(from, h.envelope(from, to, body));
    auto acks = acksTo(cmds, from);
    if (!acks.empty()) return std::string(ackStatusName(acks[0].status));
    auto errors = errorsTo(cmds, from);
    return errors.empty() ? "nothing" : errors[0].code;
  }

  PrivateKey hubKey_ = *PrivateKey::generate();
  MemoryMailboxStore store_;
  HubHarness h_{baseConfig(hubKey_), store_};
  Client mallory_{1, *PrivateKey::generate()};
  Client alice_{2, *PrivateKey::generate()};
  Client bob_{3, *PrivateKey::generate()};
  Client carol_{4, *PrivateKey::generate()};
};

TEST_F(HubAbuseTest, PerSenderRecipientCapLeavesTheVictimsMailboxOpenToOthers) {
  h_.login(mallory_);
  h_.login(alice_);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(outcome(h_, mallory_, bob_.key), "stored") << i;
  EXPECT_EQ(outcome(h_, mallory_, bob_.key), "sender-recipient-mailbox-full");
  EXPECT_EQ(outcome(h_, alice_, bob_.key), "stored");
  EXPECT_EQ(h_.hub().mailbox().countFor(bob_.key.nodeId()), 7u);
}

TEST_F(HubAbuseTest, PerSenderCapsCountEveryRecipient) {
  h_.login(mallory_);
  for (int i = 0; i < 10; ++i) {
    const PrivateKey victim = *PrivateKey::generate();
    EXPECT_EQ(outcome(h_, mallory_, victim), "stored") << i;
  }
  EXPECT_EQ(outcome(h_, mallory_, *PrivateKey::generate()), "sender-mailbox-full");
  EXPECT_EQ(h_.hub().mailbox().countFrom(mallory_.key.nodeId()), 10u);

  HubConfig c = baseConfig(hubKey_);
  c.mailbox.perSenderBytes = 3 * (kBinaryFixedSize + 1000 + kGcmTagSize);
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(mallory_);
  const std::string body(1000, 'm');
  for (int i = 0; i < 3; ++i) EXPECT_EQ(outcome(h, mallory_, *PrivateKey::generate(), body), "stored") << i;
  EXPECT_EQ(outcome(h, mallory_, *PrivateKey::generate(), body), "sender-mailbox-bytes-full");
  EXPECT_EQ(outcome(h, mallory_, *PrivateKey::generate(), "small"), "sender-mailbox-bytes-full");
}

TEST_F(HubAbuseTest, AFullRecipientMailboxEvictsTheHeaviestSenderNotTheHonestOne) {
  HubConfig c = baseConfig(hubKey_);
  c.mailbox.perSenderRecipient = 100;  // only the per-recipient cap binds here
  c.mailbox.perSender = 100;
  c.mailbox.total = 100;
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(mallory_);
  h.login(alice_);
  EXPECT_EQ(outcome(h, alice_, bob_.key, "honest"), "stored");
  for (int i = 0; i < 7; ++i) EXPECT_EQ(outcome(h, mallory_, bob_.key), "stored") << i;
  // Bob's mailbox (8) is full: mallory's next is refused (she is the heaviest), carol's evicts mallory's oldest.
  EXPECT_EQ(outcome(h, mallory_, bob_.key), "recipient-mailbox-full");
  h.login(carol_);
  auto cmds = h.send(carol_, h.envelope(carol_, bob_.key, "also honest"));
  ASSERT_EQ(acksTo(cmds, carol_).size(), 1u);
  auto evicted = errorsTo(cmds, mallory_);
  ASSERT_EQ(evicted.size(), 1u);
  EXPECT_EQ(evicted[0].code, "evicted");
  EXPECT_EQ(evicted[0].seq, 1u);  // her oldest
  EXPECT_EQ(h.hub().stats().evicted, 1u);
  EXPECT_EQ(store.size(), 8u);  // gone from the store too
  // Bob gets both honest envelopes.
  std::vector<std::string> bodies;
  for (const auto& f : only<EnvelopeFrame>(framesTo(h.login(bob_), bob_.conn))) bodies.push_back(openBody(f.envelope, bob_.key));
  EXPECT_NE(std::find(bodies.begin(), bodies.end(), "honest"), bodies.end());
  EXPECT_NE(std::find(bodies.begin(), bodies.end(), "also honest"), bodies.end());
}

TEST_F(HubAbuseTest, AFullStoreEvictsTheHeaviestSenderByBytes) {
  HubConfig c = baseConfig(hubKey_);
  c.mailbox.total = 1000;
  c.mailbox.perSender = 1000;
  c.mailbox.perRecipient = 1000;
  c.mailbox.totalBytes = 10 * (kBinaryFixedSize + 1000 + kGcmTagSize);
  c.maxCiphertextBytes = 2000;
  c.maxFrameBytes = maxEnvelopeFrameBytes(2000);
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(mallory_);
  h.login(alice_);
  const std::string big(1000, 'm');
  // Mallory fills the store with envelopes to random ids (one each: no per-recipient cap binds).
  int stored = 0;
  while (outcome(h, mallory_, *PrivateKey::generate(), big) == "stored") ++stored;
  EXPECT_EQ(stored, 10);
  // Alice still gets her envelope in, at the cost of mallory's oldest; and keeps getting them in.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(outcome(h, alice_, bob_.key, "hello bob"), "stored") << i;
  EXPECT_EQ(h.hub().mailbox().countFor(bob_.key.nodeId()), 4u);
  EXPECT_LE(h.hub().mailbox().bytes(), c.mailbox.totalBytes);
  EXPECT_EQ(h.hub().stats().evicted, 1u);  // one big envelope of mallory's made room for all four
  EXPECT_EQ(h.hub().mailbox().countFrom(mallory_.key.nodeId()), 9u);
  // A sender is never evicted for one as heavy as itself: alice sending big envelopes stops at
  // mallory's weight.
  size_t aliceStored = 4;
  while (outcome(h, alice_, *PrivateKey::generate(), big) == "stored") ++aliceStored;
  EXPECT_GE(h.hub().mailbox().bytesFrom(mallory_.key.nodeId()) + Mailbox::encodedSize(h.envelope(alice_, bob_.key, big)),
            h.hub().mailbox().bytesFrom(alice_.key.nodeId()));
  EXPECT_LE(h.hub().mailbox().bytes(), c.mailbox.totalBytes);
}

TEST_F(HubAbuseTest, EnvelopesForNeverSeenRecipientsLiveTheShortTtl) {
  h_.login(alice_);
  h_.login(bob_);
  h_.hub().disconnected(bob_.conn);  // bob has been seen: the long TTL
  EXPECT_EQ(outcome(h_, alice_, bob_.key), "stored");
  const PrivateKey stranger = *PrivateKey::generate();
  EXPECT_EQ(outcome(h_, alice_, stranger), "stored");
  EXPECT_EQ(h_.hub().nextDeadline(), h_.now + 60s);
  h_.advance(61s);
  h_.hub().handleTimeout(h_.now);
  EXPECT_EQ(h_.hub().mailbox().countFor(stranger.nodeId()), 0u);
  EXPECT_EQ(h_.hub().mailbox().countFor(bob_.key.nodeId()), 1u);
  EXPECT_EQ(store_.size(), 1u);
  // The daemon's known check (registered ids) counts too.
  const PrivateKey registered = *PrivateKey::generate();
  h_.hub().setKnownCheck([&](const NodeId& id) { return id == registered.nodeId(); });
  EXPECT_EQ(outcome(h_, alice_, registered), "stored");
  EXPECT_EQ(h_.hub().nextDeadline(), h_.now - 61s + 3600s);  // bob's, then this one's at now + 3600 s
}

TEST_F(HubAbuseTest, ARecipientThatStopsReadingGetsItsEnvelopesStoredNotAckedDelivered) {
  h_.login(alice_);
  h_.login(bob_);
  h_.congested.insert(bob_.conn);
  auto cmds = h_.send(alice_, h_.envelope(alice_, bob_.key, "while bob is not reading"));
  auto acks = acksTo(cmds, alice_);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Stored);
  EXPECT_EQ(h_.hub().stats().delivered, 0u);
  EXPECT_EQ(h_.hub().stats().congested, 1u);
  EXPECT_EQ(store_.size(), 1u);
  // When it cannot be stored either, it is refused, never acknowledged.
  HubConfig c = baseConfig(hubKey_);
  c.mailbox.perSenderRecipient = 1;
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(alice_);
  h.login(bob_);
  h.congested.insert(bob_.conn);
  EXPECT_EQ(outcome(h, alice_, bob_.key), "stored");
  EXPECT_EQ(outcome(h, alice_, bob_.key), "sender-recipient-mailbox-full");
  // Bob reconnects and reads: the stored one arrives.
  h.congested.clear();
  h.hub().disconnected(bob_.conn);
  EXPECT_EQ(only<EnvelopeFrame>(framesTo(h.login(bob_), bob_.conn)).size(), 1u);
  EXPECT_EQ(outcome(h, alice_, bob_.key), "delivered");
}

TEST_F(HubAbuseTest, RepeatedErrorsBeforeAuthenticationCloseTheConnection) {
  h_.connect(mallory_.conn);
  size_t errors = 0;
  std::vector<CloseConnection> closed;
  for (int i = 0; i < 50 && closed.empty(); ++i) {
    h_.hub().handleFrame(mallory_.conn, "junk", h_.now);
    auto cmds = h_.drain();
    errors += errorsTo(cmds, mallory_).size();
    closed = closes(cmds);
  }
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, CloseReason::ProtocolErrors);
  EXPECT_EQ(closeCode(closed[0].reason), 4003);
  EXPECT_EQ(errors, h_.hub().config().maxPreAuthErrors);
  EXPECT_EQ(h_.hub().stats().protocolCloses, 1u);
  h_.hub().handleFrame(mallory_.conn, "junk", h_.now);  // forgotten: no more answers
  EXPECT_TRUE(h_.drain().empty());
  // An authenticated client's mistakes do not close it.
  h_.login(alice_);
  for (int i = 0; i < 20; ++i) h_.hub().handleFrame(alice_.conn, "junk", h_.now);
  EXPECT_TRUE(closes(h_.drain()).empty());
}

TEST_F(HubAbuseTest, ConfigValidationNamesTheNewFields) {
  HubConfig c = baseConfig(hubKey_);
  c.mailbox.perSender = 0;
  ASSERT_TRUE(validateConfig(c));
  EXPECT_EQ(validateConfig(c)->field, HubConfigField::MailboxPerSender);
  c = baseConfig(hubKey_);
  c.mailbox.perSenderBytes = 100;
  EXPECT_EQ(validateConfig(c)->field, HubConfigField::MailboxPerSenderBytes);
  c = baseConfig(hubKey_);
  c.unknownRecipientTtl = c.mailboxTtl + 1s;
  EXPECT_EQ(validateConfig(c)->field, HubConfigField::UnknownRecipientTtl);
  c = baseConfig(hubKey_);
  c.mailbox.perSenderRecipient = 0;
  EXPECT_EQ(validateConfig(c)->field, HubConfigField::MailboxPerSenderRecipient);
  EXPECT_FALSE(validateConfig(baseConfig(hubKey_)));
}

}  // namespace
}  // namespace rdv::signalling
