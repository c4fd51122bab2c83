// The admin API's session control (issue 18) against the real rendezvousd: list and end allocations,
// bans (403 on Allocate for our client and coturn's uclient, persisted across a restart), drain (300
// ALTERNATE-SERVER that uclient follows to a second node), /metrics, and `rdv admin` over it all.
#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <sstream>

#include "rendezvous/client/http_client.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

constexpr const char* kSecret = "admin-test-rest-secret-0001";
constexpr const char* kToken = "admin-test-token-000000001";

// A log line of `event` that mentions `text`.
bool logged(const std::string& log, const std::string& event, const std::string& text) {
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line))
    if (line.find("\"event\":\"" + event + "\"") != std::string::npos && line.find(text) != std::string::npos) return true;
  return false;
}

Endpoint loopback(uint16_t port) { return Endpoint(*IpAddress::parse("127.0.0.1"), port); }

std::vector<std::string> nodeArgs(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8",
                                   "--admin-listen", "127.0.0.1:0", "--admin-token", kToken, "--log-format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

struct Admin {
  std::string base;
  cli::HttpReply call(const std::string& method, const std::string& target, const std::string& body = "",
                      const std::string& token = kToken) const {
    auto url = cli::parseHttpUrl(base);
    EXPECT_TRUE(url);
    auto reply = cli::httpRequest(*url, {method, target, body, std::chrono::milliseconds(10000), nullptr,
                                         token.empty() ? "" : "Bearer " + token});
    EXPECT_TRUE(reply) << (reply ? "" : reply.error());
    return reply ? *reply : cli::HttpReply{};
  }
  nlohmann::json json(const std::string& method, const std::string& target, const std::string& body = "") const {
    return nlohmann::json::parse(call(method, target, body).body, nullptr, false);
  }
};

Admin adminOf(const Node& node) { return Admin{"http://" + node.ready()["admin"].get<std::string>()}; }

std::unique_ptr<TurnTestClient> restClient(const Node& node, const std::string& id) {
  const std::string user = restUsername(id, 3600);
  return std::make_unique<TurnTestClient>(loopback(node.udpPort()), user, restPassword(kSecret, user));
}

// coturn's turnutils_uclient, client to client, with REST credentials for `id` (-W: it makes
// "EXPIRY:id" and its password from the secret): its exit code and output.
CommandResult uclient(const Node& node, const std::string& id) {
  return run({"turnutils_uclient", "-y", "-c", "-n", "5", "-m", "2", "-l", "100", "-z", "5", "-W", kSecret, "-u", id,
              "-p", std::to_string(node.udpPort()), "127.0.0.1"},
             std::chrono::seconds(30));
}

TEST(AdminApi, EveryRouteNeedsTheToken) {
  Node node(nodeArgs());
  ASSERT_TRUE(node.started()) << node.log();
  const Admin admin = adminOf(node);
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/allocations"}, {"DELETE", "/v1/allocations/1"}, {"GET", "/v1/bans"}, {"POST", "/v1/bans"},
           {"DELETE", "/v1/bans/x"}, {"POST", "/v1/drain"}, {"DELETE", "/v1/drain"}}) {
    EXPECT_EQ(admin.call(method, target, "", "").status, 401) << method << " " << target;
    EXPECT_EQ(admin.call(method, target, "", "wrong-token-wrong-token").status, 401) << method << " " << target;
  }
  EXPECT_EQ(admin.call("POST", "/v1/bans", "not json").status, 400);
  EXPECT_EQ(admin.call("POST", "/v1/bans", R"({"identity": ""})").status, 400);
  EXPECT_EQ(admin.call("POST", "/v1/bans", R"({"identity": "x", "until": 5})").status, 400);
  EXPECT_EQ(admin.call("DELETE", "/v1/allocations/abc").status, 400);
  EXPECT_EQ(admin.call("DELETE", "/v1/allocations/12345").status, 404);
  EXPECT_EQ(admin.call("DELETE", "/v1/bans/nobody").status, 404);
}

