// The hub with JSON and CBOR connections mixed (issue 17, compact wire): each connection gets every
// frame in its own framing, envelopes cross between the framings unchanged (online and through the
// mailbox), and a frame in the wrong framing is refused like any malformed frame.
#include <gtest/gtest.h>

#include "signalling/envelope/envelope_v2.h"
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
  std::vector<HubCommand> login(const Client& c, Framing framing, bool presence = false) {
    h_.hub().connected(c.conn, h_.now, framing);
    auto challenge = only<ChallengeFrame>(framesIn(framing, h_.drain(), c.conn));
    EXPECT_EQ(challenge.size(), 1u);
    if (challenge.empty()) return {};
    auto sig = signChallenge(c.key, challenge[0].hub, challenge[0].nonce);
    h_.hub().handleFrame(c.conn, encodeFrameAs(framing, AuthFrame{c.key.nodeId(), *sig, presence}), h_.now);
    auto cmds = h_.drain();
    EXPECT_EQ(only<WelcomeFrame>(framesIn(framing, cmds, c.conn)).size(), 1u);
    return cmds;
  }

  std::vector<HubCommand> frame(const Client& from, Framing framing, const Frame& f) {
    h_.hub().handleFrame(from.conn, encodeFrameAs(framing, f), h_.now);
    return h_.drain();
  }
  Publication publication(Client& from, const std::string& topic, const std::string& body) {
    Publication p{from.key.nodeId(), topic, ++from.seq, 1'764'900'000'000ull, Bytes(body.begin(), body.end()), {}};
    return *signPublication(from.key, p);
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
  Client carol_{3, *PrivateKey::generate()};  // JSON
  Client dave_{4, *PrivateKey::generate()};   // CBOR
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

// Envelope v2 through the hub: the sender is recovered from the signature, the short recipient resolved,
// delivered online and through the mailbox in either framing with the same bytes.
TEST_F(HubFramingTest, EnvelopeV2IsRoutedByItsRecoveredSenderAndShortRecipient) {
  ScriptedRng rng;
  login(alice_, Framing::Json);
  login(bob_, Framing::Cbor);
  auto v2 = [&](Client& from, const Client& to, const std::string& body, bool shortTo = true) {
    return *sealV2(from.key, to.key.publicKey(), EnvelopeType::Message, ++from.seq, asBytes(body), rng, shortTo);
  };
  auto e = v2(alice_, bob_, "compact hello");
  auto cmds = send(alice_, Framing::Json, e);
  auto atBob = only<EnvelopeFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(atBob.size(), 1u);
  EXPECT_EQ(atBob[0].envelope.version, 2);
  EXPECT_EQ(encodeV2(atBob[0].envelope), encodeV2(e));  // the same bytes
  EXPECT_EQ(openBody(atBob[0].envelope, bob_.key), "compact hello");
  auto acks = only<AckFrame>(framesIn(Framing::Json, cmds, alice_.conn));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Delivered);
  EXPECT_EQ(acks[0].to, bob_.key.nodeId());  // resolved from the 8-byte prefix

  // bob leaves; the hub knows him, so the short form is stored for him and delivered at his return.
  h_.hub().disconnected(bob_.conn, h_.now);
  h_.drain();
  auto stored = v2(alice_, bob_, "while you were out");
  acks = only<AckFrame>(framesIn(Framing::Json, send(alice_, Framing::Json, stored), alice_.conn));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Stored);
  cmds = login(bob_, Framing::Cbor);
  auto mail = only<EnvelopeFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(openBody(mail[0].envelope, bob_.key), "while you were out");

  // Nobody known has carol's prefix: the short form is refused, the full form is stored.
  auto errors = only<ErrorFrame>(framesIn(Framing::Json, send(alice_, Framing::Json, v2(alice_, carol_, "?")), alice_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "unknown-recipient");
  acks = only<AckFrame>(framesIn(Framing::Json, send(alice_, Framing::Json, v2(alice_, carol_, "!", false)), alice_.conn));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].status, AckStatus::Stored);

  // An envelope signed by someone else on alice's connection: refused, whatever its framing.
  auto notAlice = v2(carol_, bob_, "spoof");
  errors = only<ErrorFrame>(framesIn(Framing::Json, send(alice_, Framing::Json, notAlice), alice_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "spoofed-sender");
  // A bit flipped in the ciphertext recovers another signer: refused too.
  auto tampered = v2(alice_, bob_, "tampered");
  tampered.ciphertext[0] ^= 1;
  errors = only<ErrorFrame>(framesIn(Framing::Json, send(alice_, Framing::Json, tampered), alice_.conn));
  ASSERT_EQ(errors.size(), 1u);
}

