// The `redis` configuration key: redis://[user:password@]HOST:PORT[/DB] (docs/fleet.md). Pure parsing, so
// the configuration can refuse a bad URL with exit 2 before anything connects.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rendezvous/base/result.h"

namespace rdv::fleet {

struct RedisUrl {
  std::string host;
  uint16_t port = 6379;
  std::string user;      // empty: AUTH with the password only (the "default" user)
  std::string password;  // empty: no AUTH (unless redis-password-file gives one)
  unsigned db = 0;

  // The URL without its password, for logs and error messages.
  std::string redacted() const;
};

// The reason when `text` is not redis://[user:password@]HOST:PORT[/DB] (HOST a name, an IPv4 address
// or [IPv6]; PORT 1-65535; DB 0-15).
Result<RedisUrl, std::string> parseRedisUrl(std::string_view text);

// A fleet name: 1-64 of [A-Za-z0-9._-] (it is written inside the {hash tag} of every key).
bool validFleetName(std::string_view name);

}  // namespace rdv::fleet
