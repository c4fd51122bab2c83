// Hub authentication and connection lifecycle with a fake clock.
#include <gtest/gtest.h>

#include <set>

#include "tests/signalling/hub_harness.h"

namespace rdv::signalling {
namespace {

using identity::PrivateKey;
using namespace test;

class HubAuthTest : public ::testing::Test {
 protected:
  HubAuthTest() : h_(makeConfig(), store_) {}
  HubConfig makeConfig() {
    HubConfig c;
    c.hubId = hubKey_.nodeId();
    return c;
  }

  PrivateKey hubKey_ = *PrivateKey::generate();
  MemoryMailboxStore store_;
  HubHarness h_;
  Client alice_{1, *PrivateKey::generate()};
};

TEST_F(HubAuthTest, GoodSignatureBindsTheConnection) {
  const auto challenge = h_.connect(alice_.conn);
  EXPECT_EQ(challenge.hub, hubKey_.nodeId());
  EXPECT_EQ(challenge.expiresInMs, 30'000u);
  h_.hub().handleFrame(alice_.conn, HubHarness::authText(alice_.key, challenge.hub, challenge.nonce), h_.now);
  auto cmds = h_.drain();
  auto welcome = only<WelcomeFrame>(framesTo(cmds, alice_.conn));
  ASSERT_EQ(welcome.size(), 1u);
  EXPECT_EQ(welcome[0].node, alice_.key.nodeId());
  EXPECT_EQ(welcome[0].stored, 0u);
  EXPECT_TRUE(closes(cmds).empty());
  EXPECT_EQ(h_.hub().identityOf(alice_.conn), alice_.key.nodeId());
  EXPECT_EQ(h_.hub().connectionOf(alice_.key.nodeId()), alice_.conn);
  EXPECT_EQ(h_.hub().stats().authSucceeded, 1u);
  EXPECT_FALSE(h_.hub().nextDeadline().has_value());  // the challenge was consumed
}

TEST_F(HubAuthTest, ChallengesAreFreshPerConnection) {
  std::set<ChallengeNonce> seen;
  for (ConnId conn = 1; conn <= 1000; ++conn) EXPECT_TRUE(seen.insert(h_.connect(conn).nonce).second) << conn;
}

void expectRefused(const std::vector<HubCommand>& cmds, ConnId conn, const std::string& code, CloseReason reason) {
  auto errors = only<ErrorFrame>(framesTo(cmds, conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, code);
  auto closed = closes(cmds);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].conn, conn);
  EXPECT_EQ(closed[0].reason, reason);
}

TEST_F(HubAuthTest, BadSignatureIsRefusedAndClosed) {
  const auto challenge = h_.connect(alice_.conn);
  const auto mallory = *PrivateKey::generate();
  // Mallory signs but claims alice's node id.
  AuthFrame forged{alice_.key.nodeId(), *signChallenge(mallory, challenge.hub, challenge.nonce)};
  h_.hub().handleFrame(alice_.conn, encodeFrame(forged), h_.now);
  expectRefused(h_.drain(), alice_.conn, "auth-failed", CloseReason::AuthFailed);
  EXPECT_FALSE(h_.hub().connectionOf(alice_.key.nodeId()).has_value());
  EXPECT_EQ(h_.hub().connections(), 0u);
  // Frames after the close are ignored.
  h_.hub().handleFrame(alice_.conn, HubHarness::authText(alice_.key, challenge.hub, challenge.nonce), h_.now);
  EXPECT_TRUE(h_.drain().empty());
}

TEST_F(HubAuthTest, WrongHubIdIsRefused) {
  const auto challenge = h_.connect(alice_.conn);
  const auto otherHub = PrivateKey::generate()->nodeId();
  h_.hub().handleFrame(alice_.conn, HubHarness::authText(alice_.key, otherHub, challenge.nonce), h_.now);
  expectRefused(h_.drain(), alice_.conn, "auth-failed", CloseReason::AuthFailed);
}

TEST_F(HubAuthTest, ExpiredChallengeIsRefused) {
  const auto challenge = h_.connect(alice_.conn);
  h_.advance(30s);
  h_.hub().handleFrame(alice_.conn, HubHarness::authText(alice_.key, challenge.hub, challenge.nonce), h_.now);
  expectRefused(h_.drain(), alice_.conn, "challenge-expired", CloseReason::AuthTimeout);
}

TEST_F(HubAuthTest, UnansweredChallengeTimesOutAtTheDeadline) {
  h_.connect(alice_.conn);
  ASSERT_EQ(h_.hub().nextDeadline(), h_.now + 30s);
  h_.advance(29'999ms);
  h_.hub().handleTimeout(h_.now);
  EXPECT_TRUE(h_.drain().empty());
  h_.advance(1ms);
  h_.hub().handleTimeout(h_.now);
  expectRefused(h_.drain(), alice_.conn, "challenge-expired", CloseReason::AuthTimeout);
  EXPECT_FALSE(h_.hub().nextDeadline().has_value());
}

TEST_F(HubAuthTest, ChallengeIsSingleUse) {
  const auto challenge = h_.connect(alice_.conn);
  const auto answer = HubHarness::authText(alice_.key, challenge.hub, challenge.nonce);
  h_.hub().handleFrame(alice_.conn, answer, h_.now);
  h_.drain();
  // Again on the same connection: already bound.
  h_.hub().handleFrame(alice_.conn, answer, h_.now);
  auto errors = only<ErrorFrame>(framesTo(h_.drain(), alice_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "already-authenticated");
  // Replayed on another connection (a captured answer): that connection has another nonce.
  h_.connect(7);
  h_.hub().handleFrame(7, answer, h_.now);
  expectRefused(h_.drain(), 7, "auth-failed", CloseReason::AuthFailed);
  EXPECT_EQ(h_.hub().connectionOf(alice_.key.nodeId()), alice_.conn);
}

TEST_F(HubAuthTest, AFreshChallengeReplacesTheOldOne) {
  const auto first = h_.connect(alice_.conn);
  const auto second = h_.hub().challenge(alice_.conn, h_.now);
  h_.drain();
  h_.hub().handleFrame(alice_.conn, HubHarness::authText(alice_.key, first.hub, first.nonce), h_.now);
  expectRefused(h_.drain(), alice_.conn, "auth-failed", CloseReason::AuthFailed);
  EXPECT_NE(second, first.nonce);
}

TEST_F(HubAuthTest, NewerConnectionReplacesTheOlder) {
  Client bobOld{2, *PrivateKey::generate()};
  Client bobNew{3, bobOld.key};
  h_.login(alice_);
  h_.login(bobOld);
  auto cmds = h_.login(bobNew);
  auto closed = closes(cmds);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].conn, bobOld.conn);
  EXPECT_EQ(closed[0].reason, CloseReason::Replaced);
  EXPECT_EQ(closeCode(CloseReason::Replaced), 4000);
  EXPECT_STREQ(closeReasonName(CloseReason::Replaced), "replaced");
  EXPECT_EQ(h_.hub().connectionOf(bobOld.key.nodeId()), bobNew.conn);
  EXPECT_EQ(h_.hub().stats().replaced, 1u);
  // The daemon reports the old socket closed: the new binding stays.
  h_.hub().disconnected(bobOld.conn);
  EXPECT_EQ(h_.hub().connectionOf(bobOld.key.nodeId()), bobNew.conn);
  // Envelopes go to the new connection only.
  auto sent = h_.send(alice_, h_.envelope(alice_, bobNew.key, "hi"));
  EXPECT_EQ(only<EnvelopeFrame>(framesTo(sent, bobNew.conn)).size(), 1u);
  EXPECT_TRUE(framesTo(sent, bobOld.conn).empty());
}

TEST_F(HubAuthTest, DisconnectUnbinds) {
  h_.login(alice_);
  h_.hub().disconnected(alice_.conn);
  EXPECT_FALSE(h_.hub().connectionOf(alice_.key.nodeId()).has_value());
  EXPECT_EQ(h_.hub().connections(), 0u);
  h_.hub().disconnected(alice_.conn);  // twice: ignored
}

TEST_F(HubAuthTest, BadFramesGetNamedErrors) {
  h_.connect(alice_.conn);
  auto codeFor = [&](std::string_view text) {
    h_.hub().handleFrame(alice_.conn, text, h_.now);
    auto errors = only<ErrorFrame>(framesTo(h_.drain(), alice_.conn));
    return errors.size() == 1 ? errors[0].code : std::string("<none>");
  };
  EXPECT_EQ(codeFor("{not json"), "bad-frame");
  EXPECT_EQ(codeFor(R"({"type":"dance"})"), "unknown-frame-type");
  EXPECT_EQ(codeFor(R"({"type":"auth","node":"00"})"), "bad-frame");
  EXPECT_EQ(codeFor(R"({"type":"envelope","envelope":{"v":2}})"), "unsupported-version");
  EXPECT_EQ(codeFor(R"({"type":"ack","to":"00","seq":1,"status":"stored"})"), "bad-frame");
  EXPECT_EQ(codeFor(encodeFrame(WelcomeFrame{alice_.key.nodeId(), 0})), "unexpected-frame");
  EXPECT_EQ(h_.hub().connections(), 1u);  // bad frames do not close the connection
}

// path-report (issue 7): after auth it becomes one PathReported command and no frame; before auth,
// or malformed, an error frame names why and nothing is counted.
TEST_F(HubAuthTest, PathReportIsCountedAfterAuthOnly) {
  h_.connect(alice_.conn);
  const std::string report = R"({"type":"path-report","path":"relayed","local":"relay","remote":"srflx"})";
  h_.hub().handleFrame(alice_.conn, report, h_.now);
  auto early = h_.drain();
  auto errors = only<ErrorFrame>(framesTo(early, alice_.conn));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "not-authenticated");
  h_.hub().disconnected(alice_.conn);

