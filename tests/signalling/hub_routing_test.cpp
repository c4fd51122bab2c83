// Hub routing with a fake clock: online delivery and acks, the mailbox (order, TTL, caps,
// storage failure, restart), sender checks, rate and size limits.
#include <gtest/gtest.h>

#include "signalling/envelope/envelope_codec.h"
#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

class HubRoutingTest : public ::testing::Test {
 protected:
  HubRoutingTest() : h_(makeConfig(), store_) {}
  HubConfig makeConfig() {
    HubConfig c;
    c.hubId = hubKey_.nodeId();
    c.mailboxTtl = 3600s;
    c.unknownRecipientTtl = 3600s;  // these tests are about the caps; the short TTL has tests of its own
    c.mailbox.perRecipient = 4;
    c.mailbox.total = 6;
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

  PrivateKey hubKey_ = *PrivateKey::generate();
  MemoryMailboxStore store_;
  HubHarness h_;
  Client alice_{1, *PrivateKey::generate()};
  Client bob_{2, *PrivateKey::generate()};
  Client carol_{3, *PrivateKey::generate()};
};

TEST_F(HubRoutingTest, OnlineDeliveryAndAck) {
  h_.login(alice_);
  h_.login(bob_);
  const auto e = h_.envelope(alice_, bob_.key, "offer sdp", EnvelopeType::Offer);
  auto cmds = h_.send(alice_, e);
  auto received = only<EnvelopeFrame>(framesTo(cmds, bob_.conn));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].envelope, e);
  EXPECT_EQ(openBody(received[0].envelope, bob_.key), "offer sdp");
  auto acks = acksTo(cmds, alice_);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0], (AckFrame{bob_.key.nodeId(), e.header.seq, AckStatus::Delivered}));
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(h_.hub().stats().delivered, 1u);
}

TEST_F(HubRoutingTest, OfflineRecipientGetsStoredEnvelopesInOrderOnConnect) {
  h_.login(alice_);
  h_.login(carol_);
  std::vector<Envelope> sent;
  for (int i = 0; i < 4; ++i) {
    Client& from = (i % 2 == 0) ? alice_ : carol_;
    sent.push_back(h_.envelope(from, bob_.key, "m" + std::to_string(i)));
    auto acks = acksTo(h_.send(from, sent.back()), from);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].status, AckStatus::Stored);
    EXPECT_EQ(acks[0].seq, sent.back().header.seq);
    h_.advance(10ms);
  }
  EXPECT_EQ(store_.size(), 4u);
  auto cmds = h_.login(bob_);
  auto frames = framesTo(cmds, bob_.conn);
  ASSERT_EQ(frames.size(), 5u);
  EXPECT_EQ(std::get<WelcomeFrame>(frames[0]).stored, 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(std::get<EnvelopeFrame>(frames[i + 1]).envelope, sent[i]) << i;
    EXPECT_EQ(openBody(std::get<EnvelopeFrame>(frames[i + 1]).envelope, bob_.key), "m" + std::to_string(i));
  }
  // Not confirmed yet: still stored, and sent again on the next connection.
  EXPECT_EQ(store_.size(), 4u);
  h_.hub().disconnected(bob_.conn);
  EXPECT_EQ(only<EnvelopeFrame>(framesTo(h_.login(bob_), bob_.conn)).size(), 4u);
  // Confirming alice's (cumulative per sender) deletes hers only; then carol's.
  EXPECT_TRUE(h_.confirm(bob_, alice_.key.nodeId(), alice_.seq).empty());
  EXPECT_EQ(store_.size(), 2u);
  EXPECT_TRUE(h_.confirm(bob_, carol_.key.nodeId(), carol_.seq).empty());
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_EQ(h_.hub().mailbox().size(), 0u);
  EXPECT_EQ(h_.hub().stats().confirmed, 4u);
  h_.hub().disconnected(bob_.conn);
  auto again = h_.login(bob_);
  EXPECT_EQ(only<EnvelopeFrame>(framesTo(again, bob_.conn)).size(), 0u);
  EXPECT_EQ(only<WelcomeFrame>(framesTo(again, bob_.conn))[0].stored, 0u);
}

