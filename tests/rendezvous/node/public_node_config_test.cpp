// Running a public node (issue 12): the limits derived from the machine (pure formula, made-up machines),
// secrets read from files (refused when group/world accessible, like ssh), and the hoarding keys.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "rendezvous/node/config.h"
#include "rendezvous/node/machine_defaults.h"
#include "rendezvous/node/secret_files.h"

namespace rdv::node {
namespace {

TEST(MachineDefaults, TheSmallestOfPortsFilesAndMemoryAndTheNicSpeed) {
  MachineFacts m;
  m.openFiles = 1'048'576;
  m.memoryBytes = 64ull << 30;
  m.nicBitsPerSecond = 10'000'000'000;
  DerivedLimits d = deriveLimits(m, 16384);
  EXPECT_EQ(d.maxAllocations, 16384u);  // the relay ports
  EXPECT_EQ(d.bpsCapacity, 1'250'000'000u);
  m.openFiles = 1024;  // a default ulimit -n
  EXPECT_EQ(deriveLimits(m, 16384).maxAllocations, 512u);
  m.openFiles = 1'048'576;
  m.memoryBytes = 512ull << 20;  // 512 MiB: a quarter of it at 64 KiB each
  EXPECT_EQ(deriveLimits(m, 16384).maxAllocations, 2048u);
  m.nicBitsPerSecond = 0;  // virtual NICs report no speed: 1 Gbit/s
  EXPECT_EQ(deriveLimits(m, 16384).bpsCapacity, 125'000'000u);
  EXPECT_EQ(deriveLimits(MachineFacts{0, 0, 0}, 0).maxAllocations, 1u);
}

TEST(MachineDefaults, AppliedOnlyToKeysTheConfigurationDoesNotSet) {
  MachineFacts m{4096, 8ull << 30, 1'000'000'000};
  nlohmann::json j = {{"bps-capacity", 0}};
  Config c;
  applyMachineDefaults(j, c, m);
  EXPECT_EQ(j["max-allocations"], 2048);
  EXPECT_EQ(c.quota.maxAllocations, 2048u);
  EXPECT_EQ(j["bps-capacity"], 0);  // 0 set explicitly: unlimited stays unlimited
  EXPECT_EQ(c.quota.bpsCapacity, 0u);
}

struct SecretFile {
  explicit SecretFile(const std::string& text, mode_t mode) {
    path = (std::filesystem::temp_directory_path() / ("rdv-secret-" + std::to_string(::getpid()) + "-" +
                                                      std::to_string(counter++))).string();
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
  }
  ~SecretFile() { std::filesystem::remove(path); }
  std::string path;
  static inline int counter = 0;
};

Result<Config, std::string> load(const nlohmann::json& extra) {
  nlohmann::json j = {{"listen", {"127.0.0.1:0"}}};
  for (const auto& [k, v] : extra.items()) j[k] = v;
  return configFromJson(j);
}

TEST(SecretFiles, AuthSecretsUsersAndAdminTokenFromPrivateFiles) {
  SecretFile secrets("# rotated 2026-12\nnew-secret-0123456789abcdef\n\nold-secret-0123456789abcdef\r\n", 0600);
  SecretFile users("alice:wonderland-password\n  bob:builder:with:colons\ncarol:0x0123456789abcdef0123456789ABCDEF\n",
                   0400);
  SecretFile token("admin-token-0123456789abcdef\n", 0600);
  auto c = load({{"auth-secret", {"inline-secret-0123456789abc"}}, {"auth-secret-file", secrets.path},
                 {"user", {"carol:inline"}}, {"users-file", users.path}, {"admin-token-file", token.path},
                 {"admin-listen", "127.0.0.1:0"}});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->authSecrets, (std::vector<std::string>{"inline-secret-0123456789abc", "new-secret-0123456789abcdef",
                                                      "old-secret-0123456789abcdef"}));
  ASSERT_EQ(c->users.size(), 4u);
  EXPECT_EQ(c->users[1].name, "alice");
  EXPECT_EQ(c->users[2].name, "bob");
  EXPECT_EQ(c->users[2].password, "builder:with:colons");
  EXPECT_TRUE(c->users[2].md5Key.empty());
  EXPECT_EQ(c->users[3].name, "carol");  // coturn's key form: the MD5 key, no password
  EXPECT_EQ(c->users[3].password, "");
  EXPECT_EQ(toHex(c->users[3].md5Key), "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(c->adminToken, "admin-token-0123456789abcdef");
}

TEST(SecretFiles, GroupOrWorldAccessibleMissingEmptyOrWeakAreRefusedNamingTheKey) {
  SecretFile readable("new-secret-0123456789abcdef\n", 0644);
  auto c = load({{"auth-secret-file", readable.path}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("configuration key 'auth-secret-file'"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("mode 0644"), std::string::npos) << c.error();
  EXPECT_NE(c.error().find("chmod 600"), std::string::npos) << c.error();
  SecretFile groupWritable("alice:pw\n", 0620);
  c = load({{"users-file", groupWritable.path}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("'users-file'"), std::string::npos) << c.error();
  c = load({{"admin-token-file", "/nonexistent/token"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("'admin-token-file': '/nonexistent/token' cannot be read"), std::string::npos) << c.error();
  SecretFile empty("# nothing\n\n", 0600);
  c = load({{"auth-secret-file", empty.path}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("holds no entry"), std::string::npos) << c.error();
  SecretFile weak("short\n", 0600);
  c = load({{"auth-secret-file", weak.path}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("line 1: too short"), std::string::npos) << c.error();
  SecretFile badUser("nocolon\n", 0600);
  c = load({{"users-file", badUser.path}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("line 1: not NAME:PASSWORD"), std::string::npos) << c.error();
}

TEST(PublicNodeKeys, HoardingKeysAndTheirRanges) {
  auto c = load({{"allocate-rate-per-ip", 3}, {"allocate-burst-per-ip", 7}, {"limited-max-share", 0.25},
                 {"relay-ports", "50000-50999"}});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->allocateRatePerIp, 3u);
  EXPECT_EQ(c->allocateBurstPerIp, 7u);
  EXPECT_DOUBLE_EQ(c->quota.limitedMaxShare, 0.25);
  EXPECT_EQ(c->quota.relayPortCount, 1000u);
  EXPECT_FALSE(load({{"limited-max-share", 1.5}}));
  EXPECT_FALSE(load({{"allocate-rate-per-ip", 0}}));
  EXPECT_TRUE(isReloadableKey("max-allocations"));
}

}  // namespace
}  // namespace rdv::node
