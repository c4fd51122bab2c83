#include "rendezvous/node/api/cors.h"

#include <algorithm>

namespace rdv::node {

bool CorsPolicy::allows(std::string_view origin) const {
  if (origin.empty()) return false;
  return std::any_of(origins.begin(), origins.end(), [&](const std::string& o) { return o == "*" || o == origin; });
}

std::optional<std::string> checkCorsOrigin(std::string_view origin) {
  if (origin == "*") return std::nullopt;
  const std::string why = "'" + std::string(origin) + "' is not an origin like https://app.example or http://127.0.0.1:8000";
  std::string_view rest;
  if (origin.starts_with("https://")) rest = origin.substr(8);
  else if (origin.starts_with("http://")) rest = origin.substr(7);
  else return why + " (scheme http or https)";
  if (rest.empty()) return why + " (no host)";
  // A browser's Origin is at most scheme + a 253-byte name + port; the answer echoes it in a header.
  if (origin.size() > kMaxCorsOriginBytes) return why + " (longer than " + std::to_string(kMaxCorsOriginBytes) + " bytes)";
  if (rest.find_first_of("/?#@ \t") != std::string_view::npos) return why + " (no path, query, user or spaces)";
  // The host part: a name, an IPv4 address or [IPv6]; then an optional :PORT of 1-5 digits.
  size_t hostEnd = rest.size();
  if (rest.front() == '[') {
    hostEnd = rest.find(']');
    if (hostEnd == std::string_view::npos) return why + " (unclosed [)";
    ++hostEnd;
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    hostEnd = colon;
  }
  if (hostEnd == 0 || (rest.front() != '[' && rest.substr(0, hostEnd).find_first_of("[]") != std::string_view::npos))
    return why + " (bad host)";
  if (hostEnd < rest.size()) {
    const std::string_view port = rest.substr(hostEnd);
    if (port.size() < 2 || port.size() > 6 || port[0] != ':' ||
        !std::all_of(port.begin() + 1, port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return why + " (bad port)";
  }
  // Browsers send the host in lower case: an upper-case letter here would never match.
  if (std::any_of(rest.begin(), rest.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return why + " (write the host in lower case, as browsers send it)";
  return std::nullopt;
}

HeaderList corsHeaders(const CorsPolicy& policy, std::string_view origin, bool preflight, std::string_view methods) {
  HeaderList out;
  if (!policy.enabled()) return out;
  // The answer depends on the Origin header: caches must keep one per origin.
  const bool wildcard = std::find(policy.origins.begin(), policy.origins.end(), "*") != policy.origins.end();
  if (!wildcard) out.emplace_back("vary", "Origin");
  if (!policy.allows(origin)) return out;
  out.emplace_back("access-control-allow-origin", wildcard ? std::string("*") : std::string(origin));
  if (preflight) {
    out.emplace_back("access-control-allow-methods", std::string(methods));
    out.emplace_back("access-control-allow-headers", "Authorization, Content-Type");
    out.emplace_back("access-control-max-age", std::to_string(kCorsMaxAgeSeconds));
  }
  return out;
}

}  // namespace rdv::node
