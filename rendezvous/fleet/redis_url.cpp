#include "rendezvous/fleet/redis_url.h"

#include <cctype>
#include <charconv>

namespace rdv::fleet {

namespace {

bool parseNumber(std::string_view s, unsigned max, unsigned& out) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

}  // namespace

std::string RedisUrl::redacted() const {
  std::string out = "redis://";
  if (!user.empty() || !password.empty()) out += (user.empty() ? "" : user) + (password.empty() ? "@" : ":***@");
  const bool v6 = host.find(':') != std::string::npos;
  out += (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  if (db != 0) out += "/" + std::to_string(db);
  return out;
}

Result<RedisUrl, std::string> parseRedisUrl(std::string_view text) {
  // The text is not echoed: it may hold a password.
  const auto fail = [](const std::string& why) -> Result<RedisUrl, std::string> {
    return unexpected("expected redis://[user:password@]HOST:PORT[/DB]: " + why);
  };
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, scheme.size()) != scheme) return fail("the scheme must be redis:// (rediss:// is not supported)");
  std::string_view rest = text.substr(scheme.size());
  RedisUrl url;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      url.password = std::string(userinfo);  // redis://password@host: the password alone
    } else {
      url.user = std::string(userinfo.substr(0, colon));
      url.password = std::string(userinfo.substr(colon + 1));
    }
  }
  std::string_view hostport = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    if (!parseNumber(rest.substr(slash + 1), 15, url.db)) return fail("DB must be a number 0-15");
  }
  std::string_view portText;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos || close + 1 >= hostport.size() || hostport[close + 1] != ':')
      return fail("an IPv6 host is written [ADDR]:PORT");
    url.host = std::string(hostport.substr(1, close - 1));
    portText = hostport.substr(close + 2);
  } else {
    const auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos) return fail("the port is missing");
    url.host = std::string(hostport.substr(0, colon));
    portText = hostport.substr(colon + 1);
  }
  if (url.host.empty()) return fail("the host is missing");
  for (char c : url.host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
      return fail("the host has a character that is not allowed");
  unsigned port = 0;
  if (!parseNumber(portText, 65535, port) || port == 0) return fail("PORT must be 1-65535");
  url.port = static_cast<uint16_t>(port);
  return url;
}

bool validFleetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace rdv::fleet