TEST(AdminApi, ListsAndEndsAllocationsAndTheRelayStops) {
  Node node(nodeArgs({"--workers", "2"}));
  ASSERT_TRUE(node.started()) << node.log();
  const Admin admin = adminOf(node);
  UdpSocket peer;
  auto a = restClient(node, "node-a");
  auto b = restClient(node, "node-b");
  ASSERT_TRUE(a->allocate().ok) << node.log();
  ASSERT_TRUE(b->allocate().ok) << node.log();
  ASSERT_TRUE(a->bindChannel(0x4000, peer.local()).ok);
  const Bytes payload(300, 0x61);
  ASSERT_TRUE(a->sendChannelData(0x4000, payload));
  ASSERT_TRUE(peer.receive(std::chrono::seconds(3)));

  auto list = admin.json("GET", "/v1/allocations");
  ASSERT_EQ(list["allocations"].size(), 2u) << list.dump();
  auto only = admin.json("GET", "/v1/allocations?identity=node-a");
  ASSERT_EQ(only["allocations"].size(), 1u) << only.dump();
  const auto& row = only["allocations"][0];
  EXPECT_EQ(row["identity"], "node-a");
  EXPECT_EQ(row["class"], "limited");
  EXPECT_EQ(row["client"], a->socket().local().toString());
  EXPECT_EQ(row["relay"][0], a->relayed()->toString());
  EXPECT_EQ(row["peers"], 1);
  EXPECT_TRUE(waitUntil([&] {
    return admin.json("GET", "/v1/allocations?identity=node-a")["allocations"][0].value("bytes_up", 0) == 300;
  }, std::chrono::seconds(3)));
  EXPECT_GE(row["age_seconds"].get<int64_t>(), 0);
  EXPECT_EQ(admin.json("GET", "/v1/allocations?class=gold")["allocations"].size(), 0u);

  const uint64_t id = row["id"];
  const auto ended = admin.call("DELETE", "/v1/allocations/" + std::to_string(id));
  ASSERT_EQ(ended.status, 200) << ended.body;
  // The relay stops at once: data on the channel no longer reaches the peer; the allocation is gone.
  ASSERT_TRUE(a->sendChannelData(0x4000, payload));
  EXPECT_FALSE(peer.receive(std::chrono::milliseconds(500)));
  EXPECT_EQ(a->refresh(600).error, 437);
  list = admin.json("GET", "/v1/allocations");
  ASSERT_EQ(list["allocations"].size(), 1u);
  EXPECT_EQ(list["allocations"][0]["identity"], "node-b");
  EXPECT_NE(node.log().find("ended-by-admin"), std::string::npos) << node.log();
}

TEST(AdminApi, BannedIdentityGets403AndTheBanSurvivesARestart) {
  TempDir data;
  std::vector<std::string> args = nodeArgs({"--data-dir", data.file("data")});
  {
    Node node(args);
    ASSERT_TRUE(node.started()) << node.log();
    const Admin admin = adminOf(node);
    const auto banned = admin.call("POST", "/v1/bans", R"({"identity": "node-bad", "reason": "abuse"})");
    ASSERT_EQ(banned.status, 201) << banned.body;
    EXPECT_EQ(restClient(node, "node-bad")->allocate().error, 403);
    EXPECT_TRUE(restClient(node, "node-good")->allocate().ok);
    // coturn's client is refused too.
    const auto refused = uclient(node, "node-bad");
    EXPECT_NE(refused.exitCode, 0) << refused.out << refused.err;
    EXPECT_FALSE(logged(node.log(), "allocation-started", "node-bad")) << node.log();
    auto bans = admin.json("GET", "/v1/bans");
    ASSERT_EQ(bans["bans"].size(), 1u);
    EXPECT_EQ(bans["bans"][0]["reason"], "abuse");
    ASSERT_TRUE(node.process().stop(SIGTERM));
  }
  Node again(args);
  ASSERT_TRUE(again.started()) << again.log();
  EXPECT_EQ(restClient(again, "node-bad")->allocate().error, 403);
  const Admin admin = adminOf(again);
  ASSERT_EQ(admin.call("DELETE", "/v1/bans/node-bad").status, 200);
  EXPECT_TRUE(restClient(again, "node-bad")->allocate().ok);
  EXPECT_EQ(admin.json("GET", "/v1/bans")["bans"].size(), 0u);
}

TEST(AdminApi, BannedNodeIdIsRefusedAtTheHubLogin) {
  TempDir keys;
  Node node(nodeArgs({"--http-listen", "127.0.0.1:0"}));
  ASSERT_TRUE(node.started()) << node.log();
  const std::string key = keys.file("banned.key");
  const auto made = run({binary("rdv"), "key", "new", "--out", key});
  ASSERT_EQ(made.exitCode, 0) << made.err;
  const std::string id = made.out.substr(0, made.out.find('\n'));  // key new --out prints the node id
  const std::string url = "http://" + node.http();
  const std::vector<std::string> inbox = {binary("rdv"), "inbox", "--node", url, "--key", key, "--once", "--timeout", "5"};
  const auto before = run(inbox);
  EXPECT_EQ(before.exitCode, 0) << before.err;
  ASSERT_EQ(adminOf(node).call("POST", "/v1/bans", "{\"identity\": \"" + id + "\"}").status, 201);
  const auto after = run(inbox);
  EXPECT_NE(after.exitCode, 0) << after.out;
  EXPECT_NE(after.err.find("banned"), std::string::npos) << after.err;
  // Unbanned: back in.
  ASSERT_EQ(adminOf(node).call("DELETE", "/v1/bans/" + id).status, 200);
  EXPECT_EQ(run(inbox).exitCode, 0);
}

