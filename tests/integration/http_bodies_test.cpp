// Request bodies on the real rendezvousd's HTTP servers (public API and admin API): a POST or DELETE with
// `Content-Length: 0` gets exactly one answer (libwebsockets reports the end of the empty body after the
// handler answered; a second answer interleaved two header blocks and ran the handler twice), the
// connection stays usable for the next request, and ordinary bodies still work.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/harness.h"
#include "tests/integration/http_connection.h"

namespace rdv::test {
namespace {

constexpr const char* kToken = "http-bodies-token-0123456789";
const std::string kBearer = std::string("Authorization: Bearer ") + kToken;

Node adminNode() {
  return Node({"--listen", "127.0.0.1:0", "--auth-secret", "s3cret-0123456789", "--http-listen", "127.0.0.1:0",
               "--admin-listen", "127.0.0.1:0", "--admin-token", kToken, "--log-format", "json"});
}

// The answer's JSON object; an empty object when the body is not one (a garbled answer).
nlohmann::json parsed(const HttpAnswer& a) {
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

TEST(HttpBodies, EmptyBodyOnTheAdminApiGetsOneAnswer) {
  Node node = adminNode();
  ASSERT_TRUE(node.started()) << node.log();
  const std::string admin = node.ready().value("admin", "");
  HttpConnection c(admin);

  const HttpAnswer on = c.request("POST", "/v1/drain", {kBearer, "Content-Length: 0"});
  EXPECT_EQ(on.status, 200) << on.body;
  EXPECT_EQ(parsed(on).value("draining", false), true) << on.body;
  EXPECT_EQ(c.leftover(300), "") << "a second answer followed the first";

  // The same connection carries the next requests, each with its own single answer.
  const HttpAnswer off = c.request("DELETE", "/v1/drain", {kBearer, "Content-Length: 0"});
  EXPECT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(parsed(off).value("draining", true), false) << off.body;
  EXPECT_EQ(c.leftover(300), "");
  const HttpAnswer metrics = c.request("GET", "/metrics", {kBearer});
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("rendezvous_draining 0"), std::string::npos);

  // A body the handler reads, and an empty body without a token: still one answer each.
  const HttpAnswer withBody = c.request("POST", "/v1/drain", {kBearer, "Content-Length: 2"}, "{}");
  EXPECT_EQ(withBody.status, 200) << withBody.body;
  EXPECT_EQ(parsed(withBody).value("draining", false), true);
  const HttpAnswer noToken = c.request("POST", "/v1/drain", {"Content-Length: 0"});
  EXPECT_EQ(noToken.status, 401) << noToken.body;
  EXPECT_TRUE(parsed(noToken).contains("error")) << noToken.body;
  EXPECT_EQ(c.leftover(300), "");
}

TEST(HttpBodies, EmptyBodyOnThePublicApiGetsOneAnswer) {
  Node node = adminNode();
  ASSERT_TRUE(node.started()) << node.log();
  HttpConnection c(node.http());

  const HttpAnswer empty = c.request("POST", "/v1/registrations", {"Content-Length: 0"});
  EXPECT_EQ(empty.status, 400) << empty.body;
  EXPECT_TRUE(parsed(empty).contains("error")) << empty.body;
  EXPECT_EQ(c.leftover(300), "") << "a second answer followed the first";

  const HttpAnswer node_ = c.request("GET", "/v1/node", {});
  EXPECT_EQ(node_.status, 200) << node_.body;
  EXPECT_FALSE(parsed(node_).empty()) << node_.body;
  const HttpAnswer missing = c.request("POST", "/v1/registrations", {"Content-Length: 2", "Content-Type: application/json"}, "{}");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(parsed(missing).value("error", ""), "missing_field") << missing.body;
  EXPECT_EQ(c.leftover(300), "");
}

}  // namespace
}  // namespace rdv::test
