// The registry HTTP API of the real rendezvousd (docs/registry.md), driven by rdv and by raw HTTP:
// round trips, cookie paging, every error status, signed unregister, kill -9 durability, expiry,
// and the node's own record.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <map>

#include "rendezvous/enr/base64url.h"
#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"
#include "rendezvous/base/address.h"
#include "rendezvous/storage/database.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using Json = nlohmann::json;

struct Reply {
  int status = 0;
  Json body;  // discarded when not JSON
};

// One HTTP/1.1 request on a fresh connection to "127.0.0.1:PORT", read to the close.
Reply http(const std::string& hostPort, const std::string& method, const std::string& target,
           const std::string& body = {}) {
  auto ep = Endpoint::parse(hostPort);
  EXPECT_TRUE(ep.has_value()) << hostPort;
  if (!ep) return {};
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_storage ss{};
  const unsigned len = ep->toSockaddr(ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    ::close(fd);
    ADD_FAILURE() << "connect " << hostPort;
    return {};
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + hostPort + "\r\nConnection: close\r\n";
  if (!body.empty() || method != "GET")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  for (size_t off = 0; off < req.size();) {
    const ssize_t n = ::send(fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the node may answer 413 and close before reading everything
    off += static_cast<size_t>(n);
  }
  std::string in;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) in.append(buf, static_cast<size_t>(n));
  ::close(fd);
  Reply r;
  if (in.rfind("HTTP/1.1 ", 0) != 0) return r;
  r.status = std::stoi(in.substr(9, 3));
  const auto end = in.find("\r\n\r\n");
  if (end != std::string::npos) r.body = Json::parse(in.substr(end + 4), nullptr, false);
  return r;
}

identity::PrivateKey newKey() { return identity::PrivateKey::generate().value(); }

// The key of every record record() made: post() signs the registration with it (proof of possession).
std::map<std::string, identity::PrivateKey>& keyOfRecord() {
  static std::map<std::string, identity::PrivateKey> keys;
  return keys;
}

std::string record(const identity::PrivateKey& key, uint64_t seq = 1, uint16_t udp = 30303) {
  std::string text = enr::EnrBuilder().setSeq(seq).setIp({10, 0, 0, 1}).setUdp(udp).sign(key).value().toText();
  keyOfRecord().emplace(text, key);
  return text;
}

// Signed times are unix milliseconds.
int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The request body of docs/registry.md: the record, and its key's signature over (namespace, ttl, time).
Json signedRegistration(const identity::PrivateKey& key, const std::string& ns, const std::string& enr,
                        std::optional<int64_t> ttl, int64_t time) {
  auto parsed = enr::EnrRecord::fromText(enr).value();
  const uint64_t signedTtl = ttl ? static_cast<uint64_t>(std::max<int64_t>(*ttl, 0)) : 0;
  auto sig = key.sign(registry::registerDigest(ns, parsed.encoded(), signedTtl, time)).value();
  Json body = {{"namespace", ns}, {"enr", enr}, {"time", time}, {"signature", toHex(sig)}};
  if (ttl) body["ttl"] = *ttl;
  return body;
}

Reply post(const Node& node, const std::string& ns, const std::string& enr, std::optional<int64_t> ttl = {}) {
  Json body = {{"namespace", ns}, {"enr", enr}};
  if (ttl) body["ttl"] = *ttl;
  if (auto key = keyOfRecord().find(enr); key != keyOfRecord().end())
    body = signedRegistration(key->second, ns, enr, ttl, unixNow());
  return http(node.http(), "POST", "/v1/registrations", body.dump());
}

Reply discover(const Node& node, const std::string& ns, const std::string& extra = {}) {
  return http(node.http(), "GET", "/v1/registrations?namespace=" + ns + extra);
}

std::vector<std::string> nodeIds(const Reply& r) {
  std::vector<std::string> ids;
  if (!r.body.is_object()) return ids;
  for (const auto& reg : r.body["registrations"]) ids.push_back(reg["node_id"]);
  return ids;
}

std::string deleteBody(const std::string& ns, const identity::NodeId& id, const identity::PrivateKey& signer,
                       uint64_t seq) {
  const int64_t now = unixNow();
  auto sig = signer.sign(registry::unregisterDigest(ns, id, seq, now)).value();
  return Json{{"namespace", ns}, {"node_id", id.hex()}, {"time", now}, {"signature", toHex(sig)}}.dump();
}

void expectError(const Reply& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body.dump();
  ASSERT_TRUE(r.body.is_object()) << "status " << r.status;
  EXPECT_EQ(r.body.value("error", ""), code) << r.body.dump();
  EXPECT_FALSE(r.body.value("message", "").empty());
}

Node startNode(std::vector<std::string> extra = {}) {
  // Many writes from one address: the per-IP write rate is not what these tests are about.
  std::vector<std::string> args{"--listen", "127.0.0.1:0", "--registry-writes-per-minute", "100000",
                                "--registry-write-burst", "100000"};
  args.insert(args.end(), extra.begin(), extra.end());
  return Node(args);
}

TEST(RegistryApi, RoundTripWithRdv) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  TempDir dir;
  const std::string url = "http://" + node.http();
  auto key = run({binary("rdv"), "key", "new", "--out", dir.file("peer.key")});
  ASSERT_EQ(key.exitCode, 0) << key.err;
  const std::string nodeId = key.out.substr(0, 64);

  auto reg = run({binary("rdv"), "register", "--node", url, "--namespace", "chat/room 1", "--key", dir.file("peer.key"),
                  "--ip", "192.0.2.7", "--udp", "4000", "--set", "nat=eim/apdf", "--ttl", "600"});
  ASSERT_EQ(reg.exitCode, 0) << reg.err;
  auto ack = Json::parse(reg.out);
  EXPECT_EQ(ack["namespace"], "chat/room 1");
  EXPECT_EQ(ack["node_id"], nodeId);
  EXPECT_EQ(ack["seq"], 1);
  EXPECT_EQ(ack["ttl"], 600);

  auto found = run({binary("rdv"), "discover", "--node", url, "--namespace", "chat/room 1"});
  ASSERT_EQ(found.exitCode, 0) << found.err;
  auto page = Json::parse(found.out);  // one JSON document
  ASSERT_EQ(page["registrations"].size(), 1u) << found.out;
  const auto& entry = page["registrations"][0];
  EXPECT_EQ(entry["node_id"], nodeId);
  EXPECT_EQ(entry["seq"], 1);
  EXPECT_GT(entry["ttl_remaining"].get<int>(), 590);
  EXPECT_LE(entry["ttl_remaining"].get<int>(), 600);
  auto decoded = run({binary("rdv"), "enr", "decode", entry["enr"]});
  ASSERT_EQ(decoded.exitCode, 0) << decoded.err;
  auto keys = Json::parse(decoded.out)["keys"];
  EXPECT_EQ(keys["ip"], "192.0.2.7");
  EXPECT_EQ(keys["nat"], "eim/apdf");

  // The same record again refreshes; seq 2 replaces; an existing record registers with --enr.
  EXPECT_EQ(run({binary("rdv"), "register", "--node", url, "--namespace", "other", "--enr", entry["enr"], "--key",
                 dir.file("peer.key")})
                .exitCode,
            0);
  // Without the record's key, an existing record cannot be registered (proof of possession).
  auto keyless = run({binary("rdv"), "register", "--node", url, "--namespace", "other", "--enr", entry["enr"]});
  EXPECT_EQ(keyless.exitCode, 1);
  EXPECT_NE(keyless.err.find("--key"), std::string::npos) << keyless.err;
  auto stale = run({binary("rdv"), "register", "--node", url, "--namespace", "chat/room 1", "--key",
                    dir.file("peer.key"), "--seq", "1", "--udp", "4001"});
  EXPECT_EQ(stale.exitCode, 1);
  EXPECT_NE(stale.err.find("HTTP 409"), std::string::npos) << stale.err;

  // rdv unregister signs over the registered seq.
  auto unreg = run({binary("rdv"), "unregister", "--node", url, "--namespace", "chat/room 1", "--key",
                    dir.file("peer.key"), "--seq", "1"});
  EXPECT_EQ(unreg.exitCode, 0) << unreg.err;
  auto empty = run({binary("rdv"), "discover", "--node", url, "--namespace", "chat/room 1"});
  EXPECT_EQ(Json::parse(empty.out)["registrations"].size(), 0u) << empty.out;

  // Errors are reported with the status and the node's code, exit 1.
  auto bad = run({binary("rdv"), "discover", "--node", url, "--namespace", "x", "--limit", "5000"});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("HTTP 400 invalid_limit"), std::string::npos) << bad.err;
  auto down = run({binary("rdv"), "discover", "--node", "http://127.0.0.1:1", "--namespace", "x"});
  EXPECT_EQ(down.exitCode, 1);
  EXPECT_FALSE(down.err.empty());
}

