// RegistryApi's handlers called directly with a fake clock (the HTTP layer is tested in
// tests/integration/registry_api_test.cpp): expiry and purge without waiting.
#include "rendezvous/node/api/registry_api.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "rendezvous/enr/enr_builder.h"

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
  static HttpRequest post(const std::string& ns, const std::string& enr, int ttl) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/v1/registrations";
    r.body = nlohmann::json{{"namespace", ns}, {"enr", enr}, {"ttl", ttl}}.dump();
    return r;
  }
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
  ASSERT_EQ(api->postRegistration(post("ns", enr, 60)).status, 201);
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

}  // namespace
}  // namespace rdv::node
