#include "rendezvous/node/config.h"

#include "rendezvous/node/signal_api.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

namespace rdv::node {

namespace {

using Json = nlohmann::json;
using Apply = std::function<std::optional<std::string>(const Json&, Config&)>;

struct Key {
  OptionSpec spec;
  Apply apply;
};

std::optional<std::string> needString(const Json& v, std::string& out) {
  if (!v.is_string()) return "expected a string";
  out = v.get<std::string>();
  return std::nullopt;
}

std::optional<std::string> needUint(const Json& v, unsigned min, unsigned max, unsigned& out) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) return "expected a whole number";
  const auto n = v.get<int64_t>();
  if (n < min || n > max) return "must be between " + std::to_string(min) + " and " + std::to_string(max);
  out = static_cast<unsigned>(n);
  return std::nullopt;
}

std::optional<std::string> needNumber(const Json& v, double min, double max, double& out) {
  if (!v.is_number()) return "expected a number";
  const double n = v.get<double>();
  if (!(n >= min && n <= max)) return "must be between " + std::to_string(min) + " and " + std::to_string(max);
  out = n;
  return std::nullopt;
}

std::optional<std::string> needEndpoints(const Json& v, std::vector<Endpoint>& out) {
  out.clear();
  if (v.is_string()) {  // a single endpoint is accepted where a list is expected
    Json list = Json::array({v});
    return needEndpoints(list, out);
  }
  if (!v.is_array()) return "expected a list of ADDR:PORT strings";
  for (const auto& e : v) {
    if (!e.is_string()) return "expected ADDR:PORT strings";
    auto ep = Endpoint::parse(e.get<std::string>());
    if (!ep) return "'" + e.get<std::string>() + "' is not ADDR:PORT (IPv6 as [ADDR]:PORT)";
    out.push_back(*ep);
  }
  return std::nullopt;
}

// "ADDR:PORT", or "" for off.
std::optional<std::string> needOptionalEndpoint(const Json& v, std::optional<Endpoint>& out) {
  std::string s;
  if (auto err = needString(v, s)) return err;
  if (s.empty()) {
    out.reset();
    return std::nullopt;
  }
  auto ep = Endpoint::parse(s);
  if (!ep) return "'" + s + "' is not ADDR:PORT (IPv6 as [ADDR]:PORT)";
  out = *ep;
  return std::nullopt;
}

std::optional<std::string> needStrings(const Json& v, std::vector<std::string>& out) {
  out.clear();
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return std::nullopt;
  }
  if (!v.is_array()) return "expected a list of strings";
  for (const auto& e : v) {
    if (!e.is_string()) return "expected a list of strings";
    out.push_back(e.get<std::string>());
  }
  return std::nullopt;
}

std::optional<std::string> needIps(const Json& v, std::vector<IpAddress>& out) {
  std::vector<std::string> texts;
  if (auto err = needStrings(v, texts)) return err;
  out.clear();
  for (const auto& t : texts) {
    auto ip = IpAddress::parse(t);
    if (!ip) return "'" + t + "' is not an IP address";
    out.push_back(*ip);
  }
  return std::nullopt;
}

std::optional<std::string> needCidrs(const Json& v, std::vector<relay::Cidr>& out) {
  std::vector<std::string> texts;
  if (auto err = needStrings(v, texts)) return err;
  out.clear();
  for (const auto& t : texts) {
    auto c = relay::parseCidr(t);
    if (!c) return c.error();
    out.push_back(*c);
  }
  return std::nullopt;
}

std::optional<std::string> needUint64(const Json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return std::nullopt;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return std::nullopt;
  }
  return "expected a whole number of at least 0";
}