// Topics with JSON and CBOR subscribers mixed: every subscriber gets the same publications, in order, in
// its own framing (the hub encodes each once per framing), and late joiners get the history so too.
TEST_F(HubFramingTest, TopicDeliveryIsIdenticalToJsonAndCborSubscribers) {
  login(alice_, Framing::Json);
  login(bob_, Framing::Cbor);
  login(carol_, Framing::Json);
  for (const Client* c : {&alice_, &bob_}) {
    const Framing f = c == &bob_ ? Framing::Cbor : Framing::Json;
    auto subscribed = only<SubscribedFrame>(framesIn(f, frame(*c, f, SubscribeFrame{"room"}), c->conn));
    ASSERT_EQ(subscribed.size(), 1u);
  }
  std::vector<Publication> sent;
  for (int i = 0; i < 3; ++i) {
    // Publishers of both framings.
    Client& from = i == 1 ? bob_ : carol_;
    const Framing f = i == 1 ? Framing::Cbor : Framing::Json;
    sent.push_back(publication(from, "room", "message " + std::to_string(i)));
    auto cmds = frame(from, f, PublishFrame{sent.back()});
    auto published = only<PublishedFrame>(framesIn(f, cmds, from.conn));
    ASSERT_EQ(published.size(), 1u);
    EXPECT_EQ(published[0].subscribers, 2u);
    auto atAlice = only<PublishFrame>(framesIn(Framing::Json, cmds, alice_.conn));
    auto atBob = only<PublishFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
    ASSERT_EQ(atAlice.size(), 1u);
    ASSERT_EQ(atBob.size(), 1u);
    EXPECT_EQ(atAlice[0].publication, sent.back());
    EXPECT_EQ(atBob[0].publication, sent.back());
    EXPECT_TRUE(verifyPublication(atBob[0].publication));  // the same signed bytes
  }
  // Late joiners of both framings: the same history, oldest first.
  login(dave_, Framing::Cbor);
  auto cmds = frame(dave_, Framing::Cbor, SubscribeFrame{"room"});
  auto history = only<PublishFrame>(framesIn(Framing::Cbor, cmds, dave_.conn));
  ASSERT_EQ(history.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(history[i].publication, sent[i]);
  cmds = frame(carol_, Framing::Json, SubscribeFrame{"room"});
  auto jsonHistory = only<PublishFrame>(framesIn(Framing::Json, cmds, carol_.conn));
  ASSERT_EQ(jsonHistory.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(jsonHistory[i].publication, sent[i]);
  // Topic errors reach a CBOR connection in CBOR, naming the topic.
  cmds = frame(bob_, Framing::Cbor, PublishFrame{publication(alice_, "room", "not bob's")});
  auto errors = only<ErrorFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "spoofed-sender");
  EXPECT_EQ(errors[0].topic, "room");
}

// Compact publications (v2): the hub recovers the publisher, refuses one signed by someone else, and fans
// the same signed bytes out to JSON and CBOR subscribers.
TEST_F(HubFramingTest, CompactPublicationsReachBothFramingsWithTheirPublisherRecovered) {
  login(alice_, Framing::Json);
  login(bob_, Framing::Cbor);
  login(carol_, Framing::Cbor);
  frame(alice_, Framing::Json, SubscribeFrame{"room"});
  frame(bob_, Framing::Cbor, SubscribeFrame{"room"});
  Publication base{{}, "room", 77, 0, Bytes{'h', 'i'}, {}};
  auto p = *signPublicationV2(carol_.key, base);
  auto cmds = frame(carol_, Framing::Cbor, PublishFrame{p});
  auto atAlice = only<PublishFrame>(framesIn(Framing::Json, cmds, alice_.conn));
  auto atBob = only<PublishFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(atAlice.size(), 1u);
  ASSERT_EQ(atBob.size(), 1u);
  for (auto got : {atAlice[0].publication, atBob[0].publication}) {
    EXPECT_EQ(got.version, 2);
    ASSERT_TRUE(completePublicationV2(got));
    EXPECT_EQ(got.from, carol_.key.nodeId());
  }
  // Signed by alice, sent on carol's connection: spoofed.
  auto notCarol = *signPublicationV2(alice_.key, base);
  auto errors = only<ErrorFrame>(framesIn(Framing::Cbor, frame(carol_, Framing::Cbor, PublishFrame{notCarol}), carol_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "spoofed-sender");
}

// Presence on CBOR connections: the opt-in travels in the CBOR auth frame, and watchers of both framings
// get the same node-signed events.
TEST_F(HubFramingTest, PresenceEventsReachCborWatchersAndTheOptInTravelsInCbor) {
  h_.hub().setPresenceSigner([this](const identity::Hash256& d) -> std::optional<identity::RecoverableSignature> {
    auto sig = hubKey_.signRecoverable(d);
    if (!sig) return std::nullopt;
    return *sig;
  });
  login(alice_, Framing::Json);
  login(bob_, Framing::Cbor);
  auto cmds = frame(bob_, Framing::Cbor, WatchFrame{{dave_.key.nodeId()}});
  auto initial = only<PresenceFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(initial.size(), 1u);
  EXPECT_EQ(initial[0].event.event, PresenceState::Offline);
  frame(alice_, Framing::Json, WatchFrame{{dave_.key.nodeId()}});

  cmds = login(dave_, Framing::Cbor, /*presence=*/true);  // opts in with the CBOR auth frame
  auto atBob = only<PresenceFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  auto atAlice = only<PresenceFrame>(framesIn(Framing::Json, cmds, alice_.conn));
  ASSERT_EQ(atBob.size(), 1u);
  ASSERT_EQ(atAlice.size(), 1u);
  EXPECT_EQ(atBob[0].event.event, PresenceState::Online);
  EXPECT_EQ(atBob[0], atAlice[0]);  // one signature, both framings
  EXPECT_TRUE(verifyPresence(hubKey_.nodeId(), atBob[0].event));

  h_.now += std::chrono::seconds(5);
  h_.hub().disconnected(dave_.conn, h_.now);
  cmds = h_.drain();
  auto off = only<PresenceFrame>(framesIn(Framing::Cbor, cmds, bob_.conn));
  ASSERT_EQ(off.size(), 1u);
  EXPECT_EQ(off[0].event.event, PresenceState::Offline);
  EXPECT_GT(off[0].event.lastSeenMs, 0u);
  EXPECT_TRUE(verifyPresence(hubKey_.nodeId(), off[0].event));
  frame(bob_, Framing::Cbor, UnwatchFrame{{dave_.key.nodeId()}});
  EXPECT_EQ(h_.hub().presence().watches(), 1u);  // alice's
}

}  // namespace
}  // namespace rdv::signalling