  h_.login(alice_);
  h_.hub().handleFrame(alice_.conn, report, h_.now);
  auto cmds = h_.drain();
  ASSERT_EQ(cmds.size(), 1u);
  const auto* reported = std::get_if<PathReported>(&cmds[0]);
  ASSERT_NE(reported, nullptr);
  EXPECT_EQ(reported->node, alice_.key.nodeId());
  EXPECT_EQ(reported->report, (PathReportFrame{"relayed", "relay", "srflx"}));
  EXPECT_EQ(h_.hub().stats().pathReports, 1u);

  for (const char* bad : {R"({"type":"path-report","path":"tunnel","local":"host","remote":"host"})",
                          R"({"type":"path-report","path":"direct","local":"lan","remote":"host"})",
                          R"({"type":"path-report","path":"direct","local":"host"})",
                          R"({"type":"path-report","path":1,"local":"host","remote":"host"})"}) {
    h_.hub().handleFrame(alice_.conn, bad, h_.now);
    auto out = h_.drain();
    auto errs = only<ErrorFrame>(framesTo(out, alice_.conn));
    ASSERT_EQ(errs.size(), 1u) << bad;
    EXPECT_EQ(errs[0].code, "bad-frame") << bad;
  }
  EXPECT_EQ(h_.hub().stats().pathReports, 1u);
  EXPECT_EQ(encodeFrame(PathReportFrame{"direct", "host", "prflx"}),
            R"({"local":"host","path":"direct","remote":"prflx","type":"path-report"})");
}

// The worked example of docs/signalling.md ("Authentication").
TEST(HubAuthVector, DigestSignatureAndFrames) {
  const auto hub = keyFromHex(kEphemeralSecret);
  const auto client = keyFromHex(kSenderSecret);
  ChallengeNonce nonce;
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(hub.nodeId().hex(), "776aa29402e64b15661e0b8e6370ef2f4db3611d657b90667de398a2cc2a370c");
  EXPECT_EQ(toHex(authDigest(hub.nodeId(), nonce, client.nodeId())),
            "f3dd59f38417d7b3860873687ab297cd01709dd95c48ec0d1ba1a71180c43ccc");
  EXPECT_EQ(encodeFrame(ChallengeFrame{hub.nodeId(), nonce, 30000}),
            R"({"expiresInMs":30000,"hub":"776aa29402e64b15661e0b8e6370ef2f4db3611d657b90667de398a2cc2a370c",)"
            R"("nonce":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","type":"challenge","v":1})");
  const auto sig = *signChallenge(client, hub.nodeId(), nonce);
  EXPECT_EQ(toHex(sig),
            "5a97edf4a2a23bf8d4047fa3a53ad802b39f3452ad0d61c4aca5186f274f676e76a5e95740e969310f81d865f8ae77cb5594"
            "87c6c86c10faad4ab26c1174391901");
  EXPECT_TRUE(checkChallengeResponse(hub.nodeId(), nonce, client.nodeId(), sig));
  EXPECT_FALSE(checkChallengeResponse(client.nodeId(), nonce, client.nodeId(), sig));
}

