// The key table: every configuration key with its kind, its help text (--help, docs/operator.md) and how
// it is read into Config.
#include <cstdio>

#include "rendezvous/node/api/cors.h"
#include "rendezvous/node/api/signal_api.h"
#include "rendezvous/node/config_values.h"

namespace rdv::node::config_detail {

const std::vector<Key>& keys() {
  static const std::vector<Key> base = {
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
      {{"http-max-connections", "uint", "HTTP/WebSocket connections in total before new ones are closed at accept (default: a quarter of the file-descriptor limit, 64-65536)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.httpMaxConnections); }},
      {{"http-max-connections-per-ip", "uint", "HTTP/WebSocket connections from one source IP (default: http-max-connections / 16, 8-256)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.httpMaxConnectionsPerIp); }},
      {{"http-idle-timeout", "uint", "seconds an HTTP connection may wait for its request, and a new WebSocket for its first message (1-3600; default 10)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 3600, c.httpIdleTimeoutSeconds); }},
      {{"signal-ping-interval", "uint", "seconds a WebSocket may be silent before it is pinged; no answer within as long again: dropped (5-3600; default 30)", false},
       [](const Json& v, Config& c) { return needUint(v, 5, 3600, c.signalPingIntervalSeconds); }},
      {{"http-cert", "string", "TLS certificate chain (PEM) for http-listen: the API on https and the hub on wss", false},
       [](const Json& v, Config& c) { return needString(v, c.httpCertFile); }},
      {{"http-key", "string", "TLS private key (PEM) for http-cert", false},
       [](const Json& v, Config& c) { return needString(v, c.httpKeyFile); }},
      {{"http-cors-origins", "string-list",
        "origins (https://app.example) whose pages may call the HTTP API (CORS; repeatable; \"*\": any; default: none)",
        true},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needStrings(v, c.httpCorsOrigins)) return err;
         for (const auto& o : c.httpCorsOrigins)
           if (auto err = checkCorsOrigin(o)) return err;
         return std::nullopt;
       }},
      {{"data-dir", "string", "directory for durable state (SQLite database); created if missing", false},
       [](const Json& v, Config& c) { return needString(v, c.dataDir); }},
      {{"admin-listen", "string", "admin API and Prometheus /metrics on ADDR:PORT (keep it on loopback); empty: off", false},
       [](const Json& v, Config& c) { return needOptionalEndpoint(v, c.adminListen); }},
      {{"admin-token", "string", "bearer token for the admin API (at least 16 bytes, not a placeholder)", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needString(v, c.adminToken)) return err;
         return c.adminToken.empty() ? std::nullopt : weakSecret(c.adminToken);
       }},
      {{"alternate-server", "string",
        "IP:PORT of another node: while draining (admin API POST /v1/drain) Allocate gets 300 Try Alternate "
        "with it (RFC 8489 ALTERNATE-SERVER); empty: 508 while draining", false},
       [](const Json& v, Config& c) { return needOptionalEndpoint(v, c.alternateServer); }},
      {{"alternate-domain", "string", "the alternate server's TLS name, sent as ALTERNATE-DOMAIN to TURN-over-TLS clients", false},
       [](const Json& v, Config& c) { return needString(v, c.alternateDomain); }},
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
        "still accepted while clients rotate; each at least 16 bytes, not a placeholder)", true},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         if (auto err = needStrings(v, c.authSecrets)) return err;
         for (const auto& s : c.authSecrets)
           if (auto weak = weakSecret(s)) return weak;
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
      {{"ledger-retention-days", "uint", "usage ledger: rows older than N days are deleted at start and daily (0-36500; default 0: kept)", false},
       [](const Json& v, Config& c) { return needUint(v, 0, 36500, c.ledgerRetentionDays); }},
      {{"ledger-client-address", "string", "usage ledger: what is kept of a client's address: full (IP:PORT), prefix (IPv4 /24, IPv6 /48) or none", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         const auto& m = c.ledgerClientAddress;
         if (auto err = needString(v, c.ledgerClientAddress); err || m == "full" || m == "prefix" || m == "none") return err;
         return "'" + m + "' is not full, prefix or none";
       }},
      {{"node-key", "string", "the node's secp256k1 key file (hex); default <data-dir>/node.key, created (0600) if missing", false},
       [](const Json& v, Config& c) { return needString(v, c.nodeKeyFile); }},
      {{"api-clock-skew", "uint", "seconds a signed API request (RDV-Sig, registry proof) may be off the node's clock; each is accepted once inside it (5-600; default 60)", false},
       [](const Json& v, Config& c) { return needUint(v, 5, 600, c.apiClockSkewSeconds); }},
      {{"ice-servers-per-minute", "uint", "GET /v1/ice-servers per source IP and minute (default 30)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.iceServersPerMinute); }},
      {{"ice-servers-burst", "uint", "burst of /v1/ice-servers requests per source IP (default 10)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 1000000, c.iceServersBurst); }},
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
      {{"signal-mailbox-per-sender", "uint", "signalling: envelopes stored from one sender, all recipients (default 1024)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 100000000, c.signalMailboxPerSender); }},
      {{"signal-mailbox-per-sender-bytes", "uint", "signalling: bytes of stored envelopes from one sender (default 4194304; must hold the largest envelope)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 4000000000u, c.signalMailboxPerSenderBytes); }},
      {{"signal-mailbox-per-sender-recipient", "uint", "signalling: envelopes stored from one sender for one recipient (default 64)", false},
       [](const Json& v, Config& c) { return needUint(v, 1, 10000000, c.signalMailboxPerSenderRecipient); }},
      {{"signal-mailbox-unknown-ttl", "uint", "signalling: seconds a stored envelope waits for a recipient the node has never seen (10-2592000, at most signal-mailbox-ttl; default 300)", false},
       [](const Json& v, Config& c) { return needUint(v, 10, 2592000, c.signalMailboxUnknownTtlSeconds); }},
      {{"signal-verify-threads", "uint", "signalling: threads that check frame signatures off the API thread, in each connection's order (0-64; 0: on the API thread; default min(2, cores))", false},
       [](const Json& v, Config& c) -> std::optional<std::string> {
         unsigned n = 0;
         if (auto err = needUint(v, 0, 64, n)) return err;
         c.signalVerifyThreads = n;
         return std::nullopt;
       }},
  };
  static const std::vector<Key> table = [] {
    std::vector<Key> all = base;
    for (const Key& k : publicNodeKeys()) all.push_back(k);  // config_keys_public.cpp
    appendTopicKeys(all);                                     // config_keys_topics.cpp
    appendRegistryKeys(all);                                  // config_keys_registry.cpp
    appendFastPathKeys(all);                                  // config_keys_fastpath.cpp
    return withFleetKeys(std::move(all));                     // config_fleet_keys.cpp
  }();
  return table;
}

}  // namespace rdv::node::config_detail
