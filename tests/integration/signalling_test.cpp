// The signalling base layer end to end: two rdv clients through the real rendezvousd hub, online and
// offline, and nothing acknowledged is lost when the daemon is killed with SIGKILL in between.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/integration/rdv_peer.h"
#include "tests/integration/hub_peer.h"

namespace rdv::test {
namespace {

nlohmann::json lastJsonLine(const std::string& out) {
  auto end = out.find_last_not_of('\n');
  if (end == std::string::npos) return nullptr;
  auto start = out.rfind('\n', end);
  return nlohmann::json::parse(out.substr(start == std::string::npos ? 0 : start + 1, end + 1), nullptr, false);
}

CommandResult send(const Node& node, const Peer& from, const Peer& to, const std::string& text) {
  return run({binary("rdv"), "send", "--node", "http://" + node.http(), "--key", from.key, "--to", to.enr, text});
}

TEST(Signalling, OnlineDeliveryIsAcknowledgedDelivered) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  Process inbox({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", bob.key, "--count", "1", "--timeout", "20"},
                dir.file("inbox.log"));
  ASSERT_TRUE(waitUntil([&] { return inbox.log().find("listening as") != std::string::npos; }, 10s)) << inbox.log();

  auto sent = send(node, alice, bob, "hello bob");
  ASSERT_EQ(sent.exitCode, 0) << sent.err;
  EXPECT_EQ(lastJsonLine(sent.out)["status"], "delivered") << sent.out;
  ASSERT_TRUE(waitUntil([&] { return !inbox.running(); }, 20s));
  const std::string out = inbox.log();
  EXPECT_NE(out.find("\"body\":\"hello bob\""), std::string::npos) << out;
}

// The same stored envelope delivered twice (a test peer submits the identical sealed envelope twice while
// bob is offline, so the mailbox holds and delivers it twice) is printed once by rdv inbox: its replay guard
// drops the repeat, and the next fresh envelope is what counts as the second message.
TEST(Signalling, InboxPrintsAnEnvelopeDeliveredTwiceOnce) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  auto aliceKey = identity::PrivateKey::load(alice.key);
  auto bobKey = identity::PrivateKey::load(bob.key);
  ASSERT_TRUE(aliceKey && bobKey);
  HubPeer sender(node.http(), std::move(*aliceKey));
  ASSERT_TRUE(sender.ok()) << sender.error();
  auto once = sender.seal(bobKey->publicKey(), signalling::EnvelopeType::Message, 1000, "once");
  auto next = sender.seal(bobKey->publicKey(), signalling::EnvelopeType::Message, 1001, "next");
  ASSERT_TRUE(once && next);
  for (const auto* e : {&*once, &*once, &*next})
    ASSERT_EQ(sender.submit(*e), signalling::AckStatus::Stored) << "seq " << e->header.seq;
  auto got = run({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", bob.key, "--count", "2", "--timeout", "10"});
  ASSERT_EQ(got.exitCode, 0) << got.out << got.err;
  std::vector<std::string> bodies;
  std::istringstream in(got.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) bodies.push_back(j.value("body", ""));
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"once", "next"})) << got.out;
}

TEST(Signalling, OfflineMessagesWaitAndArriveInOrder) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  for (const char* text : {"first", "second", "third"}) {
    auto sent = send(node, alice, bob, text);
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_EQ(lastJsonLine(sent.out)["status"], "stored") << sent.out;
  }
  auto got = run({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", bob.key, "--count", "3", "--timeout", "10"});
  ASSERT_EQ(got.exitCode, 0) << got.err;
  const auto a = got.out.find("first"), b = got.out.find("second"), c = got.out.find("third");
  ASSERT_TRUE(a != std::string::npos && b != std::string::npos && c != std::string::npos) << got.out;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  // Confirmed messages are gone from the mailbox.
  auto again = run({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", bob.key, "--timeout", "1"});
  EXPECT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(again.out, "");
}

TEST(Signalling, ARefusedEnvelopeMakesRdvSendFailWithTheHubsError) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--signal-mailbox-per-sender-recipient", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob"), carol = makePeer(dir, "carol");
  for (const char* text : {"one", "two"}) {
    auto sent = send(node, alice, bob, text);
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_EQ(lastJsonLine(sent.out)["status"], "stored") << sent.out;
  }
  auto refused = send(node, alice, bob, "three");
  EXPECT_NE(refused.exitCode, 0);
  EXPECT_NE(refused.err.find("sender-recipient-mailbox-full"), std::string::npos) << refused.err;
  // Another sender still reaches bob's mailbox.
  auto other = send(node, carol, bob, "from carol");
  ASSERT_EQ(other.exitCode, 0) << other.err;
  EXPECT_EQ(lastJsonLine(other.out)["status"], "stored");
}

TEST(Signalling, NewMailboxKeysAreValidatedAtStart) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"--signal-mailbox-per-sender", "0"},
           {"--signal-mailbox-per-sender-bytes", "100"},
           {"--signal-mailbox-per-sender-recipient", "0"},
           {"--signal-mailbox-unknown-ttl", "5"},
           {"--api-clock-skew", "1"},
           {"--registry-max-records", "0"},
           {"--ice-servers-per-minute", "0"},
       }) {
    auto r = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", key, value}, 10s);
    EXPECT_EQ(r.exitCode, 2) << key;
    EXPECT_NE(r.err.find(key.substr(2)), std::string::npos) << key << ": " << r.err;
  }
  // The unknown-recipient TTL may not exceed the mailbox TTL.
  auto r = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--signal-mailbox-ttl", "600",
                "--signal-mailbox-unknown-ttl", "900"}, 10s);
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("signal-mailbox-unknown-ttl"), std::string::npos) << r.err;
}