TEST_F(HubRoutingTest, MailboxEntriesExpireAtTheirTtl) {
  h_.login(alice_);
  h_.send(alice_, h_.envelope(alice_, bob_.key, "early"));
  h_.advance(1000s);
  h_.send(alice_, h_.envelope(alice_, bob_.key, "late"));
  ASSERT_EQ(h_.hub().nextDeadline(), h_.now - 1000s + 3600s);
  h_.advance(2600s);
  h_.hub().handleTimeout(h_.now);
  EXPECT_EQ(h_.hub().mailbox().size(), 1u);
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_EQ(h_.hub().stats().expired, 1u);
  auto cmds = h_.login(bob_);
  auto received = only<EnvelopeFrame>(framesTo(cmds, bob_.conn));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(openBody(received[0].envelope, bob_.key), "late");
}

TEST_F(HubRoutingTest, PerRecipientCapRefusesWithANamedErrorAndKeepsWhatWasAcked) {
  h_.login(alice_);
  std::vector<uint64_t> acked;
  for (int i = 0; i < 5; ++i) {
    const auto e = h_.envelope(alice_, bob_.key, "m" + std::to_string(i));
    auto cmds = h_.send(alice_, e);
    if (i < 4) {
      ASSERT_EQ(acksTo(cmds, alice_).size(), 1u);
      acked.push_back(e.header.seq);
    } else {
      EXPECT_TRUE(acksTo(cmds, alice_).empty());
      auto errors = errorsTo(cmds, alice_);
      ASSERT_EQ(errors.size(), 1u);
      EXPECT_EQ(errors[0].code, "recipient-mailbox-full");
      EXPECT_EQ(errors[0].seq, e.header.seq);
      EXPECT_EQ(errors[0].to, bob_.key.nodeId());
    }
  }
  // Other recipients still have room.
  EXPECT_EQ(acksTo(h_.send(alice_, h_.envelope(alice_, carol_.key, "c")), alice_).size(), 1u);
  auto received = only<EnvelopeFrame>(framesTo(h_.login(bob_), bob_.conn));
  ASSERT_EQ(received.size(), acked.size());  // every acknowledged envelope arrives
  for (size_t i = 0; i < acked.size(); ++i) EXPECT_EQ(received[i].envelope.header.seq, acked[i]);
}

TEST_F(HubRoutingTest, GlobalCapRefusesWithANamedError) {
  h_.login(alice_);
  Client dave{4, *PrivateKey::generate()};
  for (int i = 0; i < 6; ++i) {
    const auto& to = (i < 3) ? bob_.key : carol_.key;
    ASSERT_EQ(acksTo(h_.send(alice_, h_.envelope(alice_, to, "x")), alice_).size(), 1u) << i;
  }
  auto errors = errorsTo(h_.send(alice_, h_.envelope(alice_, dave.key, "x")), alice_);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "mailbox-full");
  EXPECT_EQ(h_.hub().mailbox().size(), 6u);
  EXPECT_EQ(store_.size(), 6u);
  // Bob receiving and confirming his frees room.
  h_.login(bob_);
  EXPECT_EQ(h_.hub().mailbox().size(), 6u);
  h_.confirm(bob_, alice_.key.nodeId(), alice_.seq);
  EXPECT_EQ(h_.hub().mailbox().size(), 3u);
  EXPECT_EQ(acksTo(h_.send(alice_, h_.envelope(alice_, dave.key, "x")), alice_).size(), 1u);
}

TEST_F(HubRoutingTest, ByteCapRefusesWithANamedError) {
  HubConfig c = makeConfig();
  c.mailbox.totalBytes = 2 * (kBinaryFixedSize + 100 + kGcmTagSize);
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(alice_);
  const std::string body(100, 'b');
  EXPECT_EQ(acksTo(h.send(alice_, h.envelope(alice_, bob_.key, body)), alice_).size(), 1u);
  EXPECT_EQ(acksTo(h.send(alice_, h.envelope(alice_, bob_.key, body)), alice_).size(), 1u);
  auto errors = errorsTo(h.send(alice_, h.envelope(alice_, bob_.key, "1")), alice_);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "mailbox-bytes-full");
}

