// rdv connect --webrtc against rdv listen through the real rendezvousd: the offer is real SDP in the
// signed, encrypted envelopes, DTLS carries SCTP (libusrsctp) and the messages travel on a DCEP data
// channel, as with a browser (the browser itself: signalling/web/test/chromium_native.test.js). The
// same listener answers native offers too (agent_test.cpp): it follows each offer's kind.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

constexpr const char* kSecret = "agent-webrtc-test-secret";

std::optional<nlohmann::json> eventIn(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == name) return j;
  }
  return std::nullopt;
}

class AgentWebRtcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<Node>(std::vector<std::string>{"--listen", "127.0.0.1:0", "--auth-secret", kSecret,
                                                            "--allow-peer", "127.0.0.0/8", "--log-level", "info"});
    ASSERT_TRUE(node_->started()) << node_->log();
    aliceKey_ = dir_.file("alice.key");
    bobKey_ = dir_.file("bob.key");
    ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", aliceKey_}).exitCode, 0);
    auto r = run({binary("rdv"), "key", "new", "--out", bobKey_});
    ASSERT_EQ(r.exitCode, 0);
    bobId_ = r.out.substr(0, r.out.find('\n'));
  }

  std::string url() const { return "http://" + node_->http(); }

  std::unique_ptr<Process> listen(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {binary("rdv"), "listen", "--node", url(), "--key", bobKey_, "--local-address",
                                     "127.0.0.1", "--timeout", "40"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Process>(argv, dir_.file("listen.log"));
    EXPECT_TRUE(waitUntil([&] { return eventIn(p->log(), "listening").has_value() || !p->running(); }, 15s)) << p->log();
    return p;
  }

  CommandResult connect(std::vector<std::string> extra) {
    std::vector<std::string> argv = {binary("rdv"), "connect", "--node", url(), "--key", aliceKey_, "--to", bobId_,
                                     "--local-address", "127.0.0.1", "--timeout", "20", "--webrtc"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, 30s);
  }

  void expectEchoed(const CommandResult& r, Process& listener, unsigned count, const std::string& path) {
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener.log() << "\nnode:\n" << node_->log();
    auto connected = eventIn(r.out, "connected");
    ASSERT_TRUE(connected) << r.out;
    EXPECT_EQ((*connected)["path"], path) << *connected;
    auto done = eventIn(r.out, "done");
    ASSERT_TRUE(done) << r.out;
    EXPECT_EQ((*done)["sent"], count);
    EXPECT_EQ((*done)["received"], count);
    EXPECT_EQ((*done)["via_fast"], count);  // all on the data channel
    EXPECT_EQ((*done)["via_hub"], 0);
    EXPECT_EQ((*done)["in_order"], true);
    ASSERT_TRUE(waitUntil([&] { return eventIn(listener.log(), "closed").has_value(); }, 10s)) << listener.log();
    EXPECT_EQ((*eventIn(listener.log(), "closed"))["received"], count) << listener.log();
    auto theirs = eventIn(listener.log(), "connected");
    ASSERT_TRUE(theirs) << listener.log();
    EXPECT_EQ((*theirs)["path"], path) << *theirs;
  }

  TempDir dir_;
  std::unique_ptr<Node> node_;
  std::string aliceKey_, bobKey_, bobId_;
};

TEST_F(AgentWebRtcTest, DataChannelDirect) {
  auto listener = listen();
  auto r = connect({"--count", "20", "--interval-ms", "10"});
  expectEchoed(r, *listener, 20, "direct");
}

TEST_F(AgentWebRtcTest, DataChannelRelayOnlyThroughOurTurn) {
  auto listener = listen({"--relay-only"});
  auto r = connect({"--relay-only", "--count", "10", "--interval-ms", "10"});
  expectEchoed(r, *listener, 10, "relayed");
  auto connected = eventIn(r.out, "connected");
  ASSERT_TRUE(connected);
  EXPECT_EQ((*connected)["local"], "relay");
  EXPECT_EQ((*connected)["remote"], "relay");
}

