// Topics and presence end to end (docs/signalling.md, "Topics" and "Presence"): rdv publish, rdv
// subscribe and rdv presence through the real rendezvousd hub, with the test hub peer where a test needs
// frames rdv does not send (a members record, a burst of publications on one connection).
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>

#include "signalling/hub/publication.h"
#include "tests/integration/harness.h"
#include "tests/integration/hub_peer.h"

namespace rdv::test {
namespace {

namespace sig = rdv::signalling;
using Clock = std::chrono::steady_clock;

struct Peer {
  std::string key;
  std::string enr;
  identity::NodeId id;
};

Peer makePeer(const TempDir& dir, const std::string& name) {
  Peer p{dir.file(name + ".key"), "", {}};
  EXPECT_EQ(run({binary("rdv"), "key", "new", "--out", p.key}).exitCode, 0);
  auto enr = run({binary("rdv"), "enr", "encode", "--key", p.key});
  EXPECT_EQ(enr.exitCode, 0) << enr.err;
  p.enr = enr.out.substr(0, enr.out.find('\n'));
  if (auto k = identity::PrivateKey::load(p.key)) p.id = k->nodeId();
  return p;
}

// The JSON lines of a log (other lines, e.g. progress on stderr, are skipped).
std::vector<nlohmann::json> jsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<std::string> bodies(const std::string& log) {
  std::vector<std::string> out;
  for (const auto& j : jsonLines(log)) out.push_back(j.value("body", ""));
  return out;
}

CommandResult publish(const Node& node, const Peer& from, const std::string& topic, const std::string& text) {
  return run({binary("rdv"), "publish", "--node", "http://" + node.http(), "--key", from.key, "--topic", topic, text});
}

std::vector<std::string> subscribeArgs(const Node& node, const Peer& p, const std::string& topic, int count) {
  return {binary("rdv"), "subscribe", "--node", "http://" + node.http(), "--key", p.key, "--topic", topic,
          "--count", std::to_string(count), "--timeout", "60"};
}

TEST(Topics, ThreeSubscribersReceiveEveryPublishInOrder) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer pub = makePeer(dir, "pub");
  std::vector<Peer> subs;
  std::vector<std::unique_ptr<Process>> procs;
  for (int i = 0; i < 3; ++i) {
    subs.push_back(makePeer(dir, "sub" + std::to_string(i)));
    procs.push_back(std::make_unique<Process>(subscribeArgs(node, subs.back(), "raiden.pfs", 3),
                                              dir.file("sub" + std::to_string(i) + ".log")));
  }
  for (auto& p : procs)
    ASSERT_TRUE(waitUntil([&] { return p->log().find("subscribed to raiden.pfs") != std::string::npos; }, 20s)) << p->log();
  for (const char* text : {"one", "two", "three"}) {
    auto sent = publish(node, pub, "raiden.pfs", text);
    ASSERT_EQ(sent.exitCode, 0) << sent.err;
    EXPECT_EQ(jsonLines(sent.out).back()["subscribers"], 3) << sent.out;
  }
  for (auto& p : procs) {
    ASSERT_TRUE(waitUntil([&] { return !p->running(); }, 30s)) << p->log();
    EXPECT_EQ(bodies(p->log()), (std::vector<std::string>{"one", "two", "three"})) << p->log();
    for (const auto& j : jsonLines(p->log())) {
      EXPECT_EQ(j["from"], pub.id.hex());
      EXPECT_EQ(j["topic"], "raiden.pfs");
      EXPECT_TRUE(j["seq"].is_number_unsigned() && j["ts"].is_number_unsigned()) << j.dump();
    }
  }
}

TEST(Topics, LateSubscriberGetsTheRetainedHistory) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--signal-topic-history", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer pub = makePeer(dir, "pub"), late = makePeer(dir, "late");
  for (const char* text : {"a", "b", "c"}) ASSERT_EQ(publish(node, pub, "blocks", text).exitCode, 0);
  auto got = run({binary("rdv"), "subscribe", "--node", "http://" + node.http(), "--key", late.key, "--topic", "blocks",
                  "--count", "2", "--timeout", "20"});
  ASSERT_EQ(got.exitCode, 0) << got.err;
  EXPECT_EQ(bodies(got.out), (std::vector<std::string>{"b", "c"}));  // the last 2
  EXPECT_NE(got.err.find("(2 retained)"), std::string::npos) << got.err;
}

