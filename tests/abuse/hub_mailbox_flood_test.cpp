// Attacks on the signalling hub of a real rendezvousd (issue 12, item 3), each from its own 127.x
// source addresses, bounded in count and time. After each, an honest client on 127.0.0.1 must still
// register and discover, and signal online and offline; the daemon's RSS must stay within the bound
// stated in each test.
#include <gtest/gtest.h>

#include <map>

#include "tests/abuse/honest_client.h"
#include "tests/abuse/hub_ws_client.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using abuse::WsClient;

using abuse::expectHonestClientServed;
using abuse::lastLine;

// 23 keys on 127.0.0.3-25 fill a 1 MiB store with 4 KiB envelopes to random ids, and one more
// (127.0.0.2) sends 100 small envelopes to one victim. The per-sender caps keep each key to 64 KiB and 64
// envelopes per recipient; the full store evicts the heaviest sender, so the honest envelope is
// stored. Bound: RSS grows by less than 64 MiB.
TEST(HubAbuse, MailboxFloodFromManyKeysLeavesRoomForHonestSenders) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--signal-max-envelope-bytes", "4096", "--signal-max-frame-bytes", "8192",
             "--signal-mailbox-bytes", "1048576", "--signal-mailbox-per-sender-bytes", "65536", "--signal-rate", "2000",
             "--signal-burst", "2000"});
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  signalling::CryptoRng rng;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  std::map<std::string, int> outcomes;
  Peer victim = makePeer(dir, "victim");
  auto victimKey = identity::PrivateKey::load(victim.key).value();
  const std::string body(4000, 'f');
  for (int k = 0; k < 24 && std::chrono::steady_clock::now() < deadline; ++k) {
    WsClient ws;
    ASSERT_TRUE(ws.open("127.0.0." + std::to_string(2 + k), node.http())) << k;
    const auto key = identity::PrivateKey::generate().value();
    ASSERT_TRUE(ws.authenticate(key, deadline)) << k;
    const int count = k == 0 ? 100 : 20;
    for (int i = 1; i <= count; ++i) {
      const auto to = k == 0 ? victimKey.publicKey() : identity::PrivateKey::generate().value().publicKey();
      ASSERT_TRUE(ws.sendText(abuse::envelopeText(key, to, static_cast<uint64_t>(i), k == 0 ? "x" : body, rng)));
      ++outcomes[abuse::outcomeOf(ws, static_cast<uint64_t>(i), deadline)];
    }
  }
  for (const auto& [what, n] : outcomes) std::cout << "[ measured ] flood outcome " << what << ": " << n << "\n";
  EXPECT_EQ(outcomes.count("no-answer"), 0u) << "every envelope is acknowledged or refused";
  EXPECT_GT(outcomes["sender-recipient-mailbox-full"], 0);  // the victim's mailbox flood stopped at 64
  EXPECT_GT(outcomes["sender-mailbox-bytes-full"], 0);      // each key stopped at its 64 KiB
  // The victim's mailbox still takes an honest sender's envelope.
  Peer friendOfVictim = makePeer(dir, "friend");
  auto toVictim = run({binary("rdv"), "send", "--node", "http://" + node.http(), "--key", friendOfVictim.key, "--to",
                       victim.enr, "for the victim"}, 20s);
  ASSERT_EQ(toVictim.exitCode, 0) << toVictim.err;
  EXPECT_NE(lastLine(toVictim.out).find("\"stored\""), std::string::npos) << toVictim.out;
  expectHonestClientServed(node, dir, "flood");
  const long rssAfter = node.process().rssKiB();
  std::cout << "[ measured ] RSS " << rssBefore << " KiB -> " << rssAfter << " KiB\n";
  EXPECT_LT(rssAfter - rssBefore, 64 * 1024);
}

