// rendezvousd's configuration as an operator meets it: --help, files with comments, clear refusals.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

CommandResult node(std::vector<std::string> args) {
  args.insert(args.begin(), binary("rendezvousd"));
  return run(args, 10s);
}

// Every key of docs/operator.md's key table ("| key | default | meaning |": each backticked name in a row's
// first cell), so the list grows with the docs instead of being a copy that goes stale.
std::vector<std::string> documentedKeys() {
  std::ifstream in(std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/docs/operator.md");
  std::vector<std::string> keys;
  bool inTable = false;
  const std::regex name("`([a-z0-9-]+)`");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| key |", 0) == 0 || line.rfind("| Key |", 0) == 0) {  // the key table and the limit tables
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    if (line.rfind("|", 0) != 0) {
      inTable = false;
      continue;
    }
    const std::string first = line.substr(1, line.find('|', 1) - 1);
    for (std::sregex_iterator it(first.begin(), first.end(), name), end; it != end; ++it) keys.push_back((*it)[1].str());
  }
  return keys;
}

// The long options of `rendezvousd --help` (lines whose first word starts with --).
std::set<std::string> helpFlags(const std::string& help) {
  std::set<std::string> flags;
  const std::regex flag(R"(^\s+(--[a-z0-9-]+))");
  std::istringstream in(help);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, flag)) flags.insert(m[1].str());
  }
  return flags;
}

TEST(NodeConfig, HelpListsEveryKey) {
  auto r = node({"--help"});
  EXPECT_EQ(r.exitCode, 0);
  const auto keys = documentedKeys();
  EXPECT_GE(keys.size(), 40u) << "docs/operator.md's key table was not found or lost rows";
  const auto flags = helpFlags(r.out);
  for (const auto& key : keys) EXPECT_TRUE(flags.count("--" + key)) << "--" << key << " missing from --help";
  // And the other way: every option --help offers is a documented key or one of the command-line actions.
  const std::set<std::string> actions = {"--help",         "--version",      "--config", "--check-config", "--print-config",
                                         "--print-default-config", "--import-coturn-config"};
  const std::set<std::string> documented(keys.begin(), keys.end());
  for (const auto& f : flags)
    EXPECT_TRUE(actions.count(f) || documented.count(f.substr(2))) << f << " is in --help but not in docs/operator.md";
}