TEST_F(HubRoutingTest, StorageFailureIsAnErrorNotAnAck) {
  h_.login(alice_);
  store_.failNextPut();
  const auto e = h_.envelope(alice_, bob_.key, "x");
  auto cmds = h_.send(alice_, e);
  EXPECT_TRUE(acksTo(cmds, alice_).empty());
  auto errors = errorsTo(cmds, alice_);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "storage-failed");
  EXPECT_EQ(errors[0].seq, e.header.seq);
  EXPECT_EQ(h_.hub().mailbox().size(), 0u);
}

TEST_F(HubRoutingTest, StoredEnvelopesSurviveAHubRestart) {
  h_.login(alice_);
  const auto e = h_.envelope(alice_, bob_.key, "after restart");
  ASSERT_EQ(acksTo(h_.send(alice_, e), alice_)[0].status, AckStatus::Stored);
  h_.restart();
  EXPECT_EQ(h_.hub().mailbox().size(), 1u);
  auto received = only<EnvelopeFrame>(framesTo(h_.login(bob_), bob_.conn));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].envelope, e);
}

TEST_F(HubRoutingTest, SenderSpoofingIsRefused) {
  h_.login(alice_);
  h_.login(bob_);
  // A valid envelope from carol, submitted on alice's connection.
  const auto fromCarol = h_.envelope(carol_, bob_.key, "x");
  auto cmds = h_.send(alice_, fromCarol);
  ASSERT_EQ(errorsTo(cmds, alice_).size(), 1u);
  EXPECT_EQ(errorsTo(cmds, alice_)[0].code, "spoofed-sender");
  EXPECT_TRUE(framesTo(cmds, bob_.conn).empty());
  // "from" says alice but carol signed it.
  auto forged = h_.envelope(carol_, bob_.key, "x");
  forged.header.from = alice_.key.nodeId();
  cmds = h_.send(alice_, forged);
  ASSERT_EQ(errorsTo(cmds, alice_).size(), 1u);
  EXPECT_EQ(errorsTo(cmds, alice_)[0].code, "sender-mismatch");
  EXPECT_TRUE(framesTo(cmds, bob_.conn).empty());
  // A tampered body under alice's own signature.
  auto tampered = h_.envelope(alice_, bob_.key, "x");
  tampered.ciphertext[0] ^= 1;
  EXPECT_FALSE(errorsTo(h_.send(alice_, tampered), alice_).empty());
  EXPECT_EQ(h_.hub().stats().refused, 3u);
}

TEST_F(HubRoutingTest, WithoutHubVerificationTheSenderBindingStillHolds) {
  HubConfig c = makeConfig();
  c.verifySignatures = false;
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(alice_);
  h.login(bob_);
  auto badlySigned = h.envelope(alice_, bob_.key, "x");
  badlySigned.signature[5] ^= 1;
  auto cmds = h.send(alice_, badlySigned);
  ASSERT_EQ(acksTo(cmds, alice_).size(), 1u);  // forwarded; bob's verify() refuses it
  auto received = only<EnvelopeFrame>(framesTo(cmds, bob_.conn));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_FALSE(verify(received[0].envelope).ok());
  cmds = h.send(alice_, h.envelope(carol_, bob_.key, "x"));
  ASSERT_EQ(errorsTo(cmds, alice_).size(), 1u);
  EXPECT_EQ(errorsTo(cmds, alice_)[0].code, "spoofed-sender");
}

TEST_F(HubRoutingTest, EnvelopesBeforeAuthenticationAreRefused) {
  h_.connect(alice_.conn);
  auto cmds = h_.send(alice_, h_.envelope(alice_, bob_.key, "x"));
  ASSERT_EQ(errorsTo(cmds, alice_).size(), 1u);
  EXPECT_EQ(errorsTo(cmds, alice_)[0].code, "not-authenticated");
  EXPECT_EQ(h_.hub().mailbox().size(), 0u);
}