TEST(Topics, APublisherOverItsRateIsRefusedAndRdvPublishFails) {
  TempDir dir;
  const std::string token = "test-admin-token-0123456789";
  Node node({"--listen", "127.0.0.1:0", "--signal-topic-publish-rate", "1",  // 1/s, burst 2
             "--admin-listen", "127.0.0.1:0", "--admin-token", token});
  ASSERT_TRUE(node.started()) << node.log();
  Peer pub = makePeer(dir, "pub");
  // The same identity's budget is used up on one connection, then rdv publish comes at once. On a
  // loaded machine a token may refill before rdv gets there: a few tries.
  bool refused = false;
  CommandResult last;
  for (int attempt = 0; attempt < 5 && !refused; ++attempt) {
    auto key = identity::PrivateKey::load(pub.key);
    ASSERT_TRUE(key.ok());
    HubPeer burner(node.http(), *key);
    ASSERT_TRUE(burner.ok()) << burner.error();
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      sig::Publication p{key->nodeId(), "fast", 1000 * attempt + seq, 1, Bytes{'x'}, {}};
      ASSERT_TRUE(burner.sendFrame(sig::PublishFrame{*sig::signPublication(*key, p)}));
    }
    bool sawRateError = false;
    const auto deadline = Clock::now() + 10s;
    for (int answers = 0; answers < 3;) {
      auto f = burner.next(deadline);
      ASSERT_TRUE(f.has_value()) << "no answer to a publication";
      if (std::holds_alternative<sig::PublishedFrame>(*f)) ++answers;
      if (auto* e = std::get_if<sig::ErrorFrame>(&*f)) {
        ++answers;
        sawRateError = sawRateError || e->code == "publish-rate-limited";
      }
    }
    EXPECT_TRUE(sawRateError);
    last = publish(node, pub, "fast", "one too many");
    refused = last.exitCode != 0;
  }
  ASSERT_TRUE(refused) << last.out;
  EXPECT_NE(last.err.find("refused: publish-rate-limited"), std::string::npos) << last.err;
  // Counted in /metrics (read with Prometheus' reference parser), published to the API thread's gauges
  // within 250 ms.
  const std::string url = "http://" + node.ready()["admin"].get<std::string>() + "/metrics";
  const std::string scraper = std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/prometheus_scrape.py";
  nlohmann::json metrics;
  EXPECT_TRUE(waitUntil([&] {
    metrics = nlohmann::json::parse(run({"/usr/bin/python3", scraper, url, token}).out, nullptr, false);
    return metrics.is_object() &&
           metrics.value(R"(rendezvous_signalling_topic_refused_total{reason="publisher_rate"})", 0.0) >= 2.0;
  }, 10s)) << metrics.dump();
  EXPECT_GE(metrics.value("rendezvous_signalling_topic_published_total", 0.0), 2.0) << metrics.dump();
}

TEST(Topics, ARestrictedTopicRefusesOutsiders) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  Peer owner = makePeer(dir, "owner"), member = makePeer(dir, "member"), outsider = makePeer(dir, "outsider");
  Peer member2 = makePeer(dir, "member2");  // publishes: a second login of `member` would replace its subscriber
  const std::string topic = owner.id.hex() + "/channel";
  auto ownerKey = identity::PrivateKey::load(owner.key);
  ASSERT_TRUE(ownerKey.ok());
  HubPeer ownerPeer(node.http(), *ownerKey);
  ASSERT_TRUE(ownerPeer.ok()) << ownerPeer.error();
  auto record = sig::signMembers(*ownerKey, sig::MembersRecord{topic, {}, {member.id, member2.id}, 1, {}});
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(ownerPeer.sendFrame(sig::TopicMembersFrame{*record}));
  ASSERT_TRUE(ownerPeer.sendFrame(sig::SubscribeFrame{topic}));  // its answer shows the record was taken first
  auto answer = ownerPeer.next(Clock::now() + 10s);
  ASSERT_TRUE(answer && std::holds_alternative<sig::SubscribedFrame>(*answer));

  auto sub = run({binary("rdv"), "subscribe", "--node", "http://" + node.http(), "--key", outsider.key, "--topic", topic,
                  "--timeout", "10"});
  EXPECT_NE(sub.exitCode, 0);
  EXPECT_NE(sub.err.find("not-a-member"), std::string::npos) << sub.err;
  auto pub = publish(node, outsider, topic, "let me in");
  EXPECT_NE(pub.exitCode, 0);
  EXPECT_NE(pub.err.find("not-a-member"), std::string::npos) << pub.err;

  Process memberSub(subscribeArgs(node, member, topic, 1), dir.file("member.log"));
  ASSERT_TRUE(waitUntil([&] { return memberSub.log().find("subscribed to") != std::string::npos; }, 20s))
      << memberSub.log();
  auto ok = publish(node, member2, topic, "hello members");
  ASSERT_EQ(ok.exitCode, 0) << ok.err;
  ASSERT_TRUE(waitUntil([&] { return !memberSub.running(); }, 20s));
  EXPECT_EQ(bodies(memberSub.log()), (std::vector<std::string>{"hello members"})) << memberSub.log();
}