TEST(RegistryApi, RawHttpCookiePagingReturnsOnlyNewRecords) {
  Node node = startNode();
  ASSERT_TRUE(node.started()) << node.log();
  std::vector<identity::PrivateKey> keys;
  for (int i = 0; i < 3; ++i) {
    keys.push_back(newKey());
    auto r = post(node, "paging", record(keys.back()));
    ASSERT_EQ(r.status, 201) << r.body.dump();
    EXPECT_EQ(r.body["ttl"], 7200);  // the default
  }
  auto first = discover(node, "paging", "&limit=2");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(nodeIds(first), (std::vector<std::string>{keys[0].nodeId().hex(), keys[1].nodeId().hex()}));
  const std::string c1 = first.body["cookie"];
  auto second = discover(node, "paging", "&limit=2&cookie=" + c1);
  EXPECT_EQ(nodeIds(second), (std::vector<std::string>{keys[2].nodeId().hex()}));
  const std::string c2 = second.body["cookie"];
  EXPECT_TRUE(nodeIds(discover(node, "paging", "&cookie=" + c2)).empty());

  // Something new, an update (seq 2) and a refresh (same record): only the first two come back.
  keys.push_back(newKey());
  ASSERT_EQ(post(node, "paging", record(keys[3])).status, 201);
  ASSERT_EQ(post(node, "paging", record(keys[0], 2)).status, 201);
  ASSERT_EQ(post(node, "paging", record(keys[1])).status, 201);
  auto third = discover(node, "paging", "&cookie=" + c2);
  EXPECT_EQ(nodeIds(third), (std::vector<std::string>{keys[3].nodeId().hex(), keys[0].nodeId().hex()}));
  EXPECT_EQ(third.body["registrations"][1]["seq"], 2);
  // Namespaces are separate; a cookie from another namespace is refused.
  EXPECT_TRUE(nodeIds(discover(node, "elsewhere")).empty());
  expectError(discover(node, "elsewhere", "&cookie=" + c2), 400, "invalid_cookie");
}