TEST(NodeConfig, EmbeddedDefaultIsLoopbackAndValid) {
  auto r = node({"--print-config"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["listen"], nlohmann::json::array({"127.0.0.1:3478"}));
}

TEST(NodeConfig, FileWithCommentsAndFlagOverride) {
  TempDir dir;
  std::ofstream(dir.file("node.json")) << "{\n  // a comment\n  \"listen\": [\"127.0.0.1:0\"],\n"
                                          "  /* block */ \"workers\": 2\n}\n";
  auto r = node({"--config", dir.file("node.json"), "--workers", "3", "--print-config"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["workers"], 3);
  EXPECT_EQ(j["listen"], nlohmann::json::array({"127.0.0.1:0"}));
}

struct Refusal {
  std::string file;          // config file content ("" = none)
  std::vector<std::string> flags;
  std::string mustMention;   // the key's name and the reason
};

TEST(NodeConfig, BadConfigurationIsRefusedWithKeyAndReason) {
  const std::vector<Refusal> cases = {
      {R"({"listen": ["127.0.0.1:0"], "lisen": 1})", {}, "unknown configuration key 'lisen'"},
      {R"({"workers": "two"})", {}, "'workers': expected a whole number"},
      {R"({"workers": 0})", {}, "'workers': must be between 1 and 64"},
      {R"({"listen": ["localhost"]})", {}, "'listen': 'localhost' is not ADDR:PORT"},
      {R"({"listen": [)", {}, "not valid JSON"},
      {"", {"--log-level", "loud"}, "'log-level': 'loud' is not one of"},
      {"", {"--tls-listen", "127.0.0.1:0"}, "'tls-listen': needs both 'cert' and 'key'"},
      {"", {"--alt-address", "127.0.0.1"}, "'alt-address': must differ"},
      {"", {"--alt-address", "::2"}, "'alt-address': must be of the same IP family"},
      {"", {"--alt-address", "nonsense"}, "'alt-address': 'nonsense' is not an IP address"},
      // Quota keys (issue 7): objects in the file, JSON text as flags.
      {R"({"quota-classes": {"gold": {"bytes-per-secnd": 1}}})", {}, "'quota-classes': class 'gold': unknown field 'bytes-per-secnd'"},
      {R"({"quota-classes": {"gold": {"burst": -1}}})", {}, "'quota-classes': class 'gold'.burst: expected a whole number"},
      {R"({"quota-classes": ["gold"]})", {}, "'quota-classes': expected a JSON object"},
      {"", {"--quota-classes", "{not json"}, "'quota-classes': expected a JSON object"},
      {"", {"--quota-members", R"({"node-a": "platinum"})"}, "'quota-members': quota-members: 'node-a' names unknown class 'platinum'"},
      {"", {"--quota-members", R"({"node-a": 7})"}, "'quota-members': 'node-a': expected a class name"},
      {"", {"--limited-class", R"({"bytes-per-second": 1000, "burst": 10})"}, "'limited-class': limited-class: burst 10"},
      {"", {"--bps-capacity", "-5"}, "'bps-capacity': expected a whole number"},
      {"", {"--bps-capacity", "1000"}, "'bps-capacity': bps-capacity: 1000 is below the largest datagram"},
      {"", {"--max-allocations", "lots"}, "'max-allocations': expected a whole number"},
      // Issue 12: a listen port inside the relay range; the TURN-TCP/TLS limits.
      {"", {"--listen", "127.0.0.1:50000"},
       "configuration key 'listen': port 50000 of 127.0.0.1:50000 lies inside 'relay-ports' 49152-65535"},
      {"", {"--listen", "127.0.0.1:3478", "--relay-ports", "3000-4000"}, "lies inside 'relay-ports' 3000-4000"},
      {"", {"--listen", "127.0.0.1:3478", "--alt-address", "127.0.0.2:50001"},
       "configuration key 'alt-address': port 50001 lies inside 'relay-ports'"},
      {"", {"--tcp-first-frame-timeout", "0"}, "'tcp-first-frame-timeout': must be between 1 and 300"},
      {"", {"--tcp-max-connections-per-ip", "0"}, "'tcp-max-connections-per-ip': must be between 1 and 100000"},
      {"", {"--tcp-idle-timeout", "1"}, "'tcp-idle-timeout': must be between 5 and 86400"},
      // Issue 12 item 8: guessable secrets (short, or a placeholder of the docs and configs/node.json).
      {"", {"--auth-secret", "s3cret"}, "configuration key 'auth-secret': too short (6 bytes, at least 16)"},
      {"", {"--auth-secret", "a-long-random-enough-secret", "--auth-secret", "old"}, "'auth-secret': too short (3 bytes"},
      {R"({"auth-secret": ["a-long-random-secret"]})", {}, "'auth-secret': is the documented placeholder \"a-long-random-secret\""},
      {"", {"--admin-token", "short-token"}, "configuration key 'admin-token': too short (11 bytes, at least 16)"},
      {"", {"--admin-token", "change-me-to-a-long-random-token"}, "'admin-token': is the documented placeholder"},
  };
  for (const auto& c : cases) {
    TempDir dir;
    std::vector<std::string> args = c.flags;
    if (!c.file.empty()) {
      std::ofstream(dir.file("c.json")) << c.file;
      args.insert(args.begin(), {"--config", dir.file("c.json")});
    }
    args.push_back("--check-config");
    auto r = node(args);
    EXPECT_EQ(r.exitCode, 2) << c.mustMention;
    EXPECT_NE(r.err.find(c.mustMention), std::string::npos) << "stderr: " << r.err << " expected: " << c.mustMention;
  }
}

// Not only --check-config: a start with a guessable secret ends with exit 2 naming the key, and a 16-byte
// secret is enough.
TEST(NodeConfig, GuessableSecretsRefusedAtStart) {
  TempDir dir;
  auto weak = node({"--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir", dir.file("d"),
                    "--auth-secret", "fifteen-bytes!!"});
  EXPECT_EQ(weak.exitCode, 2) << weak.err;
  EXPECT_NE(weak.err.find("configuration key 'auth-secret': too short (15 bytes"), std::string::npos) << weak.err;
  auto ok = node({"--listen", "127.0.0.1:0", "--data-dir", dir.file("d"), "--auth-secret", "sixteen-bytes!!!",
                  "--check-config"});
  EXPECT_EQ(ok.exitCode, 0) << ok.err;
}

TEST(NodeConfig, MissingConfigFileAndBusyPortAreClearErrors) {
  auto missing = node({"--config", "/nonexistent/node.json"});
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_NE(missing.err.find("cannot read config file '/nonexistent/node.json'"), std::string::npos) << missing.err;

  // Issue 12: a taken port on ANY listener ends with exit 2 and a message naming the listener and the
  // address (the HTTP one used to end in SIGSEGV after libwebsockets failed to create its vhost).
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  const std::string token = "an-admin-token-of-some-length";
  Node first({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key,
              "--admin-listen", "127.0.0.1:0", "--admin-token", token});
  ASSERT_TRUE(first.started()) << first.log();
  const std::string admin = first.ready()["admin"].get<std::string>();
  struct Busy {
    std::vector<std::string> flags;
    std::string mustMention;
  };
  const std::vector<Busy> cases = {
      {{"--listen", first.udp()}, "listen " + first.udp() + " (STUN/TURN over UDP and TCP): cannot bind"},
      {{"--listen", "127.0.0.1:0", "--tls-listen", first.tls(), "--cert", cert.cert, "--key", cert.key},
       "tls-listen " + first.tls() + " (TURN over TLS): cannot bind"},
      {{"--listen", "127.0.0.1:0", "--http-listen", first.http()}, "http-listen: cannot listen for HTTP on " + first.http()},
      {{"--listen", "127.0.0.1:0", "--admin-listen", admin, "--admin-token", token},
       "admin-listen: cannot listen for HTTP on " + admin},
  };
  for (const auto& c : cases) {
    TempDir data;
    auto args = c.flags;
    // The first node's ports are the kernel's picks, which may lie in the default relay range: move it.
    args.insert(args.end(), {"--relay-ports", "2000-2999", "--data-dir", data.file("d"), "--http-listen", "127.0.0.1:0"});
    if (std::find(c.flags.begin(), c.flags.end(), "--http-listen") != c.flags.end()) args.resize(args.size() - 2);
    auto busy = node(args);
    EXPECT_EQ(busy.exitCode, 2) << c.mustMention << "\n" << busy.err;
    EXPECT_NE(busy.err.find(c.mustMention), std::string::npos) << "stderr: " << busy.err << " expected: " << c.mustMention;
  }
  EXPECT_TRUE(first.process().running());
}

TEST(NodeConfig, SecondDaemonOnTheSameDataDirectoryIsRefused) {
  // Issue 12: two daemons on one data directory would both write its SQLite files, and the second would
  // mark the first one's live allocations "interrupted". The directory is locked (flock).
  Node first({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(first.started()) << first.log();
  const long pid = first.ready()["pid"].get<long>();
  auto second = node({"--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir", first.dataDir()});
  EXPECT_EQ(second.exitCode, 2) << second.err;
  const std::string expected =
      "data-dir '" + first.dataDir() + "' is in use by another rendezvousd (pid " + std::to_string(pid) + ")";
  EXPECT_NE(second.err.find(expected), std::string::npos) << second.err;
  EXPECT_TRUE(first.process().running());
  // The lock goes with the process, however it ends: after kill -9 the directory is free again.
  ASSERT_TRUE(first.process().stop(SIGKILL).has_value());
  Node third({"--listen", "127.0.0.1:0", "--data-dir", first.dataDir()});
  EXPECT_TRUE(third.started()) << third.log();
}

TEST(NodeConfig, JsonLogsAreOneObjectPerLine) {
  Node n({"--listen", "127.0.0.1:0", "--log-format", "json"});
  ASSERT_TRUE(n.started()) << n.log();
  n.process().stop(SIGTERM);
  std::istringstream lines(n.log());
  std::string line;
  int events = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j.contains("ts") && j.contains("level") && j.contains("event")) << line;
    ++events;
  }
  EXPECT_GE(events, 3);  // listening (udp, tcp), ready, stopping, stopped
}

}  // namespace
}  // namespace rdv::test