TEST(Topics, BadLimitsStopTheStartNamingTheKey) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"signal-topic-history-bytes", "10"}, {"signal-topic-ttl", "0"}, {"signal-topic-max-bytes", "70000"},
           {"signal-presence-watches", "0"}}) {
    auto r = run({binary("rendezvousd"), "--listen", "127.0.0.1:0", "--" + key, value, "--check-config"});
    EXPECT_EQ(r.exitCode, 2) << key;
    EXPECT_NE(r.err.find("'" + key + "'"), std::string::npos) << r.err;
  }
}

TEST(Presence, OnlineThenOfflineWithinThePingIntervalAfterKill9) {
  TempDir dir;
  const int pingSeconds = 5;
  Node node({"--listen", "127.0.0.1:0", "--signal-ping-interval", std::to_string(pingSeconds)});
  ASSERT_TRUE(node.started()) << node.log();
  Peer watcher = makePeer(dir, "watcher"), peer = makePeer(dir, "peer"), shy = makePeer(dir, "shy");
  Process shyInbox({binary("rdv"), "inbox", "--node", "http://" + node.http(), "--key", shy.key, "--timeout", "60"},
                   dir.file("shy.log"));  // online, but did not opt in
  ASSERT_TRUE(waitUntil([&] { return shyInbox.log().find("listening as") != std::string::npos; }, 20s));
  Process watch({binary("rdv"), "presence", "--node", "http://" + node.http(), "--key", watcher.key, "--watch", peer.enr,
                 "--watch", shy.id.hex(), "--count", "4", "--timeout", "60"},
                dir.file("watch.log"));
  auto events = [&] { return jsonLines(watch.log()); };
  ASSERT_TRUE(waitUntil([&] { return events().size() >= 2; }, 20s)) << watch.log();
  for (const auto& e : events()) {  // both offline, last seen never: the shy one is not revealed
    EXPECT_EQ(e["event"], "offline") << e.dump();
    EXPECT_EQ(e["last_seen"], 0) << e.dump();
  }
  Process inbox({binary("rdv"), "inbox", "--presence", "--node", "http://" + node.http(), "--key", peer.key, "--timeout",
                 "60"},
                dir.file("peer.log"));
  ASSERT_TRUE(waitUntil([&] { return events().size() >= 3; }, 20s)) << watch.log();
  EXPECT_EQ(events()[2]["event"], "online");
  EXPECT_EQ(events()[2]["node_id"], peer.id.hex());
  const auto killedAt = Clock::now();
  ASSERT_TRUE(inbox.stop(SIGKILL).has_value());
  ASSERT_TRUE(waitUntil([&] { return events().size() >= 4; }, std::chrono::seconds(2 * pingSeconds + 5))) << watch.log();
  const auto noticed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killedAt);
  auto off = events()[3];
  EXPECT_EQ(off["event"], "offline");
  EXPECT_EQ(off["node_id"], peer.id.hex());
  EXPECT_GT(off["last_seen"].get<uint64_t>(), 0u);
  EXPECT_LT(noticed.count(), pingSeconds * 1000) << "offline noticed after " << noticed.count() << " ms";
  std::cerr << "presence: offline noticed " << noticed.count() << " ms after kill -9" << std::endl;
  ASSERT_TRUE(waitUntil([&] { return !watch.running(); }, 10s));
}

}  // namespace
}  // namespace rdv::test
