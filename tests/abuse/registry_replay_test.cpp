// Attacks on the registry of a real rendezvousd (issue 12, item 5), from their own 127.x source
// addresses, bounded in count and time: a victim's record copied off a discover page and re-posted
// (bare, with its captured signature into other namespaces, after the victim's DELETE), and a write
// flood with fresh keys. After each an honest client on 127.0.0.1 still registers and discovers with
// rdv; the daemon's RSS stays within the stated bound.
#include <gtest/gtest.h>

#include <ctime>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/enr_record.h"
#include "rendezvous/registry/unregister_message.h"
#include "tests/abuse/hub_ws_client.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using abuse::httpFrom;
using Json = nlohmann::json;

// Signed times are unix milliseconds.
int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Json signedRegistration(const identity::PrivateKey& key, const std::string& ns, const std::string& enr, int64_t time) {
  auto record = enr::EnrRecord::fromText(enr).value();
  auto sig = key.sign(registry::registerDigest(ns, record.encoded(), 600, time)).value();
  return Json{{"namespace", ns}, {"enr", enr}, {"ttl", 600}, {"time", time}, {"signature", toHex(sig)}};
}

std::vector<std::string> idsIn(const std::string& sourceIp, const Node& node, const std::string& ns) {
  std::vector<std::string> ids;
  auto r = httpFrom(sourceIp, node.http(), "GET", "/v1/registrations?namespace=" + ns);
  if (r.status == 200)
    for (const auto& reg : r.body["registrations"]) ids.push_back(reg["node_id"]);
  return ids;
}

void expectHonestRegistration(const Node& node, const TempDir& dir, const std::string& ns) {
  SCOPED_TRACE("honest client in " + ns);
  const std::string url = "http://" + node.http();
  ASSERT_EQ(run({binary("rdv"), "key", "new", "--out", dir.file(ns + ".key")}).exitCode, 0);
  const auto t0 = std::chrono::steady_clock::now();
  auto reg = run({binary("rdv"), "register", "--node", url, "--namespace", ns, "--key", dir.file(ns + ".key"), "--udp", "4000"}, 20s);
  ASSERT_EQ(reg.exitCode, 0) << reg.err;
  auto found = run({binary("rdv"), "discover", "--node", url, "--namespace", ns}, 20s);
  ASSERT_EQ(found.exitCode, 0) << found.err;
  EXPECT_EQ(Json::parse(found.out)["registrations"].size(), 1u) << found.out;
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 10s);
  std::cout << "[ measured ] honest register+discover: " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms\n";
}

