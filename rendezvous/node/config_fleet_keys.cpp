// The fleet's configuration keys (docs/fleet.md): appended to the key table (config_keys.cpp).
#include "rendezvous/fleet/redis_url.h"
#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

std::vector<Key> withFleetKeys(std::vector<Key> table) {
  const Key fleetKeys[] = {
      Key{{"redis", "string", "join a fleet: redis://[user:password@]HOST:PORT[/DB] shared by the fleet's nodes (docs/fleet.md); empty: a single node", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needString(v, c.redisUrl)) return err;
         if (c.redisUrl.empty()) return std::nullopt;
         if (auto url = fleet::parseRedisUrl(c.redisUrl); !url) return url.error();
         return std::nullopt;
       }},
      Key{{"redis-password-file", "string", "file whose first line is the Redis password (instead of one in the redis URL)", false},
       [](const Json& v, Config& c) { return needString(v, c.redisPasswordFile); }},
      Key{{"fleet", "string", "the fleet's name, 1-64 of A-Z a-z 0-9 . _ - (default \"default\"): nodes with the same redis and fleet share state", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needString(v, c.fleet)) return err;
         if (!fleet::validFleetName(c.fleet)) return "'" + c.fleet + "' is not 1-64 of A-Z a-z 0-9 . _ -";
         return std::nullopt;
       }},
  };
  table.insert(table.end(), std::begin(fleetKeys), std::end(fleetKeys));
  return table;
}

}  // namespace rdv::node::config_detail
