// The STUN/TURN servers an agent gathers with, parsed from a node's GET /v1/ice-servers reply
// (RTCIceServer-shaped: {"iceServers":[{"urls":[...],"username":...,"credential":...}],...}).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/base/result.h"

namespace rdv::agent {

struct StunServer {
  std::string host;  // an IP address (libnice does not resolve names)
  uint16_t port = 3478;
};

struct TurnServer {
  std::string host;
  uint16_t port = 3478;
  enum class Transport { Udp, Tcp, Tls } transport = Transport::Udp;
  std::string username;
  std::string password;
};

struct IceConfig {
  std::optional<StunServer> stun;  // libnice takes one STUN server: the first
  std::vector<TurnServer> turn;
  uint32_t ttlSeconds = 0;  // how long the TURN credentials last (the reply's "ttl"); 0: not given
};

// Unknown schemes are skipped; a malformed document is an error naming what is wrong.
Result<IceConfig, std::string> parseIceServers(const nlohmann::json& reply);

// An IPv6-only host reaches an IPv4 node through NAT64: its node URL names the node by an IPv6 address
// of a /96 NAT64 prefix (RFC 6052), while /v1/ice-servers names the STUN/TURN servers by their IPv4
// addresses, which that host cannot reach. When `nodeHost` is in the well-known prefix 64:ff9b::/96, or
// embeds one of the servers' IPv4 addresses in its last 32 bits (a network-specific prefix), every IPv4
// server address is rewritten into that prefix (198.18.0.2 -> 64:ff9b::c612:2); else nothing changes.
IceConfig synthesizeNat64(IceConfig config, const std::string& nodeHost);

}  // namespace rdv::agent
