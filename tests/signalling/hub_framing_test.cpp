// The hub with JSON and CBOR connections mixed (issue 17, compact wire): each connection gets every
// frame in its own framing, envelopes cross between the framings unchanged (online and through the
// mailbox), and a frame in the wrong framing is refused like any malformed frame.
#include <gtest/gtest.h>

#include "signalling/hub/frames_cbor.h"
#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

// The frames sent to `conn`, decoded in the framing the test expects it to have; every one must decode.
std::vector<Frame> framesIn(Framing framing, const std::vector<HubCommand>& cmds, ConnId conn) {
  std::vector<Frame> out;
  for (const auto& c : cmds) {
    if (const auto* s = std::get_if<SendFrame>(&c); s && s->conn == conn) {
      auto f = decodeFrameAs(framing, s->text);
      EXPECT_TRUE(f.ok()) << "a frame to connection " << conn << " is not in its framing";
      if (f) out.push_back(*f);
    }
  }
  return out;
}

class HubFramingTest : public ::testing::Test {
 protected:
  HubFramingTest() : h_(makeConfig(), store_) {}
  HubConfig makeConfig() {
    HubConfig c;
    c.hubId = hubKey_.nodeId();
    c.framesPerSecond = 1000;
    c.frameBurst = 1000;
    return c;
  }

  // Connects `c` with `framing` and authenticates it with frames in that framing.
  std::vector<HubCommand> login(const Client& c, Framing framing) {
    h_.hub().connected(c.conn, h_.now, framing);
    auto challenge = only<ChallengeFrame>(framesIn(framing, h_.drain(), c.conn));
    EXPECT_EQ(challenge.size(), 1u);
    if (challenge.empty()) return {};
    auto sig = signChallenge(c.key, challenge[0].hub, challenge[0].nonce);
    h_.hub().handleFrame(c.conn, encodeFrameAs(framing, AuthFrame{c.key.nodeId(), *sig}), h_.now);
    auto cmds = h_.drain();
    EXPECT_EQ(only<WelcomeFrame>(framesIn(framing, cmds, c.conn)).size(), 1u);
    return cmds;
  }

  std::vector<HubCommand> send(const Client& from, Framing framing, const Envelope& e) {
    h_.hub().handleFrame(from.conn, encodeFrameAs(framing, EnvelopeFrame{e}), h_.now);
    return h_.drain();
  }

  PrivateKey hubKey_ = *PrivateKey::generate();
  MemoryMailboxStore store_;
  HubHarness h_;
  Client alice_{1, *PrivateKey::generate()};  // JSON
  Client bob_{2, *PrivateKey::generate()};    // CBOR
};

TEST_F(HubFramingTest, OnlineEnvelopesCrossBetweenFramings) {
  login(alice_, Framing::Json);
  login(bob_, Framing::Cbor);

  auto toBob = h_.envelope(alice_, bob_.key, "hello bob");
  auto cmds = send(alice_, Framing::Json, toBob);
  auto atBob = only<EnvelopeFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(atBob.size(), 1u);
  EXPECT_EQ(atBob[0].envelope, toBob);
  EXPECT_EQ(openBody(atBob[0].envelope, bob_.key), "hello bob");
  auto acks = only<AckFrame>(framesIn(Framing::Json, cmds, alice_.conn));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Delivered);

  auto toAlice = h_.envelope(bob_, alice_.key, "hello alice");
  cmds = send(bob_, Framing::Cbor, toAlice);
  auto atAlice = only<EnvelopeFrame>(framesIn(Framing::Json, cmds, alice_.conn));
  ASSERT_EQ(atAlice.size(), 1u);
  EXPECT_EQ(openBody(atAlice[0].envelope, alice_.key), "hello alice");
  auto bobAcks = only<AckFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(bobAcks.size(), 1u);
  EXPECT_EQ(bobAcks[0].status, AckStatus::Delivered);
}

TEST_F(HubFramingTest, StoredEnvelopesAreDeliveredInTheRecipientsFraming) {
  login(alice_, Framing::Json);
  auto e1 = h_.envelope(alice_, bob_.key, "one");
  auto e2 = h_.envelope(alice_, bob_.key, "two");
  for (const auto& e : {e1, e2}) {
    auto acks = only<AckFrame>(framesIn(Framing::Json, send(alice_, Framing::Json, e), alice_.conn));
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0].status, AckStatus::Stored);
  }
  auto cmds = login(bob_, Framing::Cbor);
  auto welcome = only<WelcomeFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(welcome.size(), 1u);
  EXPECT_EQ(welcome[0].stored, 2u);
  auto stored = only<EnvelopeFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(openBody(stored[0].envelope, bob_.key), "one");
  EXPECT_EQ(openBody(stored[1].envelope, bob_.key), "two");
  // The CBOR "received" confirmation empties the mailbox.
  h_.hub().handleFrame(bob_.conn, encodeFrameCbor(ReceivedFrame{alice_.key.nodeId(), e2.header.seq}), h_.now);
  h_.drain();
  EXPECT_EQ(h_.hub().mailbox().size(), 0u);
}

TEST_F(HubFramingTest, AFrameInTheOtherFramingIsABadFrame) {
  login(bob_, Framing::Cbor);
  auto e = h_.envelope(bob_, alice_.key, "json on a cbor connection");
  auto cmds = send(bob_, Framing::Json, e);  // JSON text on a CBOR connection
  auto errors = only<ErrorFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "bad-frame");
  EXPECT_EQ(h_.hub().mailbox().size(), 0u);
}

TEST_F(HubFramingTest, ABadSignatureIsRefusedWhateverTheFraming) {
  login(alice_, Framing::Json);
  login(bob_, Framing::Cbor);
  auto e = h_.envelope(bob_, alice_.key, "tampered");
  e.ciphertext[0] ^= 1;
  auto cmds = send(bob_, Framing::Cbor, e);
  auto errors = only<ErrorFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].seq, e.header.seq);
  EXPECT_TRUE(only<EnvelopeFrame>(framesIn(Framing::Json, cmds, alice_.conn)).empty());
}

}  // namespace
}  // namespace rdv::signalling
