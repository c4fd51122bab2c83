// The coturn importer (rendezvous/node/coturn_import): hand-written turnserver.conf files and coturn's own
// shipped example, each converted and then validated by the real configuration parser (configFromJson).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "rendezvous/node/config.h"
#include "rendezvous/node/coturn_import.h"

namespace rdv::node {
namespace {

using nlohmann::json;

bool mentions(const std::vector<std::string>& lines, const std::string& what) {
  for (const auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

TEST(CoturnImport, MapsEveryListedOption) {
  const auto r = importCoturnConfig(R"(# a hand-written coturn config
listening-port=3479
listening-ip=192.0.2.10
listening-ip=2001:db8::10
tls-listening-port=5350
relay-ip=192.0.2.11
external-ip=203.0.113.5/192.0.2.11
min-port=50000
max-port=50100
realm=example.org
lt-cred-mech
fingerprint
user=alice:wonderland
user=bob:0x0123456789abcdef0123456789abcdef
use-auth-secret
static-auth-secret=north-secret-0123456789
static-auth-secret="south-secret-0123456789"
allowed-peer-ip=10.0.0.5
allowed-peer-ip=10.0.1.0-10.0.1.255
denied-peer-ip=198.51.100.0/24
allow-loopback-peers
cert=/etc/ssl/turn.pem
pkey=/etc/ssl/turn.key
total-quota=1000
user-quota=12
max-bps=250000
no-tcp-relay
mobility
)");
  const json& j = r.config;
  EXPECT_EQ(j["listen"], json({"192.0.2.10:3479", "[2001:db8::10]:3479"}));
  EXPECT_EQ(j["tls-listen"], json({"192.0.2.10:5350", "[2001:db8::10]:5350"}));
  EXPECT_EQ(j["relay-address"], json({"192.0.2.11"}));
  EXPECT_EQ(j["external-address"], json({"203.0.113.5"}));
  EXPECT_EQ(j["relay-ports"], "50000-50100");
  EXPECT_EQ(j["realm"], "example.org");
  EXPECT_EQ(j["user"], json({"alice:wonderland"}));
  EXPECT_EQ(j["auth-secret"], json({"north-secret-0123456789", "south-secret-0123456789"}));
  EXPECT_EQ(j["allow-peer"], json({"10.0.0.5/32", "10.0.1.0/24", "127.0.0.0/8", "::1/128"}));
  EXPECT_EQ(j["deny-peer"], json({"198.51.100.0/24"}));
  EXPECT_EQ(j["cert"], "/etc/ssl/turn.pem");
  EXPECT_EQ(j["key"], "/etc/ssl/turn.key");
  EXPECT_EQ(j["max-allocations"], 1000);
  EXPECT_EQ(j["limited-class"]["allocations"], 12);
  EXPECT_EQ(j["limited-class"]["bytes-per-second"], 250000);
  EXPECT_EQ(j["quota-classes"]["coturn-users"]["bytes-per-second"], 250000);
  EXPECT_EQ(j["quota-members"]["alice"], "coturn-users");
  // What cannot be mapped is named with its line, never silently dropped; the password key of bob is not echoed.
  EXPECT_TRUE(mentions(r.unmapped, "user (line 14): a precomputed key")) << json(r.unmapped).dump();
  EXPECT_TRUE(mentions(r.unmapped, "no-tcp-relay (line 27)"));
  EXPECT_TRUE(mentions(r.unmapped, "mobility (line 28): no rendezvous equivalent"));
  EXPECT_EQ(r.unmapped.size(), 3u) << json(r.unmapped).dump();
  EXPECT_EQ(renderCoturnImport(r, "x").find("0123456789abcdef"), std::string::npos);
  auto parsed = configFromJson(j);
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->relayPorts.min, 50000);
}

TEST(CoturnImport, RangesBecomeTheSmallestCidrCover) {
  const auto r = importCoturnConfig("denied-peer-ip=10.0.0.3-10.0.0.17\nallowed-peer-ip=0.0.0.0-255.255.255.255\n");
  EXPECT_EQ(r.config["deny-peer"], json({"10.0.0.3/32", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/31"}));
  EXPECT_EQ(r.config["allow-peer"], json({"0.0.0.0/0"}));
}

TEST(CoturnImport, BadValuesAreNamedNotGuessed) {
  const auto r = importCoturnConfig(
      "listening-port=http\nlistening-ip=localhost\nmin-port=60000\nmax-port=50000\nallowed-peer-ip=10.0.0.9-10.0.0.1\n"
      "use-auth-secret\nstatic-auth-secret=only-with-use-auth-secret\nmax-allocate-lifetime=60\n--realm=a\nrealm b\n");
  EXPECT_TRUE(mentions(r.unmapped, "listening-port (line 1): not a port number"));
  EXPECT_TRUE(mentions(r.unmapped, "listening-ip (line 2): not an IP address"));
  EXPECT_TRUE(mentions(r.unmapped, "min-port is above max-port"));
  EXPECT_TRUE(mentions(r.unmapped, "allowed-peer-ip (line 5)"));
  EXPECT_TRUE(mentions(r.unmapped, "max-allocate-lifetime (line 8)"));
  EXPECT_TRUE(mentions(r.unmapped, "realm (line 10): rendezvous has one realm"));
  EXPECT_EQ(r.config["realm"], "a");  // `--name=value` and `name value` are coturn syntax too
  EXPECT_EQ(r.config["listen"], json({"0.0.0.0:3478"}));
  EXPECT_EQ(r.config["auth-secret"], json({"only-with-use-auth-secret"}));
  EXPECT_FALSE(r.config.contains("relay-ports"));
  EXPECT_TRUE(configFromJson(r.config)) << r.config.dump();
}

TEST(CoturnImport, SecretWithoutUseAuthSecretIsNotSilentlyEnabled) {
  const auto r = importCoturnConfig("static-auth-secret=s\n");
  EXPECT_FALSE(r.config.contains("auth-secret"));
  EXPECT_TRUE(mentions(r.unmapped, "static-auth-secret: ignored by coturn without use-auth-secret"));
}

TEST(CoturnImport, RenderedTextIsAValidConfigurationFile) {
  const auto r = importCoturnConfig("listening-ip=127.0.0.1\nuser=a:b\nsyslog\n");
  const std::string text = renderCoturnImport(r, "turnserver.conf");
  EXPECT_NE(text.find("// not mapped: syslog (line 3)"), std::string::npos) << text;
  auto j = parseConfigText(text, "import");
  ASSERT_TRUE(j) << j.error();
  EXPECT_TRUE(configFromJson(*j)) << text;
}

// coturn's shipped example (Debian's coturn package): every line is a comment or a valid option.
TEST(CoturnImport, CoturnsShippedExampleConverts) {
  std::string path;
  for (const char* p : {"/usr/share/doc/coturn/examples/etc/turnserver.conf", "/etc/turnserver.conf"})
    if (std::ifstream(p).good()) {
      path = p;
      break;
    }
  if (path.empty()) GTEST_SKIP() << "coturn's example turnserver.conf is not installed";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto r = importCoturnConfig(text.str());
  auto j = parseConfigText(renderCoturnImport(r, path), path);
  ASSERT_TRUE(j) << j.error();
  auto parsed = configFromJson(*j);
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error()) << "\n" << r.config.dump(2);
  // Every active line of the file is either mapped or listed as not mapped.
  size_t active = 0;
  std::istringstream lines(text.str());
  for (std::string l; std::getline(lines, l);)
    if (!l.empty() && l[0] != '#' && l.find_first_not_of(" \t\r") != std::string::npos) ++active;
  EXPECT_LE(r.unmapped.size(), active);
  EXPECT_GT(active, 0u);
}

// The same example with every commented-out option turned on (`#name=value` -> `name=value`): coturn's own
// sample values for every option it documents, converted and accepted by the configuration parser.
TEST(CoturnImport, CoturnsExampleWithEveryOptionOnConverts) {
  std::ifstream in("/usr/share/doc/coturn/examples/etc/turnserver.conf");
  if (!in) GTEST_SKIP() << "coturn's example turnserver.conf is not installed";
  std::string text;
  const std::regex option(R"(^#([a-zA-Z][a-zA-Z0-9-]*)(=.*)?$)");
  size_t options = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, option)) {
      text += line.substr(1) + "\n";
      ++options;
    } else {
      text += "#\n";  // keep the line numbers
    }
  }
  ASSERT_GT(options, 50u);
  const auto r = importCoturnConfig(text);
  // coturn's sample secret ("north") is carried over and then refused by the node as too short (issue 12
  // item 8), naming the key; with a real secret the rest is accepted.
  json config = r.config;
  auto weak = configFromJson(config);
  ASSERT_FALSE(weak);
  EXPECT_NE(weak.error().find("configuration key 'auth-secret': too short"), std::string::npos) << weak.error();
  config["auth-secret"] = json({"an-operators-long-random-secret"});
  auto parsed = configFromJson(config);
  ASSERT_TRUE(parsed) << parsed.error() << "\n" << config.dump(2);
  EXPECT_EQ(r.config["realm"], "mycompany.org");
  EXPECT_FALSE(r.config["listen"].empty());
  EXPECT_FALSE(r.config["user"].empty());
  // A user named twice keeps its first password, and says so.
  EXPECT_TRUE(mentions(r.unmapped, "again: the first is kept")) << json(r.unmapped).dump(1);
  std::set<std::string> names;
  for (const auto& u : r.config["user"]) EXPECT_TRUE(names.insert(u.get<std::string>().substr(0, u.get<std::string>().find(':'))).second);
}

}  // namespace
}  // namespace rdv::node
