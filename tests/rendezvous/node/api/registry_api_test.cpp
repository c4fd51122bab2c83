// RegistryApi's handlers called directly with a fake clock (the HTTP layer is tested in
// tests/integration/registry_api_test.cpp): expiry and purge without waiting.
#include "rendezvous/node/api/registry_api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/registry/unregister_message.h"

namespace rdv::node {
namespace {

using namespace std::chrono_literals;

struct RegistryApiHandlers : ::testing::Test {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("rdv-registry-api-" + std::to_string(std::random_device{}()));
  registry::TimePoint now = std::chrono::system_clock::now();
  Config config;

  RegistryApiHandlers() { config.dataDir = (dir / "data").string(); }
  ~RegistryApiHandlers() override { std::filesystem::remove_all(dir); }

  std::unique_ptr<RegistryApi> open() {
    auto api = RegistryApi::open(config, [this] { return now; });
    EXPECT_TRUE(api.ok()) << (api.ok() ? "" : api.error());
    return api.ok() ? std::move(*api) : nullptr;
  }
  // Signed times are unix milliseconds.
  int64_t unixNow() const { return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count(); }
  // A registration signed by `key` (the record's own key, unless a test says otherwise) at `signedAt`.
  HttpRequest post(const std::string& ns, const std::string& enr, int ttl, const identity::PrivateKey& key,
                   std::optional<int64_t> signedAt = {}) const {
    const auto record = enr::EnrRecord::fromText(enr).value();
    const int64_t t = signedAt.value_or(unixNow());
    auto sig = key.sign(registry::registerDigest(ns, record.encoded(), static_cast<uint64_t>(ttl), t)).value();
    HttpRequest r;
    r.method = "POST";
    r.path = "/v1/registrations";
    r.remoteIp = "127.0.0.1";
    r.body = nlohmann::json{{"namespace", ns}, {"enr", enr}, {"ttl", ttl}, {"time", t}, {"signature", toHex(sig)}}.dump();
    return r;
  }
  HttpRequest del(const std::string& ns, const identity::PrivateKey& key, uint64_t seq, std::optional<int64_t> signedAt = {}) const {
    const int64_t t = signedAt.value_or(unixNow());
    auto sig = key.sign(registry::unregisterDigest(ns, key.nodeId(), seq, t)).value();
    HttpRequest r;
    r.method = "DELETE";
    r.path = "/v1/registrations";
    r.remoteIp = "127.0.0.1";
    r.body = nlohmann::json{{"namespace", ns}, {"node_id", key.nodeId().hex()}, {"time", t}, {"signature", toHex(sig)}}.dump();
    return r;
  }
  static std::string errorOf(const HttpResponse& r) { return nlohmann::json::parse(r.body).value("error", ""); }
  static HttpRequest get(const std::string& ns) {
    HttpRequest r;
    r.method = "GET";
    r.path = "/v1/registrations";
    r.query["namespace"] = ns;
    return r;
  }
  static size_t count(const HttpResponse& r) { return nlohmann::json::parse(r.body)["registrations"].size(); }
};

TEST_F(RegistryApiHandlers, CreatesTheDataDirAndKeepsTheNodeKey) {
  auto api = open();
  ASSERT_TRUE(api);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "data"));
  const auto id = api->nodeKey().nodeId();
  api.reset();
  EXPECT_EQ(open()->nodeKey().nodeId(), id);
}

TEST_F(RegistryApiHandlers, ExpiredRegistrationsAreHiddenThenPurgedFromDisk) {
  auto api = open();
  ASSERT_TRUE(api);
  auto key = identity::PrivateKey::generate().value();
  const std::string enr = enr::EnrBuilder().setUdp(1).sign(key).value().toText();
  ASSERT_EQ(api->postRegistration(post("ns", enr, 60, key)).status, 201);
  EXPECT_EQ(count(api->getRegistrations(get("ns"))), 1u);
  now += 61s;
  EXPECT_EQ(count(api->getRegistrations(get("ns"))), 0u);
  api->purgeExpired();
  // Reopen one second before the old expiry: nothing comes back, the row is gone.
  now -= 2s;
  api.reset();
  EXPECT_EQ(count(open()->getRegistrations(get("ns"))), 0u);
}