TEST(RegistryApi, EveryErrorStatus) {
  Node node = startNode({"--registry-max-per-namespace", "2", "--registry-max-per-identity", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  const auto key = newKey();
  const std::string good = record(key);
  const std::string h = node.http();

  // 400: malformed JSON, not an object, missing or mistyped fields, bad text form, ttl bounds.
  expectError(http(h, "POST", "/v1/registrations", "{\"namespace\": "), 400, "malformed_json");
  expectError(http(h, "POST", "/v1/registrations", "[1,2]"), 400, "malformed_json");
  expectError(http(h, "POST", "/v1/registrations", Json{{"enr", good}}.dump()), 400, "missing_field");
  expectError(http(h, "POST", "/v1/registrations", Json{{"namespace", "n"}}.dump()), 400, "missing_field");
  expectError(http(h, "POST", "/v1/registrations", Json{{"namespace", 7}, {"enr", good}}.dump()), 400, "bad_field");
  expectError(http(h, "POST", "/v1/registrations", Json{{"namespace", "n"}, {"enr", good}, {"ttl", "60"}}.dump()), 400,
              "bad_field");
  expectError(post(node, "n", "not-an-enr"), 400, "malformed_enr");
  expectError(post(node, "n", "enr:***"), 400, "malformed_enr");
  expectError(post(node, "", good), 400, "invalid_namespace");
  expectError(post(node, std::string(256, 'n'), good), 400, "invalid_namespace");
  for (int64_t ttl : {int64_t{59}, int64_t{259201}, int64_t{-5}, int64_t{1} << 40}) {
    auto r = post(node, "n", good, ttl);
    expectError(r, 400, "ttl_out_of_range");
    EXPECT_NE(r.body.value("message", "").find("between 60 and 259200"), std::string::npos) << r.body.dump();
  }
  expectError(discover(node, "n", "&limit=0"), 400, "invalid_limit");
  expectError(discover(node, "n", "&limit=abc"), 400, "invalid_limit");
  expectError(discover(node, "n", "&cookie=%21%21"), 400, "invalid_cookie");
  expectError(http(h, "GET", "/v1/registrations"), 400, "missing_field");
  expectError(http(h, "DELETE", "/v1/registrations", Json{{"namespace", "n"}, {"node_id", "zz"}, {"signature", "00"}}.dump()),
              400, "bad_field");

  // 422: a record whose signature does not verify (one content byte changed).
  {
    auto rec = enr::EnrRecord::fromText(good).value();
    Bytes bytes = rec.encoded();
    bytes.back() ^= 0x01;  // the last value (udp port)
    const std::string reencoded = "enr:" + enr::base64UrlEncode(bytes);
    expectError(post(node, "n", reencoded), 422, "invalid_record");
  }
  // 413: a record over 300 bytes, and a body over the 64 KiB cap.
  expectError(post(node, "n", "enr:" + std::string(404, 'A')), 413, "record_too_large");
  EXPECT_EQ(http(h, "POST", "/v1/registrations", std::string(70 * 1024, ' ')).status, 413);

  // 409: a lower seq, or the same seq with other content.
  ASSERT_EQ(post(node, "seq", record(key, 5)).status, 201);
  expectError(post(node, "seq", record(key, 4)), 409, "stale_record");
  expectError(post(node, "seq", record(key, 5, 1)), 409, "conflicting_record");

  // 429: the identity is in 2 namespaces ("seq", "n"); a third is refused. The namespace holds 2.
  ASSERT_EQ(post(node, "n", good).status, 201);
  expectError(post(node, "third", good), 429, "identity_cap_reached");
  ASSERT_EQ(post(node, "full", record(newKey())).status, 201);
  ASSERT_EQ(post(node, "full", record(newKey())).status, 201);
  expectError(post(node, "full", record(newKey())), 429, "namespace_cap_reached");

  // 404 for an unknown path and for unregistering what is not there; 405 for a wrong method.
  expectError(http(h, "GET", "/v1/nope"), 404, "not_found");
  expectError(http(h, "DELETE", "/v1/registrations", deleteBody("absent", key.nodeId(), key, 1)), 404, "not_registered");
  EXPECT_EQ(http(h, "PUT", "/v1/registrations", "{}").status, 405);
}

TEST(RegistryApi, UnregisterNeedsTheRecordKeysSignature) {
  Node node = startNode();
  ASSERT_TRUE(node.started()) << node.log();
  const auto key = newKey();
  const auto other = newKey();
  ASSERT_EQ(post(node, "ns", record(key, 3)).status, 201);

  // Another key, the wrong seq, another namespace in the digest, garbage: 422, and it stays.
  expectError(http(node.http(), "DELETE", "/v1/registrations", deleteBody("ns", key.nodeId(), other, 3)), 422,
              "bad_signature");
  expectError(http(node.http(), "DELETE", "/v1/registrations", deleteBody("ns", key.nodeId(), key, 2)), 422,
              "bad_signature");
  {
    const int64_t now = unixNow();
    auto sig = key.sign(registry::unregisterDigest("other-ns", key.nodeId(), 3, now)).value();
    expectError(http(node.http(), "DELETE", "/v1/registrations",
                     Json{{"namespace", "ns"}, {"node_id", key.nodeId().hex()}, {"time", now}, {"signature", toHex(sig)}}
                         .dump()),
                422, "bad_signature");
    // Without a time: the old format is refused.
    auto old = key.sign(registry::unregisterDigest("ns", key.nodeId(), 3, 0)).value();
    expectError(http(node.http(), "DELETE", "/v1/registrations",
                     Json{{"namespace", "ns"}, {"node_id", key.nodeId().hex()}, {"signature", toHex(old)}}.dump()),
                400, "missing_proof");
    // Signed long ago: stale.
    auto stale = key.sign(registry::unregisterDigest("ns", key.nodeId(), 3, now - 3'600'000)).value();
    expectError(http(node.http(), "DELETE", "/v1/registrations",
                     Json{{"namespace", "ns"}, {"node_id", key.nodeId().hex()}, {"time", now - 3'600'000},
                          {"signature", toHex(stale)}}
                         .dump()),
                401, "stale_signature");
  }
  expectError(http(node.http(), "DELETE", "/v1/registrations",
                   Json{{"namespace", "ns"}, {"node_id", key.nodeId().hex()}, {"time", unixNow()}, {"signature", "abcd"}}
                       .dump()),
              422, "bad_signature");
  EXPECT_EQ(nodeIds(discover(node, "ns")).size(), 1u);

  auto ok = http(node.http(), "DELETE", "/v1/registrations", deleteBody("ns", key.nodeId(), key, 3));
  EXPECT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_EQ(ok.body["seq"], 3);
  EXPECT_TRUE(nodeIds(discover(node, "ns")).empty());
  expectError(http(node.http(), "DELETE", "/v1/registrations", deleteBody("ns", key.nodeId(), key, 3)), 404,
              "not_registered");
}

TEST(RegistryApi, AcknowledgedRegistrationSurvivesKill9) {
  auto first = std::make_unique<Node>(std::vector<std::string>{"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(first->started()) << first->log();
  const auto key = newKey();
  ASSERT_EQ(post(*first, "durable", record(key, 7), 3600).status, 201);
  auto before = http(first->http(), "GET", "/v1/node");
  ASSERT_EQ(before.status, 200);
  auto page = discover(*first, "durable");
  const std::string cookie = page.body["cookie"];
  ASSERT_TRUE(first->process().stop(SIGKILL).has_value());

  Node second({"--listen", "127.0.0.1:0", "--data-dir", first->dataDir()});
  ASSERT_TRUE(second.started()) << second.log();
  auto after = discover(second, "durable");
  ASSERT_EQ(nodeIds(after), std::vector<std::string>{key.nodeId().hex()}) << after.body.dump();
  EXPECT_EQ(after.body["registrations"][0]["seq"], 7);
  EXPECT_GT(after.body["registrations"][0]["ttl_remaining"].get<int>(), 3500);
  // Cookies stay valid across the restart: nothing new since the old one.
  EXPECT_TRUE(nodeIds(discover(second, "durable", "&cookie=" + cookie)).empty());
  // Same node key, so the same node id; the ports changed, so the record's seq went up.
  auto node = http(second.http(), "GET", "/v1/node");
  EXPECT_EQ(node.body["node_id"], before.body["node_id"]);
  EXPECT_GT(node.body["seq"].get<uint64_t>(), before.body["seq"].get<uint64_t>());
}

TEST(RegistryApi, ExpiredRegistrationsDisappearAndArePurged) {
  Node node = startNode({"--registry-min-ttl", "1"});
  ASSERT_TRUE(node.started()) << node.log();
  const auto shortLived = newKey();
  const auto longLived = newKey();
  ASSERT_EQ(post(node, "exp", record(longLived), 600).status, 201);
  auto r = post(node, "exp", record(shortLived), 2);
  ASSERT_EQ(r.status, 201) << r.body.dump();
  EXPECT_EQ(r.body["ttl"], 2);
  EXPECT_EQ(nodeIds(discover(node, "exp")).size(), 2u);
  EXPECT_TRUE(waitUntil([&] { return nodeIds(discover(node, "exp")).size() == 1; }, 10s, 100ms));
  EXPECT_EQ(nodeIds(discover(node, "exp")), std::vector<std::string>{longLived.nodeId().hex()});
  // The periodic task removes it from disk: the node's SQLite file (read with a connection of our own)
  // loses the short-lived row and keeps the long-lived one...
  const auto rowsOf = [&](const identity::PrivateKey& k) -> int64_t {
    auto db = storage::Database::open(node.dataDir() + "/rendezvous.db");
    if (!db.ok()) return -1;
    auto q = db->prepare("SELECT count(*) FROM registrations WHERE node_id = ?1");
    if (!q.ok()) return -1;
    const auto id = k.nodeId();
    if (!q->bindBlob(1, ByteSpan(id.bytes.data(), id.bytes.size())).ok()) return -1;
    auto row = q->step();
    return row.ok() && *row ? q->columnInt64(0) : -1;
  };
  EXPECT_TRUE(waitUntil([&] { return rowsOf(shortLived) == 0; }, 10s, 100ms)) << rowsOf(shortLived) << node.log();
  EXPECT_EQ(rowsOf(longLived), 1);
  // ...and from memory: the purge reports one registration left (the long-lived one).
  EXPECT_TRUE(waitUntil([&] { return node.log().find("registry-purged count=1 remaining=1") != std::string::npos; },
                        10s, 100ms))
      << node.log();
}

TEST(RegistryApi, NodeRecordIsSignedAndAdvertisesTheServices) {
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key});
  ASSERT_TRUE(node.started()) << node.log();
  auto r = http(node.http(), "GET", "/v1/node");
  ASSERT_EQ(r.status, 200);
  const std::string enr = r.body["enr"];
  auto verified = run({binary("rdv"), "enr", "verify", enr});
  EXPECT_EQ(verified.exitCode, 0) << verified.err;
  EXPECT_EQ(verified.out, "valid " + r.body["node_id"].get<std::string>() + "\n");
  auto decoded = run({binary("rdv"), "enr", "decode", enr});
  auto keys = Json::parse(decoded.out)["keys"];
  const std::string stun = keys.value("stun", "");
  const std::string turn = keys.value("turn", "");
  EXPECT_NE(stun.find("stun:" + node.udp()), std::string::npos) << stun;
  EXPECT_NE(turn.find("turn:" + node.udp()), std::string::npos) << turn;
  EXPECT_NE(stun.find("stuns:" + node.tls()), std::string::npos) << stun;
  EXPECT_NE(turn.find("turns:" + node.tls()), std::string::npos) << turn;
  EXPECT_EQ(keys["api"], "http://" + node.http());
  EXPECT_EQ(keys["ip"], "127.0.0.1");
  EXPECT_EQ(keys["udp"], node.udpPort());
  auto info = run({binary("rdv"), "node-info", "--node", "http://" + node.http()});
  EXPECT_EQ(info.exitCode, 0) << info.err;
  EXPECT_EQ(Json::parse(info.out)["enr"], enr);
  // The node key was created 0600 in the data directory.
  EXPECT_TRUE(std::filesystem::exists(node.dataDir() + "/node.key"));
  auto perms = std::filesystem::status(node.dataDir() + "/node.key").permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all), std::filesystem::perms::none);
}

TEST(RegistryApi, UnusableDataDirIsAClearStartupError) {
  TempDir dir;
  { std::ofstream(dir.file("a-file")) << "x"; }
  Node node({"--listen", "127.0.0.1:0", "--data-dir", dir.file("a-file")});
  EXPECT_FALSE(node.started());
  EXPECT_NE(node.log().find("data-dir"), std::string::npos) << node.log();
  EXPECT_NE(node.log().find("not a directory"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace rdv::test
