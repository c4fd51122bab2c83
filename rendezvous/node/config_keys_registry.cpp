// The registry's keys (docs/registry.md, docs/operator.md), appended to the key table by keys().
#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

void appendRegistryKeys(std::vector<Key>& table) {
  std::vector<Key> registry = {
      {{"registry-min-ttl", "uint", "shortest registration TTL a peer may ask for, seconds (1-259200; default 60)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 259200, c.registryMinTtlSeconds); }},
      {{"registry-default-ttl", "uint", "TTL of a registration that asks for none, seconds (default 7200)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 2592000, c.registryDefaultTtlSeconds); }},
      {{"registry-max-ttl", "uint", "longest registration TTL, seconds (1-2592000; default 259200 = 72 h)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 2592000, c.registryMaxTtlSeconds); }},
      {{"registry-max-per-identity", "uint", "namespaces one node id may be registered in (default 100)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.registryMaxPerIdentity); }},
      {{"registry-max-per-namespace", "uint", "registrations one namespace may hold (default 1000000)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 100000000, c.registryMaxPerNamespace); }},
      {{"registry-max-records", "uint", "registrations held in total, all namespaces (default 200000)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 100000000, c.registryMaxRecords); }},
      {{"registry-writes-per-minute", "uint", "POST/DELETE /v1/registrations per source IP and minute (default 60)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.registryWritesPerMinute); }},
      {{"registry-write-burst", "uint", "burst of registry writes per source IP (default 20)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.registryWriteBurst); }},
  };
  for (auto& k : registry) table.push_back(std::move(k));
}

}  // namespace rdv::node::config_detail