TEST_F(HubAuthTest, GarbageFramesNeverCrashOrBind) {
  CryptoRng rng;
  const auto challenge = h_.connect(alice_.conn);
  const std::string good = HubHarness::authText(alice_.key, challenge.hub, challenge.nonce);
  for (int i = 0; i < 500; ++i) {
    h_.hub().connected(100 + i, h_.now);
    uint8_t r[3];
    ASSERT_TRUE(rng.fill(r));
    std::string text = good;
    text[(r[0] | (r[1] << 8)) % text.size()] = static_cast<char>(r[2] | 1);
    if (text == good) continue;
    h_.hub().handleFrame(100 + i, text, h_.now);
  }
  h_.drain();
  EXPECT_FALSE(h_.hub().connectionOf(alice_.key.nodeId()).has_value());
}

TEST_F(HubAuthTest, ConfigValidation) {
  EXPECT_FALSE(validateConfig(makeConfig()).has_value());
  EXPECT_TRUE(validateConfig(HubConfig{}).has_value());  // no hub id
  auto bad = [&](auto mutate) {
    HubConfig c = makeConfig();
    mutate(c);
    return validateConfig(c).has_value();
  };
  EXPECT_TRUE(bad([](HubConfig& c) { c.challengeTtl = 0ms; }));
  EXPECT_TRUE(bad([](HubConfig& c) { c.mailboxTtl = 0s; }));
  EXPECT_TRUE(bad([](HubConfig& c) { c.mailbox.perRecipient = 0; }));
  EXPECT_TRUE(bad([](HubConfig& c) { c.maxCiphertextBytes = kMaxCiphertextSize + 1; }));
  EXPECT_TRUE(bad([](HubConfig& c) { c.maxFrameBytes = 10; }));
  EXPECT_TRUE(bad([](HubConfig& c) { c.framesPerSecond = 0; }));
  EXPECT_TRUE(bad([](HubConfig& c) { c.frameBurst = 0.5; }));
  // The frame limit must carry the largest envelope the envelope limit allows; the error names the field.
  HubConfig small = makeConfig();
  small.maxCiphertextBytes = 8192;
  small.maxFrameBytes = 4096;
  auto problem = validateConfig(small);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->field, HubConfigField::MaxFrameBytes);
  small.maxFrameBytes = maxEnvelopeFrameBytes(8192);
  EXPECT_FALSE(validateConfig(small).has_value());
  HubConfig tinyMailbox = makeConfig();
  tinyMailbox.mailbox.totalBytes = 100;
  ASSERT_TRUE(validateConfig(tinyMailbox).has_value());
  EXPECT_EQ(validateConfig(tinyMailbox)->field, HubConfigField::MailboxBytes);
}