TEST_F(RegistryApiHandlers, NodeRecordIs503UntilAdvertised) {
  auto api = open();
  ASSERT_TRUE(api);
  EXPECT_EQ(api->getNode({}).status, 503);
  ASSERT_FALSE(api->advertise({{*Endpoint::parse("127.0.0.1:3478")}, {}, std::nullopt, {}}).has_value());
  auto reply = nlohmann::json::parse(api->getNode({}).body);
  EXPECT_EQ(reply["node_id"], api->nodeKey().nodeId().hex());
  EXPECT_TRUE(enr::EnrRecord::fromText(reply["enr"].get<std::string>()).ok());
}

TEST_F(RegistryApiHandlers, RegistrationNeedsTheRecordKeysProof) {
  auto api = open();
  ASSERT_TRUE(api);
  const auto victim = identity::PrivateKey::generate().value();
  const auto mallory = identity::PrivateKey::generate().value();
  const std::string enr = enr::EnrBuilder().setUdp(1).sign(victim).value().toText();
  // The bare record (the old format) is refused with a JSON 400 naming the proof.
  HttpRequest bare;
  bare.method = "POST";
  bare.body = nlohmann::json{{"namespace", "ns"}, {"enr", enr}}.dump();
  auto r = api->postRegistration(bare);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(errorOf(r), "missing_proof") << r.body;
  // Signed by another key: 422.
  r = api->postRegistration(post("ns", enr, 60, mallory));
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(errorOf(r), "bad_signature");
  // Signed too long ago or ahead: 401 stale.
  EXPECT_EQ(errorOf(api->postRegistration(post("ns", enr, 60, victim, unixNow() - 61'000))), "stale_signature");
  EXPECT_EQ(errorOf(api->postRegistration(post("ns", enr, 60, victim, unixNow() + 61'000))), "stale_signature");
  // The owner's request is accepted once; the same bytes again are a replay.
  const HttpRequest honest = post("ns", enr, 60, victim);
  ASSERT_EQ(api->postRegistration(honest).status, 201);
  r = api->postRegistration(honest);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(errorOf(r), "replayed_signature");
  // Its signature does not carry the record into another namespace or to another ttl.
  auto moved = nlohmann::json::parse(honest.body);
  moved["namespace"] = "elsewhere";
  HttpRequest copy = honest;
  copy.body = moved.dump();
  EXPECT_EQ(errorOf(api->postRegistration(copy)), "bad_signature");
  moved = nlohmann::json::parse(honest.body);
  moved["ttl"] = 3600;
  copy.body = moved.dump();
  EXPECT_EQ(errorOf(api->postRegistration(copy)), "bad_signature");
}

TEST_F(RegistryApiHandlers, UnregisterNeedsARecentTimeAndIsSingleUse) {
  auto api = open();
  ASSERT_TRUE(api);
  const auto key = identity::PrivateKey::generate().value();
  const std::string enr = enr::EnrBuilder().setUdp(1).sign(key).value().toText();
  ASSERT_EQ(api->postRegistration(post("ns", enr, 600, key)).status, 201);
  EXPECT_EQ(errorOf(api->deleteRegistration(del("ns", key, 1, unixNow() - 3'600'000))), "stale_signature");
  const HttpRequest d = del("ns", key, 1);
  ASSERT_EQ(api->deleteRegistration(d).status, 200);
  // Re-registered, then the captured DELETE replayed: refused, the registration stays.
  now += 1s;
  ASSERT_EQ(api->postRegistration(post("ns", enr, 600, key)).status, 201);
  EXPECT_EQ(errorOf(api->deleteRegistration(d)), "replayed_signature");
  EXPECT_EQ(count(api->getRegistrations(get("ns"))), 1u);
}

TEST_F(RegistryApiHandlers, WritesAreRateLimitedPerAddressAndTheRegistryIsCapped) {
  config.registryWritesPerMinute = 60;
  config.registryWriteBurst = 3;
  config.registryMaxRecords = 2;
  auto api = open();
  ASSERT_TRUE(api);
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) {
    const auto key = identity::PrivateKey::generate().value();
    statuses.push_back(api->postRegistration(post("ns" + std::to_string(i), enr::EnrBuilder().setUdp(1).sign(key).value().toText(), 60, key)).status);
  }
  EXPECT_EQ(statuses, (std::vector<int>{201, 201, 503, 429}));
  // Another address is not limited by the first one's writes.
  const auto key = identity::PrivateKey::generate().value();
  HttpRequest other = post("x", enr::EnrBuilder().setUdp(1).sign(key).value().toText(), 60, key);
  other.remoteIp = "127.0.0.2";
  auto r = api->postRegistration(other);
  EXPECT_EQ(r.status, 503);  // full, but not rate-limited
  EXPECT_EQ(errorOf(r), "registry_full");
}

// The request parsers extracted from the handlers (pure; fuzzed in tests/fuzz/http_api.cpp).
constexpr std::string_view kEip778Record =
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlw"
    "hH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8";

TEST(RegistryApiParsers, RegistrationBody) {
  auto ok = parseRegistrationRequest(R"({"namespace":"chat","enr":")" + std::string(kEip778Record) + R"(","ttl":99999999999,"time":1,"signature":"00ff"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->ns, "chat");
  EXPECT_EQ(ok->record.seq(), 1u);
  EXPECT_EQ(ok->ttl, registry::Seconds(INT32_MAX));  // clamped; the registry refuses it with its bounds
  auto negative = parseRegistrationRequest(R"({"namespace":"chat","enr":")" + std::string(kEip778Record) + R"(","ttl":-7,"time":1,"signature":"00ff"})");
  ASSERT_TRUE(negative.ok());
  EXPECT_EQ(negative->ttl, registry::Seconds(-1));
  EXPECT_EQ(negative->proof.time, 1);
  // Without the proof of possession (time and signature by the record's key) the body is refused.
  EXPECT_EQ(parseRegistrationRequest(R"({"namespace":"chat","enr":")" + std::string(kEip778Record) + R"("})").error().status, 400);
  EXPECT_FALSE(parseRegistrationRequest(R"({"namespace":"chat"})").ok());
  EXPECT_EQ(parseRegistrationRequest("[1]").error().status, 400);
  EXPECT_EQ(parseRegistrationRequest(R"({"namespace":"chat","enr":"enr:AAAA"})").error().status, 422);
  EXPECT_EQ(parseRegistrationRequest(R"({"namespace":"chat","enr":"nope"})").error().status, 400);
  EXPECT_EQ(parseRegistrationRequest(R"({"namespace":"c","enr":"x","ttl":1.5})").error().status, 400);
}

TEST(RegistryApiParsers, UnregistrationBody) {
  const std::string id(64, 'a');
  auto ok = parseUnregistrationRequest(R"({"namespace":"chat","node_id":"0x)" + id + R"(","time":1,"signature":"00ff"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->id.hex(), id);
  EXPECT_EQ(ok->proof.time, 1);
  EXPECT_EQ(ok->proof.signature, (Bytes{0x00, 0xff}));
  EXPECT_EQ(parseUnregistrationRequest(R"({"namespace":"chat","node_id":")" + id + R"(","signature":"00ff"})").error().status, 400);
  EXPECT_EQ(parseUnregistrationRequest(R"({"namespace":"chat","node_id":"abcd","signature":"00"})").error().status, 400);
  EXPECT_EQ(parseUnregistrationRequest(R"({"namespace":"chat","node_id":")" + id + R"(","time":1,"signature":"0g"})").error().status, 400);
  EXPECT_EQ(parseUnregistrationRequest("{").error().status, 400);
}

TEST(RegistryApiParsers, DiscoverLimit) {
  EXPECT_EQ(parseDiscoverLimit("10"), 10u);
  EXPECT_EQ(parseDiscoverLimit("99999999999999999999999"), size_t{UINT32_MAX});
  EXPECT_EQ(parseDiscoverLimit(""), std::nullopt);
  EXPECT_EQ(parseDiscoverLimit("-1"), std::nullopt);
  EXPECT_EQ(parseDiscoverLimit("10x"), std::nullopt);
}

TEST(HttpQuery, ArgumentsAsLibwebsocketsHandsThemOver) {
  std::map<std::string, std::string> q;
  addQueryArgument(q, "namespace=chat");
  addQueryArgument(q, "flag");
  addQueryArgument(q, "a=b=c");
  addQueryArgument(q, "namespace=other");  // a later value replaces an earlier one
  addQueryArgument(q, "=v");
  EXPECT_EQ(q["namespace"], "other");
  EXPECT_EQ(q["flag"], "");
  EXPECT_EQ(q["a"], "b=c");
  EXPECT_EQ(q[""], "v");
}

}  // namespace
}  // namespace rdv::node
