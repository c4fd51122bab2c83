// CORS on the real rendezvousd's HTTP API (http-cors-origins, docs/web.md "Pages on another origin"):
// preflights answered for an allowed origin and refused for another, the allow header on every API
// answer to an allowed origin only, none at all by default, keep-alive across a preflight, and a bad
// origin in the configuration refused at start (exit 2 naming the key).
#include <gtest/gtest.h>

#include "tests/integration/harness.h"
#include "tests/integration/http_connection.h"

namespace rdv::test {
namespace {

using Answer = HttpAnswer;
using Connection = HttpConnection;

Answer once(const std::string& hostPort, const std::string& method, const std::string& target,
            const std::vector<std::string>& headers) {
  return httpOnce(hostPort, method, target, headers);
}
std::string header(const Answer& a, const std::string& name) { return headerOf(a, name); }
std::string lower(const std::string& s) { return lowerCase(s); }

constexpr const char* kPage = "http://127.0.0.1:8000";
constexpr const char* kOther = "http://127.0.0.1:8001";

TEST(CorsApi, PreflightAndCrossOriginRequestsForAnAllowedOriginOnly) {
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", "s3cret-0123456789", "--http-cors-origins", kPage,
             "--http-cors-origins", "https://app.example"});
  ASSERT_TRUE(node.started()) << node.log();

  // The preflight a browser sends before a signed GET /v1/ice-servers, and before a JSON POST.
  for (const auto& [target, method, asked] : {std::tuple{"/v1/ice-servers", "GET", "authorization"},
                                              std::tuple{"/v1/registrations", "POST", "content-type"}}) {
    const Answer pre = once(node.http(), "OPTIONS", target,
                            {std::string("Origin: ") + kPage, std::string("Access-Control-Request-Method: ") + method,
                             std::string("Access-Control-Request-Headers: ") + asked});
    EXPECT_EQ(pre.status, 204) << target << " " << pre.body;
    EXPECT_EQ(header(pre, "access-control-allow-origin"), kPage) << target;
    EXPECT_NE(header(pre, "access-control-allow-methods").find(method), std::string::npos) << target;
    EXPECT_NE(lower(header(pre, "access-control-allow-headers")).find(asked), std::string::npos) << target;
    EXPECT_EQ(header(pre, "access-control-max-age"), "600");
    EXPECT_EQ(header(pre, "vary"), "Origin");
  }
  const Answer registrations = once(node.http(), "OPTIONS", "/v1/registrations", {std::string("Origin: ") + kPage});
  EXPECT_EQ(header(registrations, "access-control-allow-methods"), "DELETE, GET, POST, OPTIONS");

  // Another origin: the preflight is refused, with no allow header.
  const Answer refused = once(node.http(), "OPTIONS", "/v1/registrations",
                              {std::string("Origin: ") + kOther, "Access-Control-Request-Method: POST"});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("origin_not_allowed"), std::string::npos) << refused.body;
  EXPECT_EQ(header(refused, "access-control-allow-origin"), "<absent>");
  // An unknown path is 404 for a preflight too.
  EXPECT_EQ(once(node.http(), "OPTIONS", "/v1/nothing", {std::string("Origin: ") + kPage}).status, 404);

  // The cross-origin requests themselves: the allow header for the allowed origin only; the API
  // answers everyone the same (the header is what lets a browser hand the reply to the page).
  const Answer allowed = once(node.http(), "GET", "/v1/node", {std::string("Origin: ") + kPage});
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(header(allowed, "access-control-allow-origin"), kPage);
  EXPECT_NE(allowed.body.find("\"enr\""), std::string::npos);
  const Answer other = once(node.http(), "GET", "/v1/node", {std::string("Origin: ") + kOther});
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(header(other, "access-control-allow-origin"), "<absent>");
  EXPECT_EQ(header(other, "vary"), "Origin");
  EXPECT_EQ(header(once(node.http(), "GET", "/v1/node", {}), "access-control-allow-origin"), "<absent>");
  // Errors carry it too, so the page can read the node's JSON error.
  const Answer error = once(node.http(), "GET", "/v1/ice-servers", {"Origin: https://app.example"});
  EXPECT_EQ(error.status, 401);
  EXPECT_EQ(header(error, "access-control-allow-origin"), "https://app.example");

  // A preflight and the request after it on one keep-alive connection, as browsers do.
  Connection c(node.http());
  const Answer first = c.request("OPTIONS", "/v1/registrations?namespace=x", {std::string("Origin: ") + kPage});
  EXPECT_EQ(first.status, 204);
  EXPECT_EQ(first.body, "");
  const Answer second = c.request("GET", "/v1/registrations?namespace=x", {std::string("Origin: ") + kPage});
  EXPECT_EQ(second.status, 200) << second.body;
  EXPECT_NE(second.body.find("registrations"), std::string::npos);
  EXPECT_EQ(header(second, "access-control-allow-origin"), kPage);
}

TEST(CorsApi, NoHeadersWithoutTheKeyAndAnyOriginWithStar) {
  Node plain({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(plain.started()) << plain.log();
  const Answer pre = once(plain.http(), "OPTIONS", "/v1/node", {std::string("Origin: ") + kPage});
  EXPECT_EQ(pre.status, 403);
  EXPECT_EQ(header(pre, "access-control-allow-origin"), "<absent>");
  const Answer get = once(plain.http(), "GET", "/v1/node", {std::string("Origin: ") + kPage});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(header(get, "access-control-allow-origin"), "<absent>");
  EXPECT_EQ(header(get, "vary"), "<absent>");

  Node any({"--listen", "127.0.0.1:0", "--http-cors-origins", "*"});
  ASSERT_TRUE(any.started()) << any.log();
  EXPECT_EQ(header(once(any.http(), "GET", "/healthz", {"Origin: https://whoever.example"}), "access-control-allow-origin"), "*");
  EXPECT_EQ(once(any.http(), "OPTIONS", "/healthz", {"Origin: https://whoever.example"}).status, 204);
}

TEST(CorsApi, BadOriginsAreRefusedAtStart) {
  for (const char* bad : {"https://app.example/", "app.example", "https://App.example"}) {
    auto r = run({binary("rendezvousd"), "--http-cors-origins", bad, "--check-config"}, 20s);
    EXPECT_EQ(r.exitCode, 2) << bad;
    EXPECT_NE(r.err.find("'http-cors-origins'"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace rdv::test
