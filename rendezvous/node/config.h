// The daemon's configuration: one immutable struct, built from the embedded defaults, a JSON file
// (comments allowed) and command-line flags, in that order. Every key is a flag of the same name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "relay/config.h"
#include "relay/peer_policy.h"
#include "relay/quota.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

enum class LogFormat { Text, Json };

struct Config {
  std::vector<Endpoint> listen;     // STUN/TURN over UDP and TCP, same port
  std::vector<Endpoint> tlsListen;  // STUN/TURN over TLS
  std::string certFile;
  std::string keyFile;
  // RFC 5780: the second IP (and optionally port) of this node; the first `listen` address is the primary.
  std::optional<IpAddress> altIp;
  uint16_t altPort = 0;  // 0: primary port + 1 (or any free port when the primary port is 0)
  unsigned workers = 1;
  std::string logLevel = "info";
  LogFormat logFormat = LogFormat::Text;
  std::string software = "rendezvous 0.1.0";
  std::string readyFile;  // written once every socket is bound: the actual endpoints as JSON
  // TURN over TCP/TLS (docs/operator.md, "Running a public node"). Idleness counts complete frames only.
  unsigned tcpIdleTimeoutSeconds = 300;
  unsigned tcpFirstFrameTimeoutSeconds = 10;  // accept -> TLS handshake and first complete frame
  unsigned tcpMaxConnectionsPerIp = 64;       // node-wide, per IPv4 address or IPv6 /64
  unsigned maxConnectionsPerWorker = 0;       // 0: derived from the open-file limit (defaultMaxConnections)
  std::optional<Endpoint> httpListen;  // the HTTP API (registry, signalling, ICE servers); nullopt: off
  // HTTP API limits (docs/operator.md, "Running a public node"). 0: derived from the file-descriptor
  // limit at start (httpConnectionCaps()).
  unsigned httpMaxConnections = 0;
  unsigned httpMaxConnectionsPerIp = 0;
  unsigned httpIdleTimeoutSeconds = 10;    // request headers, keep-alive, a WebSocket's first message
  unsigned signalPingIntervalSeconds = 30;  // a silent WebSocket is pinged; no answer for as long: dropped
  std::vector<std::string> httpCorsOrigins;  // origins whose pages may call the API (CORS); empty: none
  std::string httpCertFile;  // TLS on http-listen (https, wss): PEM chain and key; empty: plain HTTP
  std::string httpKeyFile;
  std::string dataDir;                 // durable state (SQLite); empty: ./rendezvous-data
  std::optional<Endpoint> adminListen;  // admin API and /metrics; nullopt: off
  std::string adminToken;               // bearer token the admin API requires
  // Drain (admin API, issue 18): where Allocate requests are sent while draining (300 ALTERNATE-SERVER,
  // RFC 8489 §10), and the domain told to TLS clients with it (ALTERNATE-DOMAIN). None: 508 while draining.
  std::optional<Endpoint> alternateServer;
  std::string alternateDomain;

  // TURN (RFC 8656). Authentication is always on: with no users and no secrets every request gets 401.
  std::string realm = "rendezvous";
  std::vector<relay::StaticUser> users;
  std::vector<std::string> authSecrets;  // coturn-compatible REST secrets; the first is current
  relay::PortRange relayPorts{49152, 65535};
  std::vector<IpAddress> relayAddresses;     // default: the first listen address of each family
  std::vector<IpAddress> externalAddresses;  // advertised instead of the relay address of the same family
  // The kernel fast path (issue 14, docs/turn.md): "off", "auto" (use it when the kernel and privileges
  // allow, else user space with one log line) or "on" (refuse to start without it); the devices to attach
  // to (empty: those carrying the listen and relay addresses). Keys in config_keys_fastpath.cpp.
  std::string kernelFastPath = "off";
  std::vector<std::string> kernelFastPathInterfaces;
  std::vector<relay::Cidr> allowPeers;
  std::vector<relay::Cidr> denyPeers;
  unsigned maxLifetimeSeconds = 3600;
  unsigned allocationsPerUser = 64;  // per worker; 0: unlimited
  // Quotas (issue 7): classes, members, the limited class, node-wide capacity and allocation total.
  // Reloaded on SIGHUP (quota-classes, quota-members, limited-class, bps-capacity, max-allocations).
  relay::QuotaPolicy quota;

  // Usage ledger and cost model (docs/ledger.md, docs/operator.md "Cost model"). Prices per 10^9 bytes
  // of relayed payload in each direction and per allocation-hour, in `currency`.
  double pricePerGbToPeer = 0.09;
  double pricePerGbToClient = 0.09;
  double pricePerAllocationHour = 0.0;
  std::string currency = "USD";
  unsigned ledgerFlushIntervalMs = 1000;  // the ledger writes at most this often (<= 1000)
  unsigned ledgerRetentionDays = 0;       // rows older are deleted (at start, then daily); 0: kept
  std::string ledgerClientAddress = "full";  // full | prefix (/24, /48) | none

