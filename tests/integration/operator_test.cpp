// The operator's lifecycle against the real rendezvousd (issue 18): the default node's own auth-secret,
// --check-config, --import-coturn-config fed back to --check-config.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "relay/credentials.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

std::string slurpFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

CommandResult rendezvousd(std::vector<std::string> args) {
  args.insert(args.begin(), binary("rendezvousd"));
  return run(args, 20s);
}

// rdv ice-servers signed by a fresh key; returns the TURN server entry (username, credential).
nlohmann::json iceServers(const TempDir& dir, const Node& node) {
  if (!std::filesystem::exists(dir.file("peer.key"))) run({binary("rdv"), "key", "new", "--out", dir.file("peer.key")});
  auto r = run({binary("rdv"), "ice-servers", "--node", "http://" + node.http(), "--key", dir.file("peer.key")});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() ? j["iceServers"][1] : nlohmann::json();
}

TEST(Operator, DefaultNodeCreatesItsAuthSecretAndKeepsIt) {
  TempDir dir;
  const std::string data = dir.file("data");
  const std::string secretFile = data + "/auth-secret";
  std::string secret;
  {
    // The embedded default configuration (scripts/run-node.sh), on free loopback ports.
    Node node({"--listen", "127.0.0.1:0", "--data-dir", data});
    ASSERT_TRUE(node.started()) << node.log();
    const auto turn = iceServers(dir, node);
    ASSERT_TRUE(turn.is_object()) << node.log();
    struct stat st {};
    ASSERT_EQ(::stat(secretFile.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    secret = slurpFile(secretFile);
    ASSERT_EQ(secret.size(), 65u);  // 32 bytes in hex and a newline
    secret.pop_back();
    EXPECT_EQ(turn["credential"], relay::restPassword(relay::nodeCredentialSecret(secret), turn["username"].get<std::string>()));
    EXPECT_NE(node.log().find(secretFile), std::string::npos) << "the log says where the secret is\n" << node.log();
  }
  {
    Node again({"--listen", "127.0.0.1:0", "--data-dir", data});
    ASSERT_TRUE(again.started()) << again.log();
    const auto turn = iceServers(dir, again);
    EXPECT_EQ(slurpFile(secretFile), secret + "\n");
    EXPECT_EQ(turn["credential"], relay::restPassword(relay::nodeCredentialSecret(secret), turn["username"].get<std::string>()));
  }
}

TEST(Operator, AnOperatorsSecretIsKeptAndNoFileIsMade) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--data-dir", dir.file("data"), "--auth-secret", "operator-secret-0123"});
  ASSERT_TRUE(node.started()) << node.log();
  const auto turn = iceServers(dir, node);
  EXPECT_EQ(turn["credential"], relay::restPassword(relay::nodeCredentialSecret("operator-secret-0123"), turn["username"].get<std::string>()));
  EXPECT_FALSE(std::filesystem::exists(dir.file("data") + "/auth-secret"));
}

TEST(Operator, CheckConfigChecksWithoutBindingOrCreating) {
  TempDir dir;
  // A busy port is fine for the check (it binds nothing), and the data dir is not created.
  Node busy({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(busy.started());
  // (The busy port is a kernel pick, which may lie in the default relay range: the range moves off it.)
  auto ok = rendezvousd({"--listen", busy.udp(), "--relay-ports", "2000-2999", "--data-dir", dir.file("new/data"),
                         "--check-config"});
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
  EXPECT_EQ(ok.out, "ok\n");
  EXPECT_FALSE(std::filesystem::exists(dir.file("new")));

  // The same errors start-up gives: a key error, a TLS file that does not load, a data dir that is a file.
  std::ofstream(dir.file("plain")) << "x";
  const std::vector<std::vector<std::string>> bad = {
      {"--workers", "0"},
      {"--tls-listen", "127.0.0.1:0", "--cert", dir.file("missing.pem"), "--key", dir.file("missing.key")},
      {"--data-dir", dir.file("plain")},
  };
  for (const auto& flags : bad) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"};
    if (flags[0] != "--data-dir") args.insert(args.end(), {"--data-dir", dir.file("d")});
    args.insert(args.end(), flags.begin(), flags.end());
    auto start = rendezvousd(args);
    args.push_back("--check-config");
    auto check = rendezvousd(args);
    EXPECT_EQ(check.exitCode, 2) << flags[0];
    EXPECT_NE(start.exitCode, 0) << flags[0];
    EXPECT_EQ(check.out, "");
    ASSERT_FALSE(check.err.empty()) << flags[0];
    EXPECT_NE(start.err.find(check.err), std::string::npos) << "check: " << check.err << "start: " << start.err;
  }
}

TEST(Operator, ImportedCoturnConfigPassesCheckConfig) {
  TempDir dir;
  const auto cert = makeTestCertificate(dir);
  std::vector<std::string> files = {"/usr/share/doc/coturn/examples/etc/turnserver.conf"};
  std::ofstream(dir.file("hand.conf")) << "listening-ip=127.0.0.1\nlistening-port=0\nrealm=example.org\n"
                                          "user=alice:wonderland\nuse-auth-secret\nstatic-auth-secret=s3cret-0123456789\n"
                                          "cert=" << cert.cert << "\npkey=" << cert.key
                                       << "\ntls-listening-port=0\nallowed-peer-ip=10.1.0.0-10.1.1.255\n"
                                          "total-quota=100\nmax-bps=1000000\nno-multicast-peers\nstale-nonce=600\n";
  files.push_back(dir.file("hand.conf"));
  for (const auto& f : files) {
    if (!std::filesystem::exists(f)) continue;  // coturn's example: from scripts/install-deps.sh --test
    auto imported = rendezvousd({"--import-coturn-config", f});
    ASSERT_EQ(imported.exitCode, 0) << imported.err;
    std::ofstream(dir.file("node.json")) << imported.out;
    auto check = rendezvousd({"--config", dir.file("node.json"), "--data-dir", dir.file("d"), "--check-config"});
    EXPECT_EQ(check.exitCode, 0) << f << ": " << check.err << "\n" << imported.out;
  }
  auto hand = rendezvousd({"--import-coturn-config", dir.file("hand.conf")});
  EXPECT_NE(hand.out.find("// not mapped: stale-nonce (line 14)"), std::string::npos) << hand.out;
  // And the node runs on it.
  std::ofstream(dir.file("node.json")) << hand.out;
  Node node({"--config", dir.file("node.json")});
  ASSERT_TRUE(node.started()) << node.log();
  EXPECT_EQ(node.ready()["tls"].size(), 1u);
  auto missing = rendezvousd({"--import-coturn-config", dir.file("absent.conf")});
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_NE(missing.err.find("absent.conf"), std::string::npos);
}

// Every metric name configs/grafana-dashboard.json and configs/prometheus-alerts.yml use is exported by a live
// node (its admin listener, parsed by Prometheus' reference parser), so a renamed metric breaks this test and
// not a dashboard in production.
TEST(Operator, DashboardAndAlertMetricsExistOnALiveNode) {
  const std::string token = "test-admin-token-0123456789";
  std::set<std::string> referenced;
  const std::regex name(R"((^|[^A-Za-z0-9_:])(rendezvous_[a-z0-9_]+))");
  for (const char* file : {"/configs/grafana-dashboard.json", "/configs/prometheus-alerts.yml"}) {
    const std::string text = slurpFile(std::string(RDV_SOURCE_DIR_FOR_TESTS) + file);
    ASSERT_FALSE(text.empty()) << file;
    for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) referenced.insert((*it)[2].str());
  }
  EXPECT_GE(referenced.size(), 10u);
  Node node({"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--admin-token", token});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string url = "http://" + node.ready()["admin"].get<std::string>() + "/metrics";
  const std::string scraper = std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/prometheus_scrape.py";
  auto scrape = run({"/usr/bin/python3", scraper, url, token});
  ASSERT_EQ(scrape.exitCode, 0) << scrape.err;
  auto j = nlohmann::json::parse(scrape.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << scrape.out;
  std::set<std::string> exported;
  for (const auto& [sample, value] : j.items()) exported.insert(sample.substr(0, sample.find('{')));
  for (const auto& n : referenced) EXPECT_TRUE(exported.count(n)) << n << " is used in configs/ but not on /metrics";
  // The values the cost and lag panels divide by are there too.
  EXPECT_EQ(j.value(R"(rendezvous_cost_price_per_gigabyte{currency="USD",direction="to_peer"})", -1.0), 0.09);
  EXPECT_LT(j.value("rendezvous_ledger_flush_lag_seconds", 99.0), 5.0);
}

}  // namespace
}  // namespace rdv::test