TEST_F(AgentWebRtcTest, OneListenerAnswersNativeAndWebRtcOffers) {
  auto listener = listen();
  auto webrtc = connect({"--count", "3"});
  ASSERT_EQ(webrtc.exitCode, 0) << webrtc.out << webrtc.err << listener->log();
  // carol (another key: one signed ice-servers request per key and second) offers the native way.
  const std::string carolKey = dir_.file("carol.key");
  ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", carolKey}).exitCode, 0);
  std::vector<std::string> argv = {binary("rdv"), "connect", "--node", url(), "--key", carolKey, "--to", bobId_,
                                   "--local-address", "127.0.0.1", "--timeout", "20", "--count", "3"};
  auto native = run(argv, 30s);
  ASSERT_EQ(native.exitCode, 0) << native.out << native.err << listener->log();
  auto done = eventIn(native.out, "done");
  ASSERT_TRUE(done);
  EXPECT_EQ((*done)["received"], 3);
}

TEST_F(AgentWebRtcTest, OneListenerCarriesSeveralDataChannelsAtOnce) {
  // Three peers at once: three SCTP associations in the listener's one process, sharing
  // libusrsctp's process-wide timers and address table.
  auto listener = listen();
  std::vector<std::unique_ptr<Process>> peers;
  for (int i = 0; i < 3; ++i) {
    const std::string key = dir_.file("peer" + std::to_string(i) + ".key");
    ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", key}).exitCode, 0);
    peers.push_back(std::make_unique<Process>(
        std::vector<std::string>{binary("rdv"), "connect", "--node", url(), "--key", key, "--to", bobId_,
                                 "--local-address", "127.0.0.1", "--timeout", "25", "--webrtc", "--count", "20",
                                 "--interval-ms", "10"},
        dir_.file("peer" + std::to_string(i) + ".log")));
  }
  for (auto& p : peers) {
    ASSERT_TRUE(waitUntil([&] { return !p->running(); }, 40s)) << p->log();
    auto done = eventIn(p->log(), "done");
    ASSERT_TRUE(done) << p->log() << "\nlistener:\n" << listener->log();
    EXPECT_EQ((*done)["received"], 20) << *done;
    EXPECT_EQ((*done)["in_order"], true) << *done;
  }
}

TEST_F(AgentWebRtcTest, ADataChannelThatDiesFallsBackToTheHubWithoutLoss) {
  // TEST ONLY hook: after 3 messages on the channel, alice drops every DTLS packet from bob. ICE
  // keeps passing its checks, so only the unacknowledged messages on "rdv-ack" tell the two ends;
  // both move to the hub and every message still comes back, once and in order.
  auto listener = listen();
  auto r = connect({"--count", "10", "--interval-ms", "30", "--test-drop-fast-after", "3"});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener->log();
  auto fallback = eventIn(r.out, "fallback");
  ASSERT_TRUE(fallback) << r.out;
  auto done = eventIn(r.out, "done");
  ASSERT_TRUE(done) << r.out;
  EXPECT_EQ((*done)["received"], 10);
  EXPECT_EQ((*done)["in_order"], true);
  EXPECT_GE((*done)["via_hub"].get<int>(), 1) << *done;
  EXPECT_EQ((*done)["via_fast"].get<int>() + (*done)["via_hub"].get<int>(), 10) << *done;
  ASSERT_TRUE(waitUntil([&] { return eventIn(listener->log(), "closed").has_value(); }, 10s)) << listener->log();
  EXPECT_EQ((*eventIn(listener->log(), "closed"))["received"], 10) << listener->log();
  EXPECT_TRUE(eventIn(listener->log(), "fallback")) << listener->log();
}

TEST_F(AgentWebRtcTest, AnswerWithAForgedFingerprintIsRefused) {
  // The listener's SDP answer names a fingerprint that is not its certificate's: the offerer's DTLS
  // client refuses the handshake (the hub or the relay cannot sit in the middle).
  auto listener = listen({"--test-bad-fingerprint"});
  auto r = connect({"--count", "1"});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  auto err = eventIn(r.out, "error");
  ASSERT_TRUE(err) << r.out;
  EXPECT_EQ((*err)["error"], "dtls-fingerprint-mismatch") << *err;
  EXPECT_FALSE(eventIn(r.out, "connected")) << r.out;
}

}  // namespace
}  // namespace rdv::test
