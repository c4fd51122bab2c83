// GET /v1/ice-servers: short-lived TURN REST credentials (coturn-compatible) and STUN/TURN URLs, shaped as
// RTCIceServer objects. Two ways in:
//   * a peer of ours signs the request: `Authorization: RDV-Sig NODEID:UNIXTIME:SIG` where SIG (65-byte
//     recoverable secp256k1 signature, hex) covers identity::apiRequestDigest(kIceServersDomain, this
//     node's id, UNIXTIME); the credential's username is "EXPIRY:NODEID", so the relay meters per identity;
//     its password is made with relay::nodeCredentialSecret(secret), so the relay knows it is node-bound
//     (quota key space `node`, not `rest`: a REST username an app makes for that id is another identity);
//   * an app that is not a peer (Synapse-like backends) presents the operator's shared secret:
//     `Authorization: Bearer SECRET`, optionally `?username=ID`, and gets "EXPIRY:ID".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "relay/rate_limiter.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/identity/replay_cache.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/base/address.h"

namespace rdv::node {

struct IceServersConfig {
  std::vector<std::string> authSecrets;  // the first signs new credentials
  identity::NodeId nodeId;               // this node: binds signatures to it (no replay across nodes)
  std::vector<Endpoint> udp;             // STUN/TURN over UDP and TCP (same ports)
  std::vector<Endpoint> tls;             // TURN over TLS
  std::vector<IpAddress> externalAddresses;  // advertised instead of bound addresses (1:1 NAT)
  uint32_t credentialTtlSeconds = 86400;
  // Signed requests older or newer than this are refused; inside it each is accepted once (ReplayCache).
  // 60 s: NTP-synced hosts agree within a second, so this only tolerates badly set clocks, while a
  // captured header is useless after a minute and the cache holds a minute of requests.
  uint32_t maxClockSkewSeconds = 60;
  size_t replayCacheEntries = 65536;     // memory bound of the replay cache (~130 bytes an entry)
  // Per source IP (keyed-hash table of token buckets, relay/rate_limiter.h): requests per minute, burst.
  double perIpPerMinute = 30;
  double perIpBurst = 10;
  uint32_t rateLimiterBuckets = 16384;
};

class IceServersApi {
 public:
  IceServersApi(IceServersConfig config, std::function<int64_t()> unixNow);
  // API thread only (the replay cache and the rate limiter change with every request).
  HttpResponse get(const HttpRequest& request);

  uint64_t replaysRefused() const { return replaysRefused_; }
  uint64_t rateLimited() const { return rateLimited_; }

 private:
  std::optional<std::string> authenticate(const HttpRequest& request, int64_t now, HttpResponse& error);
  nlohmann::json servers(const std::string& identity, bool nodeBound, int64_t now) const;

  IceServersConfig config_;
  std::function<int64_t()> unixNow_;
  identity::ReplayCache replays_;
  relay::SourceRateLimiter perIp_;
  uint64_t replaysRefused_ = 0;
  uint64_t rateLimited_ = 0;
};

}  // namespace rdv::node
