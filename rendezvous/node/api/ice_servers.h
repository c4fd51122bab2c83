// GET /v1/ice-servers: short-lived TURN REST credentials (coturn-compatible) and STUN/TURN URLs, shaped as
// RTCIceServer objects. Two ways in:
//   * a peer of ours signs the request: `Authorization: RDV-Sig NODEID:UNIXTIME:SIG` where SIG (65-byte
//     recoverable secp256k1 signature, hex) covers identity::apiRequestDigest(kIceServersDomain, this
//     node's id, UNIXTIME); the credential's username is "EXPIRY:NODEID", so the relay meters per identity;
//   * an app that is not a peer (Synapse-like backends) presents the operator's shared secret:
//     `Authorization: Bearer SECRET`, optionally `?username=ID`, and gets "EXPIRY:ID".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rendezvous/identity/node_id.h"
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
  uint32_t maxClockSkewSeconds = 300;    // signed requests older or newer than this are refused
};

class IceServersApi {
 public:
  IceServersApi(IceServersConfig config, std::function<int64_t()> unixNow);
  HttpResponse get(const HttpRequest& request) const;

 private:
  std::optional<std::string> authenticate(const HttpRequest& request, int64_t now, HttpResponse& error) const;
  nlohmann::json servers(const std::string& identity, int64_t now) const;

  IceServersConfig config_;
  std::function<int64_t()> unixNow_;
};

}  // namespace rdv::node
