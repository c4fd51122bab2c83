// Ledger privacy (issue 18) on the real ledger: ledger-client-address keeps the full address, its /24
// (or /48) or nothing; ledger-retention-days deletes old rows at start.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/integration/harness.h"
#include "tests/integration/turn_test_client.h"

namespace rdv::test {
namespace {

constexpr const char* kSecret = "ledger-privacy-secret-0001";

std::string sql(const std::string& db, const std::string& query) {
  const auto r = run({"sqlite3", db, query}, std::chrono::seconds(10));
  EXPECT_EQ(r.exitCode, 0) << r.err;
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// One allocation of `id`, then SIGTERM (the ledger writes everything); returns the database path.
std::string allocateOnceAndStop(const std::string& dataDir, const std::vector<std::string>& extra, const std::string& id) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--auth-secret", kSecret, "--data-dir", dataDir,
                                   "--log-format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  Node node(args);
  EXPECT_TRUE(node.started()) << node.log();
  const std::string user = restUsername(id, 3600);
  TurnTestClient client(Endpoint(*IpAddress::parse("127.0.0.1"), node.udpPort()), user, restPassword(kSecret, user));
  EXPECT_TRUE(client.allocate().ok) << node.log();
  EXPECT_TRUE(node.process().stop(SIGTERM));
  return dataDir + "/rendezvous.db";
}

TEST(LedgerPrivacy, ClientAddressFullPrefixOrNone) {
  TempDir dir;
  for (const auto& [mode, expected] : std::vector<std::pair<std::string, std::string>>{
           {"full", "127.0.0.1:"}, {"prefix", "127.0.0.0/24"}, {"none", ""}}) {
    const std::string db = allocateOnceAndStop(dir.file("data-" + mode), {"--ledger-client-address", mode}, "id-" + mode);
    const std::string client = sql(db, "SELECT client FROM allocations");
    if (mode == "full") EXPECT_EQ(client.rfind(expected, 0), 0u) << client;
    else EXPECT_EQ(client, expected) << mode;
  }
  const auto bad = run({binary("rendezvousd"), "--ledger-client-address", "partial", "--check-config"});
  EXPECT_EQ(bad.exitCode, 2);
  EXPECT_NE(bad.err.find("ledger-client-address"), std::string::npos) << bad.err;
}

TEST(LedgerPrivacy, RetentionDeletesOldRowsAtStart) {
  TempDir dir;
  const std::string data = dir.file("data");
  const std::string db = allocateOnceAndStop(data, {}, "old-id");
  ASSERT_EQ(sql(db, "SELECT count(*) FROM allocations"), "1");
  // Age the booked rows by 40 days.
  sql(db, "UPDATE allocations SET started = started - 3456000, ended = ended - 3456000; "
          "UPDATE identity_days SET day = '2000-01-01'; UPDATE node_hours SET hour_start = hour_start - 3456000");
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", kSecret, "--data-dir", data, "--log-format", "json",
             "--ledger-retention-days", "30"});
  ASSERT_TRUE(node.started()) << node.log();
  ASSERT_TRUE(waitUntil([&] { return node.log().find("\"event\":\"ledger-retention\"") != std::string::npos; },
                        std::chrono::seconds(5)))
      << node.log();
  const std::string user = restUsername("new-id", 3600);
  TurnTestClient client(Endpoint(*IpAddress::parse("127.0.0.1"), node.udpPort()), user, restPassword(kSecret, user));
  ASSERT_TRUE(client.allocate().ok);
  ASSERT_TRUE(node.process().stop(SIGTERM));
  EXPECT_EQ(sql(db, "SELECT identity FROM allocations"), "new-id");  // the old row is gone, the new one stays
  EXPECT_EQ(sql(db, "SELECT count(*) FROM identity_days WHERE day = '2000-01-01'"), "0");
}

}  // namespace
}  // namespace rdv::test