TEST_F(HubRoutingTest, SizeCapsAreNamed) {
  h_.login(alice_);
  h_.login(bob_);
  const std::string big(h_.hub().config().maxCiphertextBytes, 'x');  // + 16-byte tag: over the cap
  auto cmds = h_.send(alice_, h_.envelope(alice_, bob_.key, big));
  ASSERT_EQ(errorsTo(cmds, alice_).size(), 1u);
  EXPECT_EQ(errorsTo(cmds, alice_)[0].code, "envelope-too-large");
  EXPECT_TRUE(framesTo(cmds, bob_.conn).empty());
  const std::string frame(h_.hub().config().maxFrameBytes + 1, ' ');
  h_.hub().handleFrame(alice_.conn, frame, h_.now);
  auto errors = errorsTo(h_.drain(), alice_);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "frame-too-large");
  const std::string fits(h_.hub().config().maxCiphertextBytes - kGcmTagSize, 'x');
  EXPECT_EQ(acksTo(h_.send(alice_, h_.envelope(alice_, bob_.key, fits)), alice_).size(), 1u);
}

TEST_F(HubRoutingTest, RateLimitPerConnection) {
  HubConfig c = makeConfig();
  c.framesPerSecond = 2;
  c.frameBurst = 3;
  MemoryMailboxStore store;
  HubHarness h(c, store);
  h.login(alice_);  // the auth frame takes one token
  h.login(bob_);
  EXPECT_EQ(acksTo(h.send(alice_, h.envelope(alice_, bob_.key, "1")), alice_).size(), 1u);
  EXPECT_EQ(acksTo(h.send(alice_, h.envelope(alice_, bob_.key, "2")), alice_).size(), 1u);
  auto cmds = h.send(alice_, h.envelope(alice_, bob_.key, "3"));
  ASSERT_EQ(errorsTo(cmds, alice_).size(), 1u);
  EXPECT_EQ(errorsTo(cmds, alice_)[0].code, "rate-limited");
  EXPECT_TRUE(framesTo(cmds, bob_.conn).empty());
  // Bob's bucket is his own.
  EXPECT_EQ(acksTo(h.send(bob_, h.envelope(bob_, alice_.key, "b")), bob_).size(), 1u);
  h.advance(500ms);  // one token back
  EXPECT_EQ(acksTo(h.send(alice_, h.envelope(alice_, bob_.key, "4")), alice_).size(), 1u);
  EXPECT_EQ(errorsTo(h.send(alice_, h.envelope(alice_, bob_.key, "5")), alice_).size(), 1u);
  EXPECT_EQ(h.hub().stats().rateLimited, 2u);
}

TEST_F(HubRoutingTest, ConfirmationsNeedAuthAndOnlyTouchOwnMailbox) {
  h_.login(alice_);
  h_.send(alice_, h_.envelope(alice_, bob_.key, "for bob"));
  h_.send(alice_, h_.envelope(alice_, carol_.key, "for carol"));
  // Carol confirms alice's envelopes: only carol's own entry goes.
  h_.login(carol_);
  h_.confirm(carol_, alice_.key.nodeId(), UINT64_MAX);
  EXPECT_EQ(h_.hub().mailbox().countFor(bob_.key.nodeId()), 1u);
  EXPECT_EQ(h_.hub().mailbox().countFor(carol_.key.nodeId()), 0u);
  // A confirmation below the stored seq removes nothing.
  h_.login(bob_);
  h_.confirm(bob_, alice_.key.nodeId(), 0);
  EXPECT_EQ(h_.hub().mailbox().countFor(bob_.key.nodeId()), 1u);
  // Before authentication it is refused.
  Client eve{9, *PrivateKey::generate()};
  h_.connect(eve.conn);
  auto errors = errorsTo(h_.confirm(eve, alice_.key.nodeId(), UINT64_MAX), eve);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "not-authenticated");
  EXPECT_EQ(store_.size(), 1u);
}

TEST_F(HubRoutingTest, NextDeadlineIsTheEarliestOfChallengesAndMailbox) {
  h_.login(alice_);
  h_.send(alice_, h_.envelope(alice_, bob_.key, "x"));
  EXPECT_EQ(h_.hub().nextDeadline(), h_.now + 3600s);
  h_.hub().connected(9, h_.now);
  EXPECT_EQ(h_.hub().nextDeadline(), h_.now + 30s);
}

}  // namespace
}  // namespace rdv::signalling
