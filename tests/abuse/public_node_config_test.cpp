// Running a public node (issue 12, items 4 and 8) as the operator meets it with the real rendezvousd:
// secrets from private files (a group/world-readable one is refused with exit 2 naming the key, like ssh),
// the warning for secrets given as flags, and the limits derived from the machine in --print-config.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "stun/integrity.h"
#include "tests/abuse/abuse_support.h"
#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

CommandResult node(std::vector<std::string> args) {
  args.insert(args.begin(), binary("rendezvousd"));
  return run(args, 10s);
}

std::string writeFile(const TempDir& dir, const std::string& name, const std::string& text, mode_t mode) {
  const std::string path = dir.file(name);
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

TEST(PublicNodeConfig, SecretFilesReadableByOthersAreRefusedWithExit2) {
  TempDir dir;
  const std::string open = writeFile(dir, "secrets", "file-secret-0123456789abcdef\n", 0644);
  auto r = node({"--listen", "127.0.0.1:0", "--auth-secret-file", open, "--check-config"});
  EXPECT_EQ(r.exitCode, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("configuration key 'auth-secret-file'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(mode 0644)"), std::string::npos) << r.err;
  const std::string users = writeFile(dir, "users", "alice:wonderland-pw\n", 0640);
  r = node({"--listen", "127.0.0.1:0", "--users-file", users, "--data-dir", dir.file("data")});
  EXPECT_EQ(r.exitCode, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("configuration key 'users-file'"), std::string::npos) << r.err;
  r = node({"--listen", "127.0.0.1:0", "--admin-token-file", dir.file("missing"), "--check-config"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("'admin-token-file'"), std::string::npos) << r.err;
}

TEST(PublicNodeConfig, SecretsFromFilesWorkAndFlagsAreWarnedAbout) {
  TempDir dir;
  const std::string secrets =
      writeFile(dir, "secrets", "# current first\nnew-file-secret-0123456789\nold-file-secret-0123456789\n", 0600);
  // carol by coturn's key form: MD5(carol:rendezvous:carol-pw), the node's default realm.
  const std::string carolKey = toHex(stun::longTermKey("carol", "rendezvous", "carol-pw", stun::PasswordAlgorithm::Md5));
  const std::string users = writeFile(dir, "users", "alice:wonderland-pw\ncarol:0x" + carolKey + "\n", 0600);
  const std::string token = writeFile(dir, "token", "admin-file-token-0123456789\n", 0400);
  Node n({"--listen", "127.0.0.1:0", "--auth-secret-file", secrets, "--users-file", users, "--admin-token-file", token,
          "--admin-listen", "127.0.0.1:0", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(n.started()) << n.log();
  EXPECT_EQ(n.log().find("secret-on-command-line"), std::string::npos) << n.log();
  const Endpoint server = *Endpoint::parse(n.udp());
  TurnTestClient alice(server, "alice", "wonderland-pw");
  EXPECT_TRUE(alice.allocate().ok) << n.log();
  TurnTestClient carol(server, "carol", "carol-pw");
  EXPECT_TRUE(carol.allocate().ok) << "a users-file key line authenticates (MD5)";
  const std::string user = restUsername("app-1");
  TurnTestClient rotated(server, user, restPassword("old-file-secret-0123456789", user));
  EXPECT_TRUE(rotated.allocate().ok) << "the second line is still accepted";
  TurnTestClient wrong(server, user, restPassword("not-a-secret-of-this-node", user));
  EXPECT_EQ(wrong.allocate().error, 401);
  // The admin API takes the file's token.
  const Endpoint admin = *Endpoint::parse(n.ready()["admin"].get<std::string>());
  EXPECT_EQ(abuse::httpGetFrom(abuse::loopback(1), admin, "/metrics", "admin-file-token-0123456789").substr(0, 12),
            "HTTP/1.1 200");
  EXPECT_EQ(abuse::httpGetFrom(abuse::loopback(1), admin, "/metrics", "inline-is-not-set-0123456").substr(0, 12),
            "HTTP/1.1 401");

  Node flagged({"--listen", "127.0.0.1:0", "--auth-secret", "flag-secret-0123456789ab"});
  ASSERT_TRUE(flagged.started()) << flagged.log();
  EXPECT_NE(flagged.log().find("secret-on-command-line"), std::string::npos) << flagged.log();
  EXPECT_NE(flagged.log().find("auth-secret-file"), std::string::npos) << flagged.log();
}

TEST(PublicNodeConfig, PrintConfigShowsTheDerivedLimitsAndKeepsExplicitOnes) {
  auto r = node({"--listen", "127.0.0.1:0", "--relay-ports", "40000-40099", "--print-config"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  ASSERT_TRUE(j["max-allocations"].is_number_unsigned()) << r.out;
  EXPECT_GE(j["max-allocations"].get<uint64_t>(), 1u);
  EXPECT_LE(j["max-allocations"].get<uint64_t>(), 100u);  // never more than the relay ports
  ASSERT_TRUE(j["bps-capacity"].is_number_unsigned()) << r.out;
  EXPECT_GE(j["bps-capacity"].get<uint64_t>(), 65535u);
  r = node({"--listen", "127.0.0.1:0", "--max-allocations", "0", "--bps-capacity", "0", "--print-config"});
  j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["max-allocations"], 0);
  EXPECT_EQ(j["bps-capacity"], 0);
}

}  // namespace
}  // namespace rdv::test