// One quota class's fields (docs/operator.md, "Quotas"); `key` names it in errors.
std::optional<std::string> needQuotaClass(const Json& v, const std::string& key, relay::QuotaClass& c) {
  if (!v.is_object()) return key + ": expected an object of bytes-per-second, burst, bytes-per-day, allocations, "
                                   "max-lifetime, bytes-per-allocation";
  for (const auto& [field, value] : v.items()) {
    uint64_t n = 0;
    if (auto err = needUint64(value, n)) return key + "." + field + ": " + *err;
    if (field == "bytes-per-second") c.bytesPerSecond = n;
    else if (field == "burst") c.burst = n;
    else if (field == "bytes-per-day") c.bytesPerDay = n;
    else if (field == "bytes-per-allocation") c.bytesPerAllocation = n;
    else if (field == "allocations") {
      if (n > 100'000'000) return key + "." + field + ": must be at most 100000000";
      c.allocations = static_cast<uint32_t>(n);
    } else if (field == "max-lifetime") {
      if (n > 86400 * 365) return key + "." + field + ": must be at most a year in seconds";
      c.maxLifetime = relay::Seconds(static_cast<int64_t>(n));
    } else {
      return key + ": unknown field '" + field + "' (bytes-per-second, burst, bytes-per-day, allocations, "
                   "max-lifetime, bytes-per-allocation)";
    }
  }
  return std::nullopt;
}

