// CORS policy (rendezvous/node/api/cors.h): which origins get headers, what a preflight answers, and
// which configured origins are refused. The exchange itself is tested against the real daemon
// (tests/integration/cors_test.cpp).
#include "rendezvous/node/api/cors.h"

#include <gtest/gtest.h>

namespace rdv::node {
namespace {

std::string header(const HeaderList& h, const std::string& name) {
  for (const auto& [n, v] : h)
    if (n == name) return v;
  return "<absent>";
}

TEST(Cors, OffByDefault) {
  CorsPolicy none;
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(none.allows("https://app.example"));
  EXPECT_TRUE(corsHeaders(none, "https://app.example", false).empty());
  EXPECT_TRUE(corsHeaders(none, "https://app.example", true, "GET, OPTIONS").empty());
}

TEST(Cors, ExactOriginsOnly) {
  CorsPolicy p{{"https://app.example", "http://127.0.0.1:8000"}};
  EXPECT_TRUE(p.allows("https://app.example"));
  EXPECT_TRUE(p.allows("http://127.0.0.1:8000"));
  EXPECT_FALSE(p.allows("http://app.example"));
  EXPECT_FALSE(p.allows("https://app.example:443"));
  EXPECT_FALSE(p.allows("https://app.example.evil"));
  EXPECT_FALSE(p.allows("http://127.0.0.1:8001"));
  EXPECT_FALSE(p.allows(""));
  EXPECT_FALSE(p.allows("null"));

  const auto ok = corsHeaders(p, "https://app.example", false);
  EXPECT_EQ(header(ok, "access-control-allow-origin"), "https://app.example");
  EXPECT_EQ(header(ok, "vary"), "Origin");
  EXPECT_EQ(header(ok, "access-control-allow-methods"), "<absent>");
  // Another origin: only Vary (the answer depends on Origin), never an allow header.
  const auto refused = corsHeaders(p, "https://evil.example", false);
  EXPECT_EQ(header(refused, "access-control-allow-origin"), "<absent>");
  EXPECT_EQ(header(refused, "vary"), "Origin");
}

TEST(Cors, PreflightNamesMethodsHeadersAndMaxAge) {
  CorsPolicy p{{"http://127.0.0.1:8000"}};
  const auto h = corsHeaders(p, "http://127.0.0.1:8000", true, "DELETE, GET, POST, OPTIONS");
  EXPECT_EQ(header(h, "access-control-allow-origin"), "http://127.0.0.1:8000");
  EXPECT_EQ(header(h, "access-control-allow-methods"), "DELETE, GET, POST, OPTIONS");
  EXPECT_EQ(header(h, "access-control-allow-headers"), "Authorization, Content-Type");
  EXPECT_EQ(header(h, "access-control-max-age"), std::to_string(kCorsMaxAgeSeconds));
  EXPECT_TRUE(corsHeaders(p, "http://127.0.0.1:9", true, "GET").size() == 1);  // Vary only
}

TEST(Cors, WildcardAllowsAnyOriginWithStar) {
  CorsPolicy p{{"*"}};
  EXPECT_TRUE(p.allows("https://anything.example"));
  EXPECT_FALSE(p.allows(""));  // no Origin: not a cross-origin browser request
  const auto h = corsHeaders(p, "https://anything.example", false);
  EXPECT_EQ(header(h, "access-control-allow-origin"), "*");
  EXPECT_EQ(header(h, "vary"), "<absent>");
}

TEST(Cors, ConfiguredOriginsAreChecked) {
  for (const char* good : {"*", "https://app.example", "http://127.0.0.1:8000", "http://[::1]:8080", "https://a.b.c:1",
                           "http://localhost"})
    EXPECT_EQ(checkCorsOrigin(good), std::nullopt) << good;
  for (const char* bad : {"", "app.example", "ftp://app.example", "https://", "https://app.example/",
                          "https://app.example/path", "https://app.example:", "https://app.example:123456",
                          "https://app.example:80a", "https://App.Example", "https://user@app.example", "http://[::1",
                          "https://app example", "https://app.example?x", "*.example.com"}) {
    const auto err = checkCorsOrigin(bad);
    ASSERT_TRUE(err.has_value()) << bad;
    EXPECT_NE(err->find("origin"), std::string::npos) << *err;
  }
  EXPECT_EQ(checkCorsOrigin("https://" + std::string(253, 'a')), std::nullopt);
  EXPECT_TRUE(checkCorsOrigin("https://" + std::string(300, 'a')).has_value());
}

}  // namespace
}  // namespace rdv::node