// A WebSocket on 127.0.0.40 sends junk frames before authenticating: it gets 8 error frames and then
// the node closes it (the hub's close reason is 4003 protocol-errors). Bound: RSS grows by less than 16 MiB.
TEST(HubAbuse, JunkBeforeAuthenticationIsCutOff) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  WsClient ws;
  ASSERT_TRUE(ws.open("127.0.0.40", node.http()));
  int errors = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  ASSERT_TRUE(ws.receive(deadline));  // the challenge
  // One junk frame at a time, reading each answer (the node reads everything sent before it closes,
  // so the close frame is not lost to a reset).
  // After the 8th error (docs/signalling.md) the close follows: stop sending then, so that the close
  // frame is not lost to a reset caused by data arriving at a closed socket.
  for (int i = 0; i < 50 && ws.isOpen() && errors < 8; ++i) {
    if (!ws.sendText("junk " + std::to_string(i))) break;
    auto text = ws.receive(deadline);
    if (!text) break;  // closed (closeCode() says how) or no answer
    auto f = signalling::decodeFrame(*text);
    if (f && std::get_if<signalling::ErrorFrame>(&*f)) ++errors;
  }
  while (ws.isOpen() && ws.receive(deadline)) {
  }
  EXPECT_EQ(errors, 8);
  // The node closed the connection with the hub's close code, 4003 protocol-errors, in a close frame.
  EXPECT_TRUE(ws.closedByPeer());
  EXPECT_EQ(ws.closeCode(), 4003);
  expectHonestClientServed(node, dir, "junk");
  EXPECT_LT(node.process().rssKiB() - rssBefore, 16 * 1024);
}

// A recipient on 127.0.0.50 authenticates and never reads; a sender on 127.0.0.51 sends it 60 KiB
// envelopes. Once the recipient's queue is full the acks say "stored" (or the mailbox cap's code),
// never "delivered" for an envelope that was dropped: every stored one arrives when the recipient
// connects again and reads. Bound: RSS grows by less than 64 MiB.
TEST(HubAbuse, ARecipientThatNeverReadsGetsItsEnvelopesStored) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--signal-rate", "2000", "--signal-burst", "2000"});
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  signalling::CryptoRng rng;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  const auto sinkKey = identity::PrivateKey::generate().value();
  const auto senderKey = identity::PrivateKey::generate().value();
  WsClient sink;
  ASSERT_TRUE(sink.open("127.0.0.50", node.http(), "/v1/signal", 4096));
  ASSERT_TRUE(sink.authenticate(sinkKey, deadline));
  WsClient sender;
  ASSERT_TRUE(sender.open("127.0.0.51", node.http()));
  ASSERT_TRUE(sender.authenticate(senderKey, deadline));
  const std::string body(60 * 1024, 's');
  std::map<std::string, int> outcomes;
  for (uint64_t seq = 1; seq <= 400 && outcomes["stored"] < 10 && std::chrono::steady_clock::now() < deadline; ++seq) {
    ASSERT_TRUE(sender.sendText(abuse::envelopeText(senderKey, sinkKey.publicKey(), seq, body, rng)));
    ++outcomes[abuse::outcomeOf(sender, seq, deadline)];
  }
  for (const auto& [what, n] : outcomes) std::cout << "[ measured ] non-reader outcome " << what << ": " << n << "\n";
  EXPECT_EQ(outcomes.count("no-answer"), 0u);
  EXPECT_GE(outcomes["stored"], 10) << "back-pressure: the hub stores once the recipient's queue is full";
  EXPECT_LT(node.process().rssKiB() - rssBefore, 64 * 1024);
  sink.close();
  // The recipient comes back and reads: the welcome announces every stored envelope.
  WsClient again;
  ASSERT_TRUE(again.open("127.0.0.50", node.http()));
  uint64_t announced = 0;
  while (auto text = again.receive(deadline)) {
    auto f = signalling::decodeFrame(*text);
    if (!f) continue;
    if (auto* c = std::get_if<signalling::ChallengeFrame>(&*f)) {
      ASSERT_TRUE(again.sendText(signalling::encodeFrame(
          signalling::AuthFrame{sinkKey.nodeId(), *signalling::signChallenge(sinkKey, c->hub, c->nonce)})));
    } else if (auto* w = std::get_if<signalling::WelcomeFrame>(&*f)) {
      announced = w->stored;
      break;
    }
  }
  EXPECT_EQ(announced, static_cast<uint64_t>(outcomes["stored"]));
  expectHonestClientServed(node, dir, "nonreader");
}

}  // namespace
}  // namespace rdv::test