  // ENR registry (docs/registry.md) and the node's own record.
  std::string nodeKeyFile;  // empty: <data-dir>/node.key, generated (mode 0600) on first start
  unsigned registryMinTtlSeconds = 60;
  unsigned registryDefaultTtlSeconds = 2 * 3600;
  unsigned registryMaxTtlSeconds = 72 * 3600;
  unsigned registryMaxPerIdentity = 100;       // namespaces one node id may be registered in
  unsigned registryMaxPerNamespace = 1000000;  // registrations one namespace may hold
  unsigned registryMaxRecords = 200000;        // registrations held in total (all namespaces)
  unsigned registryWritesPerMinute = 60;       // POST/DELETE /v1/registrations per source IP
  unsigned registryWriteBurst = 20;

  // Signed API requests (RDV-Sig on /v1/ice-servers, registry proofs): the allowed clock skew, inside
  // which each signature is accepted once (identity::ReplayCache).
  unsigned apiClockSkewSeconds = 60;
  unsigned iceServersPerMinute = 30;  // GET /v1/ice-servers per source IP
  unsigned iceServersBurst = 10;

  // Signalling hub limits (docs/signalling.md); SignalApi turns them into a signalling::HubConfig.
  unsigned signalMaxEnvelopeBytes = 64 * 1024;        // ciphertext (body + 16-byte tag) per envelope
  unsigned signalMaxFrameBytes = 96 * 1024;           // WebSocket text frame
  unsigned signalRate = 50;                           // frames per second per connection
  unsigned signalBurst = 100;                         // token-bucket burst per connection
  unsigned signalMailboxPerRecipient = 256;           // envelopes waiting for one offline recipient
  unsigned signalMailboxTotal = 100000;               // envelopes waiting, all recipients
  unsigned signalMailboxBytes = 256 * 1024 * 1024;    // their stored size, all recipients
  unsigned signalMailboxTtlSeconds = 24 * 3600;       // how long a stored envelope waits
  unsigned signalMailboxPerSender = 1024;             // envelopes waiting from one sender, all recipients
  unsigned signalMailboxPerSenderBytes = 4 * 1024 * 1024;  // their stored size
  unsigned signalMailboxPerSenderRecipient = 64;      // envelopes from one sender waiting for one recipient
  unsigned signalMailboxUnknownTtlSeconds = 300;      // the wait for a recipient the node has never seen
  // Threads that decode frames and check signatures off the API thread; 0: on the API thread.
  // nullopt: min(2, cores).
  std::optional<unsigned> signalVerifyThreads;

  // Running a public node (issue 12; config_keys_public.cpp). Authenticated Allocates per source IP and
  // worker (relay::Config::allocateRate). Secrets read from files at load (secret_files.cpp), so that
  // they are not on the command line; added to the inline keys' values.
  unsigned allocateRatePerIp = 10;
  unsigned allocateBurstPerIp = 100;
  std::string authSecretFile;
  std::string adminTokenFile;
  std::string usersFile;
  // Topics and presence (docs/signalling.md, "Topics" and "Presence"; keys in config_keys_topics.cpp).
  unsigned signalTopicHistory = 16;                    // messages retained per topic for late joiners
  unsigned signalTopicTtlSeconds = 300;                // how long a retained message is kept
  unsigned signalTopicMax = 10000;                     // topics alive on the hub
  unsigned signalTopicSubscriptions = 64;              // topics one connection may subscribe to
  unsigned signalTopicHistoryBytes = 64 * 1024 * 1024;  // retained messages in total, bytes
  unsigned signalTopicMaxBytes = 8192;                 // body of one published message
  unsigned signalTopicPublishRate = 10;                // publications per second per publisher (burst 2x)
  unsigned signalTopicRate = 100;                      // publications per second per topic (burst 2x)
  unsigned signalPresenceWatches = 256;                // identities one connection may watch
  // A fleet of nodes sharing state through Redis (docs/fleet.md). Empty redisUrl: a single node.
  std::string redisUrl;           // redis://[user:password@]HOST:PORT[/DB]
  std::string redisPasswordFile;  // the password in a file (first line), instead of in the URL
  std::string fleet = "default";  // the fleet's name: the {hash tag} of its keys
};

// Every key the configuration accepts, with its help text; the same table drives --help and validation.
struct OptionSpec {
  const char* name;
  const char* kind;  // "string", "endpoint-list", "uint", ...
  const char* help;
  bool repeatable;
};
const std::vector<OptionSpec>& optionSpecs();

// The embedded default configuration (JSON with comments): loopback ports, no secrets.
const char* embeddedDefaultConfig();

// Parses JSON text (comments allowed). Errors name the key and the reason.
Result<nlohmann::json, std::string> parseConfigText(const std::string& text, const std::string& origin);
// Merges `overrides` into `base` key by key (a key present in overrides replaces the base value).
void mergeConfig(nlohmann::json& base, const nlohmann::json& overrides);
// The keys SIGHUP applies to a running node; every other key needs a restart.
bool isReloadableKey(const std::string& key);
// Validates and converts; unknown keys and bad values are refused with the key's name and the reason.
Result<Config, std::string> configFromJson(const nlohmann::json& j);

}  // namespace rdv::node