// The victim (127.0.0.1) registers in "chat" and later unregisters; the attacker (127.0.0.60) copies
// the record off the discover page and the victim's request off the wire, and tries every replay.
TEST(RegistryAbuse, ACopiedRecordCannotBeRepostedByAnotherClient) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const auto victim = identity::PrivateKey::generate().value();
  const std::string victimEnr = enr::EnrBuilder().setSeq(1).setUdp(4000).sign(victim).value().toText();
  const Json captured = signedRegistration(victim, "chat", victimEnr, unixNow());
  ASSERT_EQ(httpFrom("127.0.0.1", node.http(), "POST", "/v1/registrations", captured.dump()).status, 201);

  const std::string attacker = "127.0.0.60";
  // The record as a discover page shows it.
  auto page = httpFrom(attacker, node.http(), "GET", "/v1/registrations?namespace=chat");
  ASSERT_EQ(page.status, 200);
  const std::string copied = page.body["registrations"][0]["enr"];
  // 1. Bare, into other namespaces: 400 missing_proof (from its own address: these writes count against
  //    that address's write rate, 20 at once).
  for (int i = 0; i < 10; ++i) {
    auto r = httpFrom("127.0.0.59", node.http(), "POST", "/v1/registrations",
                      Json{{"namespace", "ns" + std::to_string(i)}, {"enr", copied}}.dump());
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body.value("error", ""), "missing_proof") << r.body.dump();
  }
  // 2. With the victim's captured proof, moved to another namespace: 422 bad_signature.
  Json moved = captured;
  moved["namespace"] = "elsewhere";
  auto r = httpFrom(attacker, node.http(), "POST", "/v1/registrations", moved.dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body.value("error", ""), "bad_signature");
  // 3. Signed by the attacker's own key over the victim's record: 422.
  const auto mallory = identity::PrivateKey::generate().value();
  r = httpFrom(attacker, node.http(), "POST", "/v1/registrations", signedRegistration(mallory, "elsewhere", copied, unixNow()).dump());
  EXPECT_EQ(r.status, 422);
  // 4. The captured request as is (a refresh the victim did not ask for): a replay, 401.
  r = httpFrom(attacker, node.http(), "POST", "/v1/registrations", captured.dump());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body.value("error", ""), "replayed_signature");
  // The victim unregisters; the attacker re-posts the captured registration: refused, and gone stays gone.
  const int64_t t = unixNow();
  auto sig = victim.sign(registry::unregisterDigest("chat", victim.nodeId(), 1, t)).value();
  const Json unreg = {{"namespace", "chat"}, {"node_id", victim.nodeId().hex()}, {"time", t}, {"signature", toHex(sig)}};
  ASSERT_EQ(httpFrom("127.0.0.1", node.http(), "DELETE", "/v1/registrations", unreg.dump()).status, 200);
  r = httpFrom(attacker, node.http(), "POST", "/v1/registrations", captured.dump());
  EXPECT_EQ(r.status, 401);
  EXPECT_TRUE(idsIn(attacker, node, "chat").empty());
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(idsIn(attacker, node, "ns" + std::to_string(i)).empty());
  EXPECT_TRUE(idsIn(attacker, node, "elsewhere").empty());
  // The victim's own DELETE replayed after it registers again: refused, the registration stays.
  ASSERT_EQ(httpFrom("127.0.0.1", node.http(), "POST", "/v1/registrations",
                     signedRegistration(victim, "chat", victimEnr, unixNow() + 1).dump())
                .status,
            201);
  r = httpFrom(attacker, node.http(), "DELETE", "/v1/registrations", unreg.dump());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(idsIn(attacker, node, "chat").size(), 1u);
  expectHonestRegistration(node, dir, "honest-after-replay");
}

// 8 attacker addresses (127.0.0.70-77) post registrations with fresh keys as fast as they can, 200
// each: each address gets its burst (20) and then 429; the node holds at most what the rate allows.
// Bound: RSS grows by less than 32 MiB.
TEST(RegistryAbuse, AWriteFloodIsLimitedPerAddress) {
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  int created = 0, limited = 0, other = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + 60s;
  for (int a = 0; a < 8; ++a) {
    const std::string ip = "127.0.0." + std::to_string(70 + a);
    for (int i = 0; i < 200 && std::chrono::steady_clock::now() < deadline; ++i) {
      const auto key = identity::PrivateKey::generate().value();
      const std::string enr = enr::EnrBuilder().setUdp(1).sign(key).value().toText();
      auto r = httpFrom(ip, node.http(), "POST", "/v1/registrations", signedRegistration(key, "flood", enr, unixNow()).dump());
      if (r.status == 201) ++created;
      else if (r.status == 429) ++limited;
      else ++other;
    }
  }
  std::cout << "[ measured ] registry flood: created " << created << ", 429 " << limited << ", other " << other << "\n";
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[ measured ] registry flood took " << seconds << " s\n";
  EXPECT_EQ(other, 0);
  EXPECT_GT(limited, 0);
  // Per address at most the burst (20) plus one per second of the flood (60/min).
  EXPECT_LE(created, 8 * (20 + static_cast<int>(seconds) + 1));
  expectHonestRegistration(node, dir, "honest-after-flood");
  const long rssAfter = node.process().rssKiB();
  std::cout << "[ measured ] RSS " << rssBefore << " KiB -> " << rssAfter << " KiB\n";
  EXPECT_LT(rssAfter - rssBefore, 32 * 1024);
}

}  // namespace
}  // namespace rdv::test
