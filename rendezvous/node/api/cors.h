// CORS for the HTTP API (issue 16, docs/web.md "Cross-origin pages"): a page served from another origin
// than the node may call the API when the operator lists that origin in `http-cors-origins`. Pure: the
// exchange (http_exchange.cpp) asks which headers to add and how to answer a preflight.
//   - no origins configured (the default): no CORS header on any response, preflights refused (403);
//   - "*": any origin (the API's requests carry their own signatures, no cookies);
//   - otherwise the exact origins ("https://app.example", "http://127.0.0.1:8000"), case-sensitive in
//     the path-free form a browser sends in its Origin header.
// A request from an origin not allowed is still served (non-browser clients send what they like), only
// without the headers, so a browser does not hand the reply to the page.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rdv::node {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline constexpr unsigned kCorsMaxAgeSeconds = 600;  // how long a browser may cache a preflight's answer
inline constexpr size_t kMaxCorsOriginBytes = 270;   // https:// + a 253-byte host name + :65535

struct CorsPolicy {
  std::vector<std::string> origins;  // exact origins, or "*"

  bool enabled() const { return !origins.empty(); }
  bool allows(std::string_view origin) const;
};

// A configured origin's error (for `http-cors-origins`), or nullopt when it is "*" or
// scheme://host[:port] with scheme http or https and no path, query or trailing slash.
std::optional<std::string> checkCorsOrigin(std::string_view origin);

// The headers for a response to a request that carried `origin` (empty: none). Nothing when CORS is
// off or the origin is not allowed. `preflight` adds the allowed methods (`methods`, e.g. "GET, POST,
// OPTIONS"), the request headers the API reads (Authorization, Content-Type) and the max age.
HeaderList corsHeaders(const CorsPolicy& policy, std::string_view origin, bool preflight, std::string_view methods = {});

}  // namespace rdv::node