TEST_F(HubAuthTest, FramesRoundTrip) {
  ErrorFrame withAbout{"mailbox-full", "full", alice_.key.nodeId(), 42};
  const std::vector<Frame> frames = {
      ChallengeFrame{hubKey_.nodeId(), ChallengeNonce{1, 2, 3}, 30000},
      AuthFrame{alice_.key.nodeId(), *signChallenge(alice_.key, hubKey_.nodeId(), ChallengeNonce{})},
      WelcomeFrame{alice_.key.nodeId(), 3},
      EnvelopeFrame{h_.envelope(alice_, hubKey_, "x")},
      AckFrame{alice_.key.nodeId(), 7, AckStatus::Stored},
      AckFrame{alice_.key.nodeId(), 8, AckStatus::Delivered},
      ErrorFrame{"rate-limited", "slow down", std::nullopt, std::nullopt},
      withAbout,
      ReceivedFrame{alice_.key.nodeId(), UINT64_MAX},
  };
  for (const auto& f : frames) {
    auto text = encodeFrame(f);
    auto back = decodeFrame(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, f) << text;
  }
}

// The verifier pool's path (frame_check.h): a frame checked elsewhere against the pending challenge
// binds like handleFrame; one checked against a nonce that is no longer pending fails, whatever its
// signature; and a verdict of "invalid" is taken without a second recovery.
TEST_F(HubAuthTest, FramesCheckedOffTheHubKeepTheirVerdicts) {
  const auto challenge = h_.connect(alice_.conn);
  const auto text = HubHarness::authText(alice_.key, challenge.hub, challenge.nonce);
  auto context = h_.hub().checkContext(alice_.conn);
  ASSERT_TRUE(context.pendingChallenge.has_value());
  EXPECT_EQ(*context.pendingChallenge, challenge.nonce);
  auto checked = checkFrame(text, context);
  EXPECT_TRUE(checked.authValid);
  h_.hub().handleChecked(alice_.conn, std::move(checked), h_.now);
  EXPECT_EQ(only<WelcomeFrame>(framesTo(h_.drain(), alice_.conn)).size(), 1u);

  Client bob{2, *PrivateKey::generate()};
  const auto first = h_.connect(bob.conn);
  auto stale = checkFrame(HubHarness::authText(bob.key, first.hub, first.nonce), h_.hub().checkContext(bob.conn));
  stale.nonce->at(0) ^= 1;  // checked against another challenge than the one pending now
  h_.hub().handleChecked(bob.conn, std::move(stale), h_.now);
  expectRefused(h_.drain(), bob.conn, "auth-failed", CloseReason::AuthFailed);

  Client carol{3, *PrivateKey::generate()};
  const auto third = h_.connect(carol.conn);
  auto forged = checkFrame(HubHarness::authText(carol.key, third.hub, third.nonce), h_.hub().checkContext(carol.conn));
  forged.authValid = false;  // the pool said no: the hub does not check again
  h_.hub().handleChecked(carol.conn, std::move(forged), h_.now);
  expectRefused(h_.drain(), carol.conn, "auth-failed", CloseReason::AuthFailed);
}

}  // namespace
}  // namespace rdv::signalling