TEST(Signalling, AcknowledgedMessageSurvivesKill9) {
  TempDir dir;
  const std::string data = dir.file("node-data");
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  {
    Node node({"--listen", "127.0.0.1:0", "--data-dir", data});
    ASSERT_TRUE(node.started()) << node.log();
    auto sent = send(node, alice, bob, "survives");
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    ASSERT_EQ(lastJsonLine(sent.out)["status"], "stored") << sent.out;
    ASSERT_TRUE(node.process().stop(SIGKILL));
  }
  Node restarted({"--listen", "127.0.0.1:0", "--data-dir", data});
  ASSERT_TRUE(restarted.started()) << restarted.log();
  auto got = run({binary("rdv"), "inbox", "--node", "http://" + restarted.http(), "--key", bob.key, "--count", "1", "--timeout", "10"});
  EXPECT_EQ(got.exitCode, 0) << got.err;
  EXPECT_NE(got.out.find("\"body\":\"survives\""), std::string::npos) << got.out;
}

TEST(Signalling, SendWithoutRecipientKeyExplains) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice");
  auto r = run({binary("rdv"), "send", "--node", "http://" + node.http(), "--key", alice.key, "--to",
                std::string(64, 'a'), "x"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("ENR"), std::string::npos) << r.err;
}

// The hub's limits are configuration keys (also flags), checked when the daemon starts.
TEST(Signalling, LimitsAreConfigKeysCheckedAtStart) {
  struct Refusal {
    std::vector<std::string> flags;
    std::string mustMention;
  };
  const std::vector<Refusal> cases = {
      {{"--signal-rate", "0"}, "configuration key 'signal-rate': must be between 1 and"},
      {{"--signal-max-envelope-bytes", "8"}, "configuration key 'signal-max-envelope-bytes': must be between 16"},
      {{"--signal-mailbox-ttl", "ten"}, "configuration key 'signal-mailbox-ttl': expected a whole number"},
      // A frame limit that cannot carry the largest allowed envelope is refused by the hub's own check.
      {{"--signal-max-envelope-bytes", "200000"}, "configuration key 'signal-max-frame-bytes': must be at least"},
      {{"--signal-max-frame-bytes", "2048", "--signal-max-envelope-bytes", "4096"},
       "configuration key 'signal-max-frame-bytes': must be at least"},
      {{"--signal-mailbox-bytes", "100"}, "configuration key 'signal-mailbox-bytes': must hold at least one envelope"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {binary("rendezvousd")};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.push_back("--check-config");
    auto r = run(args, 10s);
    EXPECT_EQ(r.exitCode, 2) << c.mustMention;
    EXPECT_NE(r.err.find(c.mustMention), std::string::npos) << "stderr: " << r.err << " expected: " << c.mustMention;
  }
  auto ok = run({binary("rendezvousd"), "--signal-max-envelope-bytes", "200000", "--signal-max-frame-bytes", "300000",
                 "--signal-rate", "100000", "--check-config"}, 10s);
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

TEST(Signalling, ConfiguredLimitsAreEnforced) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--signal-max-envelope-bytes", "64", "--signal-mailbox-per-recipient", "1"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  // 64 bytes of ciphertext = 48 bytes of body + the 16-byte tag.
  auto big = send(node, alice, bob, std::string(49, 'x'));
  EXPECT_NE(big.exitCode, 0);
  EXPECT_NE((big.out + big.err).find("envelope-too-large"), std::string::npos) << big.out << big.err;
  auto fits = send(node, alice, bob, std::string(48, 'x'));
  ASSERT_EQ(fits.exitCode, 0) << fits.err;
  EXPECT_EQ(lastJsonLine(fits.out)["status"], "stored") << fits.out;
  auto full = send(node, alice, bob, "one too many");
  EXPECT_NE(full.exitCode, 0);
  EXPECT_NE((full.out + full.err).find("recipient-mailbox-full"), std::string::npos) << full.out << full.err;
}

// The API listener runs libwebsockets on its libuv event library (epoll); the poll() fallback, which
// scans every connection on every wake-up, is logged as http-poll-loop (docs/dependencies.md).
TEST(Signalling, ApiListenerUsesTheLibuvEventLibrary) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  EXPECT_EQ(node.log().find("http-poll-loop"), std::string::npos) << node.log();
}

// rdv inbox --once prints what the mailbox holds (the welcome's stored count) and exits 0 at once;
// the messages are confirmed, so a second --once finds nothing and prints nothing.
TEST(Signalling, InboxOncePrintsTheStoredMessagesAndExits) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer alice = makePeer(dir, "alice"), bob = makePeer(dir, "bob");
  for (const char* text : {"one", "two"}) {
    auto sent = send(node, alice, bob, text);
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_EQ(lastJsonLine(sent.out)["status"], "stored") << sent.out;
  }
  // --timeout 30 is only the safety bound: --once must not wait for it.
  const auto start = std::chrono::steady_clock::now();
  auto got = run({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", bob.key, "--once", "--timeout", "30"});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(got.exitCode, 0) << got.out << got.err;
  EXPECT_LT(took, std::chrono::seconds(10)) << "--once waited for the timeout";
  std::vector<std::string> bodies;
  std::istringstream in(got.out);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    bodies.push_back(j.value("body", ""));
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"one", "two"})) << got.out;
  const auto start2 = std::chrono::steady_clock::now();
  auto again = run({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", bob.key, "--once", "--timeout", "30"});
  EXPECT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(again.out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - start2, std::chrono::seconds(10)) << "--once waited for the timeout";
}

}  // namespace
}  // namespace rdv::test