const std::vector<Key>& keys() {
  static const std::vector<Key> table = {
      {{"listen", "endpoint-list", "STUN/TURN over UDP and TCP on ADDR:PORT (repeatable; port 0 picks a free port)", true},
       [](const Json& v, Config& c) { return needEndpoints(v, c.listen); }},
      {{"tls-listen", "endpoint-list", "STUN/TURN over TLS on ADDR:PORT (repeatable; needs cert and key)", true},
       [](const Json& v, Config& c) { return needEndpoints(v, c.tlsListen); }},
      {{"cert", "string", "TLS certificate chain file (PEM)", false},
       [](const Json& v, Config& c) { return needString(v, c.certFile); }},
      {{"key", "string", "TLS private key file (PEM)", false},
       [](const Json& v, Config& c) { return needString(v, c.keyFile); }},
      {{"alt-address", "string",
        "second address of this node for RFC 5780 NAT-behaviour discovery: IP or IP:PORT (opt-in; empty: off)", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (v.is_null()) return std::nullopt;
         std::string s;
         if (auto err = needString(v, s)) return err;
         if (s.empty()) {
           c.altIp.reset();
           return std::nullopt;
         }
         if (auto ip = IpAddress::parse(s)) {
           c.altIp = *ip;
           return std::nullopt;
         }
         if (auto ep = Endpoint::parse(s)) {
           c.altIp = ep->ip();
           c.altPort = ep->port();
           return std::nullopt;
         }
         return "'" + s + "' is not an IP address or IP:PORT";
       }},
      {{"workers", "uint", "worker threads, each with its own event loop and SO_REUSEPORT sockets (1-64)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 64, c.workers); }},
      {{"log-level", "string", "trace, debug, info, warn, error or off", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         std::string s;
         if (auto err = needString(v, s)) return err;
         static const char* levels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* l : levels)
           if (s == l) {
             c.logLevel = s;
             return std::nullopt;
           }
         return "'" + s + "' is not one of trace, debug, info, warn, error, off";
       }},
      {{"log-format", "string", "text (one line per event) or json (one JSON object per line)", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         std::string s;
         if (auto err = needString(v, s)) return err;
         if (s == "text") c.logFormat = LogFormat::Text;
         else if (s == "json") c.logFormat = LogFormat::Json;
         else return "'" + s + "' is not text or json";
         return std::nullopt;
       }},
      {{"software", "string", "SOFTWARE attribute sent in responses (empty: none)", false},
       [](const Json& v, Config& c) { return needString(v, c.software); }},
      {{"ready-file", "string", "write the bound endpoints as JSON to this file once the node is ready", false},
       [](const Json& v, Config& c) { return needString(v, c.readyFile); }},
      {{"tcp-idle-timeout", "uint", "seconds before an idle TCP/TLS connection is closed (5-86400)", false},
       [](const Json& v, Config& c) { return needUint(v, 5, 86400, c.tcpIdleTimeoutSeconds); }},
      {{"max-connections", "uint",
        "TCP/TLS connections per worker before new ones are refused (default: derived from the open-file limit)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.maxConnectionsPerWorker); }},
      {{"tcp-max-connections-per-ip", "uint",
        "TCP/TLS connections from one IPv4 address or IPv6 /64, node-wide (1-100000; default 64)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 100000, c.tcpMaxConnectionsPerIp); }},
      {{"tcp-first-frame-timeout", "uint",
        "seconds from accept to the TLS handshake and first complete STUN/TURN frame (1-300; default 10)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 300, c.tcpFirstFrameTimeoutSeconds); }},
      {{"http-listen", "string", "HTTP API (registry, signalling, ICE servers) on ADDR:PORT; empty: off", false},
       [](const Json& v, Config& c) { return needOptionalEndpoint(v, c.httpListen); }},
      {{"data-dir", "string", "directory for durable state (SQLite database); created if missing", false},
       [](const Json& v, Config& c) { return needString(v, c.dataDir); }},
      {{"admin-listen", "string", "admin API and Prometheus /metrics on ADDR:PORT (keep it on loopback); empty: off", false},
       [](const Json& v, Config& c) { return needOptionalEndpoint(v, c.adminListen); }},
      {{"admin-token", "string", "bearer token for the admin API (at least 16 characters)", false},
       [](const Json& v, Config& c) { return needString(v, c.adminToken); }},
      {{"realm", "string", "TURN realm (long-term credentials)", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needString(v, c.realm)) return err;
         if (c.realm.empty() || c.realm.size() > 763) return "must be 1-763 bytes";
         return std::nullopt;
       }},
      {{"user", "string-list", "TURN static user NAME:PASSWORD (repeatable)", true},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         std::vector<std::string> texts;
         if (auto err = needStrings(v, texts)) return err;
         c.users.clear();
         for (const auto& t : texts) {
           const auto colon = t.find(':');
           if (colon == std::string::npos || colon == 0 || colon + 1 == t.size())
             return "'" + t.substr(0, t.find(':')) + ":...' is not NAME:PASSWORD";
           c.users.push_back({t.substr(0, colon), t.substr(colon + 1)});
         }
         return std::nullopt;
       }},
      {{"auth-secret", "string-list",
        "TURN REST shared secret, coturn's static-auth-secret (repeatable: the first is current, the others "
        "still accepted while clients rotate)", true},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needStrings(v, c.authSecrets)) return err;
         for (const auto& s : c.authSecrets)
           if (s.empty()) return "an empty secret is not allowed";
         return std::nullopt;
       }},
      {{"relay-ports", "string", "relay port range MIN-MAX (default 49152-65535)", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         std::string s;
         if (auto err = needString(v, s)) return err;
         unsigned lo = 0, hi = 0;
         const auto dash = s.find('-');
         if (dash == std::string::npos || std::sscanf(s.c_str(), "%u-%u", &lo, &hi) != 2 || lo < 1 || hi > 65535 || lo > hi)
           return "'" + s + "' is not MIN-MAX with 1 <= MIN <= MAX <= 65535";
         c.relayPorts = {static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
         return std::nullopt;
       }},
      {{"relay-address", "ip-list", "address relay sockets bind to, one per family (default: the first listen address)", true},
       [](const Json& v, Config& c) { return needIps(v, c.relayAddresses); }},
      {{"external-address", "ip-list",
        "address told to clients as the relayed address, for a node behind 1:1 NAT (one per family)", true},
       [](const Json& v, Config& c) { return needIps(v, c.externalAddresses); }},
      {{"allow-peer", "cidr-list", "allow relaying to this CIDR even if a default rule denies it (repeatable)", true},
       [](const Json& v, Config& c) { return needCidrs(v, c.allowPeers); }},
      {{"deny-peer", "cidr-list", "deny relaying to this CIDR; wins over allow-peer (repeatable)", true},
       [](const Json& v, Config& c) { return needCidrs(v, c.denyPeers); }},
      {{"max-lifetime", "uint", "longest allocation lifetime a client may ask for, seconds (600-86400)", false},
       [](const Json& v, Config& c) { return needUint(v, 600, 86400, c.maxLifetimeSeconds); }},
      {{"allocations-per-user", "uint", "concurrent allocations per username per worker (0: unlimited)", false},
       [](const Json& v, Config& c) { return needUint(v, 0, 1000000, c.allocationsPerUser); }},
      {{"quota-classes", "object",
        "quota classes, JSON object: NAME -> {bytes-per-second, burst, bytes-per-day, allocations, max-lifetime, "
        "bytes-per-allocation} (0 or absent: unlimited); as a flag, the JSON text. Reloaded on SIGHUP", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (!v.is_object()) return "expected a JSON object of class name -> limits";
         c.quota.classes.clear();
         for (const auto& [name, fields] : v.items()) {
           relay::QuotaClass cls;
           cls.name = name;
           if (auto err = needQuotaClass(fields, "class '" + name + "'", cls)) return err;
           c.quota.classes[name] = cls;
         }
         return std::nullopt;
       }},
      {{"quota-members", "object",
        "who gets which class, JSON object: ENR node id (hex, as in REST usernames) or TURN username -> class "
        "name (a configured class, limited or unlimited); as a flag, the JSON text. Reloaded on SIGHUP", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (!v.is_object()) return "expected a JSON object of identity or username -> class name";
         c.quota.members.clear();
         for (const auto& [who, cls] : v.items()) {
           if (!cls.is_string()) return "'" + who + "': expected a class name";
           c.quota.members[who] = cls.get<std::string>();
         }
         return std::nullopt;
       }},
      {{"limited-class", "object",
        "overrides of the built-in limited class (identities not in quota-members; default: max-lifetime 120, "
        "bytes-per-allocation 131072, allocations 16); JSON object as for a class. Reloaded on SIGHUP", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         c.quota.limited = relay::limitedClass();
         return needQuotaClass(v, "limited-class", c.quota.limited);
       }},
      {{"bps-capacity", "uint",
        "node-wide relayed bytes per second, both directions, all identities (0: unlimited). Reloaded on SIGHUP", false},
       [](const Json& v, Config& c) { return needUint64(v, c.quota.bpsCapacity); }},
      {{"max-allocations", "uint", "node-wide concurrent allocations; 508 beyond (0: unlimited). Reloaded on SIGHUP",
        false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         unsigned n = 0;
         if (auto err = needUint(v, 0, 100'000'000, n)) return err;
         c.quota.maxAllocations = n;
         return std::nullopt;
       }},
      {{"price-per-gb-to-peer", "number",
        "cost model: price per 10^9 payload bytes relayed client->peer, in 'currency' (default 0.09: AWS EC2 "
        "internet egress, first 10 TB/month tier)", false},
       [](const Json& v, Config& c) { return needNumber(v, 0, 1e6, c.pricePerGbToPeer); }},
      {{"price-per-gb-to-client", "number",
        "cost model: price per 10^9 payload bytes relayed peer->client, in 'currency' (default 0.09)", false},
       [](const Json& v, Config& c) { return needNumber(v, 0, 1e6, c.pricePerGbToClient); }},
      {{"price-per-allocation-hour", "number", "cost model: price per allocation-hour, in 'currency' (default 0)", false},
       [](const Json& v, Config& c) { return needNumber(v, 0, 1e6, c.pricePerAllocationHour); }},
      {{"currency", "string", "cost model: currency label of the prices (default USD)", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needString(v, c.currency)) return err;
         if (c.currency.empty() || c.currency.size() > 16) return "must be 1-16 characters";
         return std::nullopt;
       }},
      {{"ledger-flush-interval", "uint",
        "usage ledger: write to SQLite at most every N ms (10-1000; default 1000); kill -9 loses at most one interval",
        false},
       [](const Json& v, Config& c) { return needUint(v, 10, 1000, c.ledgerFlushIntervalMs); }},
      {{"node-key", "string", "the node's secp256k1 key file (hex); default <data-dir>/node.key, created (0600) if missing", false},
       [](const Json& v, Config& c) { return needString(v, c.nodeKeyFile); }},
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
      {{"signal-max-envelope-bytes", "uint", "signalling: ciphertext bytes one envelope may carry (16-262144; default 65536)", false},
       [](const Json& v, Config& c) { return needUint(v, 16, 262144, c.signalMaxEnvelopeBytes); }},
      {{"signal-max-frame-bytes", "uint", "signalling: largest WebSocket text frame, bytes (default 98304; must fit the largest envelope)", false},
       [](const Json& v, Config& c) { return needUint(v, 1024, 1048576, c.signalMaxFrameBytes); }},
      {{"signal-rate", "uint", "signalling: frames per second per connection (token bucket; default 50)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 10000000, c.signalRate); }},
      {{"signal-burst", "uint", "signalling: token-bucket burst per connection, frames (default 100)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 10000000, c.signalBurst); }},
      {{"signal-mailbox-per-recipient", "uint", "signalling: envelopes stored for one offline recipient (default 256)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 10000000, c.signalMailboxPerRecipient); }},
      {{"signal-mailbox-total", "uint", "signalling: envelopes stored in total (default 100000)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 100000000, c.signalMailboxTotal); }},
      {{"signal-mailbox-bytes", "uint", "signalling: bytes of stored envelopes in total (default 268435456)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 4000000000u, c.signalMailboxBytes); }},
      {{"signal-mailbox-ttl", "uint", "signalling: seconds a stored envelope waits for its recipient (60-2592000; default 86400)", false},
       [](const Json& v, Config& c) { return needUint(v, 60, 2592000, c.signalMailboxTtlSeconds); }},
  };
  return table;
}

}  // namespace

const std::vector<OptionSpec>& optionSpecs() {
  static const std::vector<OptionSpec> specs = [] {
    std::vector<OptionSpec> out;
    for (const auto& k : keys()) out.push_back(k.spec);
    return out;
  }();
  return specs;
}

const char* embeddedDefaultConfig() {
  return R"json({
  // The embedded default: a node on loopback, no secrets needed. See docs/operator.md for every key.
  "listen": ["127.0.0.1:3478"],
  "http-listen": "127.0.0.1:8080",
  "data-dir": "rendezvous-data",
  "workers": 1,
  "log-level": "info",
  "log-format": "text"
})json";
}

Result<nlohmann::json, std::string> parseConfigText(const std::string& text, const std::string& origin) {
  auto j = Json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) return unexpected(origin + ": not valid JSON (comments are allowed)");
  if (!j.is_object()) return unexpected(origin + ": the configuration must be a JSON object");
  return j;
}

void mergeConfig(nlohmann::json& base, const nlohmann::json& overrides) {
  for (const auto& [k, v] : overrides.items()) base[k] = v;
}

bool isReloadableKey(const std::string& key) {
  return key == "quota-classes" || key == "quota-members" || key == "limited-class" || key == "bps-capacity" ||
         key == "max-allocations";
}

Result<Config, std::string> configFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return unexpected(std::string("configuration must be a JSON object"));
  std::map<std::string, const Key*> byName;
  for (const auto& k : keys()) byName[k.spec.name] = &k;
  Config c;
  for (const auto& [name, value] : j.items()) {
    auto it = byName.find(name);
    if (it == byName.end()) return unexpected("unknown configuration key '" + name + "'");
    if (auto err = it->second->apply(value, c)) return unexpected("configuration key '" + name + "': " + *err);
  }
  // Cross-key rules.
  if (c.listen.empty() && c.tlsListen.empty())
    return unexpected(std::string("configuration key 'listen': at least one listen or tls-listen address is needed"));
  if (!c.tlsListen.empty() && (c.certFile.empty() || c.keyFile.empty()))
    return unexpected(std::string("configuration key 'tls-listen': needs both 'cert' and 'key'"));
  if (c.altIp) {
    if (c.listen.empty()) return unexpected(std::string("configuration key 'alt-address': needs a 'listen' address"));
    const Endpoint& primary = c.listen.front();
    if (primary.family() != c.altIp->family())
      return unexpected(std::string("configuration key 'alt-address': must be of the same IP family as the first 'listen' address"));
    const bool wildcard = primary.ip() == IpAddress::parse(primary.ip().isV4() ? "0.0.0.0" : "::").value();
    if (wildcard)
      return unexpected(std::string("configuration key 'alt-address': the first 'listen' address must be a specific IP, not a wildcard"));
    if (*c.altIp == primary.ip())
      return unexpected(std::string("configuration key 'alt-address': must differ from the first 'listen' address"));
    if (c.altPort != 0 && c.altPort == primary.port())
      return unexpected(std::string("configuration key 'alt-address': its port must differ from the primary port"));
  }
  // A STUN/TURN port inside the relay range: the relay would skip it (taken), and worse, the policy's
  // relay-to-relay rule is keyed by port. Refuse it (port 0, picked by the kernel, is never configured).
  for (const Endpoint& ep : c.listen) {
    if (ep.port() != 0 && c.relayPorts.contains(ep.port()))
      return unexpected("configuration key 'listen': port " + std::to_string(ep.port()) + " of " + ep.toString() +
                        " lies inside 'relay-ports' " + std::to_string(c.relayPorts.min) + "-" +
                        std::to_string(c.relayPorts.max) + " (move one of them)");
  }
  if (c.altPort != 0 && c.relayPorts.contains(c.altPort))
    return unexpected("configuration key 'alt-address': port " + std::to_string(c.altPort) + " lies inside 'relay-ports' " +
                      std::to_string(c.relayPorts.min) + "-" + std::to_string(c.relayPorts.max) + " (move one of them)");
  if (c.adminListen && c.adminToken.size() < 16)
    return unexpected(std::string("configuration key 'admin-token': required with admin-listen, at least 16 characters"));
  for (const auto& family : {Family::V4, Family::V6}) {
    int relays = 0, externals = 0;
    for (const auto& ip : c.relayAddresses) relays += ip.family() == family;
    for (const auto& ip : c.externalAddresses) externals += ip.family() == family;
    if (relays > 1) return unexpected(std::string("configuration key 'relay-address': at most one address per IP family"));
    if (externals > 1)
      return unexpected(std::string("configuration key 'external-address': at most one address per IP family"));
  }
  if (const auto errors = relay::validate(c.quota); !errors.empty()) {
    // "quota-classes.gold: ..." / "quota-members: ..." / "limited-class: ..." / "bps-capacity: ..."
    const std::string& e = errors.front();
    const std::string key = e.substr(0, std::min(e.find(':'), e.find('.')));
    return unexpected("configuration key '" + key + "': " + e);
  }
  if (c.registryMinTtlSeconds > c.registryDefaultTtlSeconds || c.registryDefaultTtlSeconds > c.registryMaxTtlSeconds)
    return unexpected(std::string(
        "configuration key 'registry-default-ttl': must lie between 'registry-min-ttl' and 'registry-max-ttl'"));
  if (auto err = validateSignalConfig(c)) return unexpected(*err);
  return c;
}

}  // namespace rdv::node
