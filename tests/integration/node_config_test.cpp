// rendezvousd's configuration as an operator meets it: --help, files with comments, clear refusals.
#include <gtest/gtest.h>

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

TEST(NodeConfig, MissingConfigFileAndBusyPortAreClearErrors) {
  auto missing = node({"--config", "/nonexistent/node.json"});
  EXPECT_EQ(missing.exitCode, 2);
  EXPECT_NE(missing.err.find("cannot read config file '/nonexistent/node.json'"), std::string::npos) << missing.err;

  Node first({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(first.started());
  auto busy = node({"--listen", first.udp()});
  EXPECT_EQ(busy.exitCode, 1);
  EXPECT_NE(busy.err.find("cannot bind"), std::string::npos) << busy.err;
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
