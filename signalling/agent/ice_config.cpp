#include "signalling/agent/ice_config.h"

#include <algorithm>
#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace rdv::agent {

namespace {

// "host:port" or "[v6]:port" (port optional) -> host, port.
bool splitHostPort(std::string_view text, uint16_t defaultPort, std::string& host, uint16_t& port) {
  port = defaultPort;
  std::string_view portText;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      portText = text.substr(close + 2);
    }
  } else {
    const auto colon = text.rfind(':');
    host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) portText = text.substr(colon + 1);
  }
  if (host.empty()) return false;
  if (!portText.empty()) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), p);
    if (ec != std::errc() || end != portText.data() + portText.size() || p == 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  }
  return true;
}

}  // namespace

Result<IceConfig, std::string> parseIceServers(const nlohmann::json& reply) {
  if (!reply.is_object() || !reply.contains("iceServers") || !reply["iceServers"].is_array())
    return unexpected(std::string("ice-servers reply has no iceServers array"));
  IceConfig config;
  if (reply.contains("ttl") && reply["ttl"].is_number_unsigned())
    config.ttlSeconds = static_cast<uint32_t>(std::min<uint64_t>(reply["ttl"].get<uint64_t>(), 86400 * 30));
  for (const auto& server : reply["iceServers"]) {
    if (!server.is_object() || !server.contains("urls")) return unexpected(std::string("an iceServers entry has no urls"));
    std::vector<std::string> urls;
    if (server["urls"].is_string()) {
      urls.push_back(server["urls"].get<std::string>());
    } else if (server["urls"].is_array()) {
      for (const auto& u : server["urls"])
        if (u.is_string()) urls.push_back(u.get<std::string>());
    }
    const std::string username = server.value("username", "");
    const std::string credential = server.contains("credential") && server["credential"].is_string()
                                       ? server["credential"].get<std::string>()
                                       : "";
    for (const auto& url : urls) {
      std::string_view u = url;
      std::string query;
      if (const auto q = u.find('?'); q != std::string_view::npos) {
        query = std::string(u.substr(q + 1));
        u = u.substr(0, q);
      }
      if (u.rfind("stun:", 0) == 0) {
        StunServer s;
        if (!splitHostPort(u.substr(5), 3478, s.host, s.port)) return unexpected("bad STUN URL " + url);
        if (!config.stun) config.stun = s;
      } else if (u.rfind("turn:", 0) == 0 || u.rfind("turns:", 0) == 0) {
        const bool tls = u.rfind("turns:", 0) == 0;
        TurnServer t;
        if (!splitHostPort(u.substr(tls ? 6 : 5), tls ? 5349 : 3478, t.host, t.port)) return unexpected("bad TURN URL " + url);
        t.transport = tls ? TurnServer::Transport::Tls
                      : query == "transport=tcp" ? TurnServer::Transport::Tcp
                                                 : TurnServer::Transport::Udp;
        t.username = username;
        t.password = credential;
        config.turn.push_back(t);
      }
    }
  }
  return config;
}

IceConfig synthesizeNat64(IceConfig config, const std::string& nodeHost) {
  in6_addr node{};
  if (inet_pton(AF_INET6, nodeHost.c_str(), &node) != 1) return config;
  // The NAT64 prefix (/96): the well-known one, or a network-specific one that the node URL shows by
  // embedding one of the node's own IPv4 server addresses in its last 32 bits (the way RFC 7050 learns a
  // prefix from a known IPv4 address).
  static const uint8_t kWellKnown[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  bool nat64 = std::memcmp(node.s6_addr, kWellKnown, sizeof(kWellKnown)) == 0;
  auto embedsNode = [&node](const std::string& host) {
    in_addr v4{};
    return inet_pton(AF_INET, host.c_str(), &v4) == 1 && std::memcmp(node.s6_addr + 12, &v4, 4) == 0;
  };
  if (config.stun && embedsNode(config.stun->host)) nat64 = true;
  for (const auto& t : config.turn) nat64 = nat64 || embedsNode(t.host);
  if (!nat64) return config;
  auto rewrite = [&node](std::string& host) {
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) != 1) return;
    in6_addr v6 = node;
    std::memcpy(v6.s6_addr + 12, &v4, 4);
    char text[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, &v6, text, sizeof(text))) host = text;
  };
  if (config.stun) rewrite(config.stun->host);
  for (auto& t : config.turn) rewrite(t.host);
  return config;
}

}  // namespace rdv::agent
