// The peer agent end to end on loopback: rdv listen and rdv connect/call (libnice ICE, DTLS, SRTP)
// through the real rendezvousd (registry, ice-servers, signalling hub, TURN relay).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "tests/integration/harness.h"
#include "tests/integration/rdv_peer.h"
#include "tests/integration/hub_peer.h"

namespace rdv::test {
namespace {

constexpr const char* kSecret = "agent-test-secret";

std::vector<nlohmann::json> jsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(j);
  }
  return out;
}

std::optional<nlohmann::json> event(const std::string& text, const std::string& name) {
  for (auto& j : jsonLines(text))
    if (j.value("event", "") == name) return j;
  return std::nullopt;
}

// The `phases` of a connected line (docs/agent.md "Where the time goes"): every step measured, each
// ending in order on the way to the first byte, the last one being the line's time_to_first_byte_ms.
void expectPhases(const nlohmann::json& connected, bool listener) {
  ASSERT_TRUE(connected.contains("phases") && connected["phases"].is_object()) << connected;
  const auto& p = connected["phases"];
  const auto at = [&](const char* name) {
    EXPECT_TRUE(p.contains(name) && p[name].is_number()) << name << " in " << connected;
    return p.contains(name) && p[name].is_number() ? p[name].get<double>() : -1.0;
  };
  const double lookup = at("peer_lookup_ms"), ice = at("ice_servers_ms"), hub = at("hub_login_ms");
  const double signalled = at("signalled_ms"), check = at("first_check_ms"), dtls = at("dtls_ms");
  const double firstByte = at("first_byte_ms");
  at("nomination_ms");
  // Trickle: checks start long before gathering ends (a TURN allocation can finish after the first byte).
  EXPECT_TRUE(p.contains("gathering_ms") && (p["gathering_ms"].is_null() || p["gathering_ms"].is_number())) << connected;
  if (listener) {
    EXPECT_EQ(lookup + ice + hub, 0.0) << "a listener is warm before the offer: " << connected;
  } else {
    EXPECT_GT(lookup, 0.0) << connected;
    EXPECT_GT(ice, 0.0) << connected;
    EXPECT_GT(hub, 0.0) << connected;
    EXPECT_LE(std::max(ice, hub), signalled) << "signalling needs the hub: " << connected;
  }
  EXPECT_LE(signalled, check) << connected;
  EXPECT_LE(check, dtls) << connected;
  EXPECT_LE(dtls, firstByte) << connected;
  EXPECT_DOUBLE_EQ(firstByte, connected["time_to_first_byte_ms"].get<double>()) << connected;
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_ = std::make_unique<Node>(std::vector<std::string>{"--listen", "127.0.0.1:0", "--auth-secret", kSecret,
                                                            "--allow-peer", "127.0.0.0/8", "--log-level", "info"});
    ASSERT_TRUE(node_->started()) << node_->log();
    alice_ = makePeer(dir_, "alice");
    bob_ = makePeer(dir_, "bob");
  }

  std::string url() const { return "http://" + node_->http(); }

  // Starts bob's listener; returns once it registered and joined the hub.
  std::unique_ptr<Process> listen(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {binary("rdv"), "listen", "--node", url(), "--key", bob_.key,
                                     "--local-address", "127.0.0.1", "--timeout", "40"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Process>(argv, dir_.file("listen.log"));
    EXPECT_TRUE(waitUntil([&] { return event(p->log(), "listening").has_value() || !p->running(); }, 15s)) << p->log();
    EXPECT_TRUE(event(p->log(), "listening")) << p->log();
    return p;
  }

  CommandResult connect(std::vector<std::string> extra) {
    std::vector<std::string> argv = {binary("rdv"), "connect", "--node", url(), "--key", alice_.key, "--to", bob_.nodeId,
                                     "--local-address", "127.0.0.1", "--timeout", "20"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run(argv, 30s);
  }

  TempDir dir_;
  std::unique_ptr<Node> node_;
  Peer alice_, bob_;
};

TEST_F(AgentTest, ListenConnectDirectWithDataBothWays) {
  auto listener = listen();
  auto r = connect({"--count", "20", "--interval-ms", "20"});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener->log();
  auto connected = event(r.out, "connected");
  ASSERT_TRUE(connected) << r.out;
  EXPECT_EQ((*connected)["path"], "direct") << *connected;
  EXPECT_EQ((*connected)["local"], "host") << *connected;
  EXPECT_EQ((*connected)["remote"], "host") << *connected;
  // Measured, not placeholders: positive, and within the command's 20 s timeout.
  ASSERT_TRUE((*connected)["time_to_first_byte_ms"].is_number()) << *connected;
  ASSERT_TRUE((*connected)["rtt_ms"].is_number()) << *connected;
  EXPECT_GT((*connected)["time_to_first_byte_ms"].get<double>(), 0.0) << *connected;
  EXPECT_LT((*connected)["time_to_first_byte_ms"].get<double>(), 20000.0) << *connected;
  EXPECT_GT((*connected)["rtt_ms"].get<double>(), 0.0) << *connected;
  EXPECT_LT((*connected)["rtt_ms"].get<double>(), 20000.0) << *connected;
  expectPhases(*connected, /*listener=*/false);
  auto done = event(r.out, "done");
  ASSERT_TRUE(done) << r.out;
  EXPECT_EQ((*done)["sent"], 20);
  EXPECT_EQ((*done)["received"], 20);
  EXPECT_EQ((*done)["via_fast"], 20);
  EXPECT_EQ((*done)["in_order"], true);
  // The listener saw the session and echoed every message it received.
  ASSERT_TRUE(waitUntil([&] { return event(listener->log(), "closed").has_value(); }, 10s)) << listener->log();
  EXPECT_EQ((*event(listener->log(), "closed"))["received"], 20) << listener->log();
  ASSERT_TRUE(event(listener->log(), "connected")) << listener->log();
  expectPhases(*event(listener->log(), "connected"), /*listener=*/true);
}

TEST_F(AgentTest, RelayOnlyGoesThroughOurTurnRelay) {
  auto listener = listen({"--relay-only"});
  auto r = connect({"--relay-only", "--count", "10", "--interval-ms", "20"});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener->log() << "\nnode:\n" << node_->log();
  auto connected = event(r.out, "connected");
  ASSERT_TRUE(connected) << r.out;
  EXPECT_EQ((*connected)["path"], "relayed") << *connected;
  EXPECT_EQ((*connected)["local"], "relay") << *connected;
  EXPECT_EQ((*connected)["remote"], "relay") << *connected;
  auto done = event(r.out, "done");
  ASSERT_TRUE(done) << r.out;
  EXPECT_EQ((*done)["received"], 10);
  EXPECT_EQ((*done)["in_order"], true);
  // Our node's relay carried it: both peers allocated there, under their own identities (REST usernames
  // from /v1/ice-servers name the node id).
  const auto allocatedBy = [&](const Peer& p) {
    std::istringstream in(node_->log());
    for (std::string line; std::getline(in, line);)
      if (line.find("allocation-started") != std::string::npos && line.find(p.nodeId) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(waitUntil([&] { return allocatedBy(alice_) && allocatedBy(bob_); }, 5s)) << node_->log();
}

TEST_F(AgentTest, FastPathLossFallsBackToHubWithoutLossThenRestartsIce) {
  auto listener = listen();
  // TEST ONLY hook: after 8 records over DTLS, alice drops every DTLS packet of this ICE generation.
  auto r = connect({"--count", "40", "--interval-ms", "50", "--test-drop-fast-after", "8", "--path-timeout-ms", "800"});
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener->log();
  auto done = event(r.out, "done");
  ASSERT_TRUE(done) << r.out;
  EXPECT_EQ((*done)["sent"], 40);
  EXPECT_EQ((*done)["received"], 40);
  EXPECT_EQ((*done)["in_order"], true);
  EXPECT_GT((*done)["via_hub"].get<int>(), 0) << *done;
  EXPECT_GE((*done)["generation"].get<int>(), 1) << *done;
  EXPECT_TRUE(event(r.out, "fallback")) << r.out;
  auto restored = event(r.out, "restored");
  ASSERT_TRUE(restored) << r.out;
  EXPECT_EQ((*restored)["path"], "direct") << *restored;
  // Messages went over the fast path again after the restart (not only before the drop).
  EXPECT_GT((*done)["via_fast"].get<int>(), 8) << *done;
}

TEST_F(AgentTest, CallReportsLossJitterAndBitrate) {
  auto listener = listen();
  auto r = run({binary("rdv"), "call", "--node", url(), "--key", alice_.key, "--to", bob_.nodeId, "--local-address",
                "127.0.0.1", "--bitrate", "300k", "--seconds", "2", "--timeout", "20"},
               30s);
  ASSERT_EQ(r.exitCode, 0) << r.out << r.err << "\nlistener:\n" << listener->log();
  auto report = event(r.out, "call-report");
  ASSERT_TRUE(report) << r.out;
  EXPECT_GT((*report)["packets_sent"].get<int>(), 50) << *report;
  EXPECT_GT((*report)["packets_received"].get<int>(), 0) << *report;
  EXPECT_LE((*report)["loss_fraction"].get<double>(), 0.2) << *report;
  // RFC 3550 interarrival jitter on loopback: some (real clocks never tick evenly), far below a frame.
  ASSERT_TRUE((*report)["jitter_ms"].is_number()) << *report;
  EXPECT_GT((*report)["jitter_ms"].get<double>(), 0.0) << *report;
  EXPECT_LT((*report)["jitter_ms"].get<double>(), 200.0) << *report;
  EXPECT_GT((*report)["bitrate_bps"].get<double>(), 100000) << *report;
  EXPECT_TRUE(event(listener->log(), "call-report")) << listener->log();
}

TEST_F(AgentTest, DtlsFingerprintMismatchIsRefused) {
  auto listener = listen({"--test-bad-fingerprint"});
  auto r = connect({"--count", "3"});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  auto err = event(r.out, "error");
  ASSERT_TRUE(err) << r.out;
  EXPECT_EQ((*err)["error"], "dtls-fingerprint-mismatch") << *err;
  EXPECT_FALSE(event(r.out, "connected")) << r.out;
}

// A replayed offer must not reach the listener's sessions: alice (a test peer on the hub) offers session s1,
// then s2, then sends the very same s1 envelope again, then offers s3. The listener's replay guard drops the
// repeat, so it opens exactly s1, s2, s3; without the guard the old offer would tear s2 down and reopen s1.
TEST_F(AgentTest, ReplayedOfferIsProcessedOnce) {
  auto listener = listen();
  auto aliceKey = identity::PrivateKey::load(alice_.key);
  auto bobKey = identity::PrivateKey::load(bob_.key);
  ASSERT_TRUE(aliceKey && bobKey);
  HubPeer alice(node_->http(), std::move(*aliceKey));
  ASSERT_TRUE(alice.ok()) << alice.error();
  const auto offer = [&](const std::string& session, uint64_t seq) {
    return alice.seal(bobKey->publicKey(), signalling::EnvelopeType::Offer, seq,
                      nlohmann::json{{"session", session}, {"gen", 0}}.dump());
  };
  auto s1 = offer("s1", 10), s2 = offer("s2", 11), s3 = offer("s3", 12);
  ASSERT_TRUE(s1 && s2 && s3);
  for (const auto* e : {&*s1, &*s2, &*s1, &*s3})
    ASSERT_EQ(alice.submit(*e), signalling::AckStatus::Delivered) << "seq " << e->header.seq;
  const auto offers = [&] {
    std::vector<std::string> out;
    for (auto& j : jsonLines(listener->log()))
      if (j.value("event", "") == "offer") out.push_back(j.value("session", ""));
    return out;
  };
  // s3 was submitted last: once the listener reports it, it has processed everything before it.
  EXPECT_TRUE(waitUntil([&] { auto o = offers(); return std::find(o.begin(), o.end(), "s3") != o.end(); }, 15s))
      << listener->log();
  EXPECT_EQ(offers(), (std::vector<std::string>{"s1", "s2", "s3"})) << listener->log();
}

TEST_F(AgentTest, UnknownPeerIsAClearError) {
  auto r = connect({});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  auto err = event(r.out, "error");
  ASSERT_TRUE(err) << r.out;
  EXPECT_EQ((*err)["error"], "peer-unknown") << *err;
}

}  // namespace
}  // namespace rdv::test