TEST(AdminApi, DrainSendsNewClientsToTheAlternateAndKeepsLiveOnes) {
  Node second(nodeArgs());
  ASSERT_TRUE(second.started()) << second.log();
  Node node(nodeArgs({"--alternate-server", second.udp()}));
  ASSERT_TRUE(node.started()) << node.log();
  const Admin admin = adminOf(node);
  UdpSocket peer;
  auto live = restClient(node, "node-live");
  ASSERT_TRUE(live->allocate().ok);
  ASSERT_TRUE(live->bindChannel(0x4000, peer.local()).ok);

  auto drained = admin.json("POST", "/v1/drain", "{}");
  EXPECT_EQ(drained["draining"], true);
  EXPECT_EQ(drained["alternate"], second.udp());
  const std::string metrics = admin.call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("rendezvous_draining 1"), std::string::npos);
  // Our client sees 300 with ALTERNATE-SERVER.
  auto fresh = restClient(node, "node-new");
  const TurnAnswer answer = fresh->allocate();
  ASSERT_EQ(answer.error, 300);
  ASSERT_TRUE(answer.message);
  EXPECT_EQ(answer.message->address(stun::attr::AlternateServer)->toString(), second.udp());
  // coturn's uclient follows it to the second node and relays there.
  const auto followed = uclient(node, "node-uclient");
  EXPECT_EQ(followed.exitCode, 0) << followed.out << followed.err;
  EXPECT_TRUE(logged(second.log(), "allocation-started", "node-uclient")) << second.log();
  EXPECT_FALSE(logged(node.log(), "allocation-started", "node-uclient")) << node.log();
  // The live allocation keeps relaying.
  ASSERT_TRUE(live->sendChannelData(0x4000, Bytes(100, 0x62)));
  EXPECT_TRUE(peer.receive(std::chrono::seconds(3)));
  EXPECT_TRUE(live->refresh(600).ok);
  // Undo.
  EXPECT_EQ(admin.json("DELETE", "/v1/drain")["draining"], false);
  EXPECT_NE(admin.call("GET", "/metrics").body.find("rendezvous_draining 0"), std::string::npos);
  EXPECT_TRUE(restClient(node, "node-after")->allocate().ok);
}

TEST(AdminCli, RdvAdminOverTheApi) {
  Node node(nodeArgs());
  ASSERT_TRUE(node.started()) << node.log();
  TempDir dir;
  const std::string tokenFile = dir.file("token");
  {
    std::ofstream f(tokenFile);
    f << kToken << "\n";
  }
  const std::string url = "http://" + node.ready()["admin"].get<std::string>();
  auto rdv = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {binary("rdv"), "admin"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--node", url, "--token-file", tokenFile});
    return run(argv, std::chrono::seconds(20));
  };
  auto a = restClient(node, "node-cli");
  ASSERT_TRUE(a->allocate().ok);
  auto table = rdv({"allocations"});
  ASSERT_EQ(table.exitCode, 0) << table.err;
  EXPECT_NE(table.out.find("node-cli"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.rfind("id", 0), 0u) << table.out;  // a header line
  auto lines = rdv({"allocations", "--format", "json", "--identity", "node-cli"});
  ASSERT_EQ(lines.exitCode, 0) << lines.err;
  const auto row = nlohmann::json::parse(lines.out.substr(0, lines.out.find('\n')), nullptr, false);
  ASSERT_TRUE(row.is_object()) << lines.out;
  EXPECT_EQ(row["identity"], "node-cli");
  EXPECT_EQ(rdv({"end", std::to_string(row["id"].get<uint64_t>())}).exitCode, 0);
  EXPECT_EQ(rdv({"end", std::to_string(row["id"].get<uint64_t>())}).exitCode, 1);  // gone
  EXPECT_EQ(rdv({"ban", "node-cli", "--reason", "test"}).exitCode, 0);
  EXPECT_EQ(restClient(node, "node-cli")->allocate().error, 403);
  EXPECT_NE(rdv({"bans", "--format", "json"}).out.find("\"node-cli\""), std::string::npos);
  EXPECT_EQ(rdv({"unban", "node-cli"}).exitCode, 0);
  EXPECT_EQ(rdv({"drain"}).exitCode, 0);
  EXPECT_EQ(restClient(node, "node-d")->allocate().error, 508);  // no alternate-server: 508
  EXPECT_EQ(rdv({"drain", "--off"}).exitCode, 0);
  EXPECT_TRUE(restClient(node, "node-d2")->allocate().ok);
  // A wrong token: exit 1 with the reason.
  auto bad = run({binary("rdv"), "admin", "bans", "--node", url, "--token", "wrong-token-wrong-token"});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("401"), std::string::npos) << bad.err;
  auto none = run({binary("rdv"), "admin", "bans", "--node", url});
  EXPECT_EQ(none.exitCode, 2) << none.err;
}

}  // namespace
}  // namespace rdv::test
