#include "rendezvous/node/api/ice_servers.h"


#include <charconv>
#include <chrono>
#include <random>

#include "relay/credentials.h"
#include "rendezvous/base/constant_time.h"
#include "rendezvous/identity/api_signature.h"
#include "rendezvous/identity/public_key.h"

namespace rdv::node {

namespace {

std::string hostOf(const Endpoint& bound, const std::vector<IpAddress>& external) {
  IpAddress ip = bound.ip();
  for (const auto& e : external)
    if (e.family() == ip.family()) ip = e;
  const std::string text = ip.toString();
  return ip.isV4() ? text : "[" + text + "]";
}

}  // namespace

IceServersApi::IceServersApi(IceServersConfig config, std::function<int64_t()> unixNow)
    : config_(std::move(config)),
      unixNow_(std::move(unixNow)),
      replays_(config_.maxClockSkewSeconds, config_.replayCacheEntries),
      // A saturated table (only real TCP peers can fill it) shares one more bucket of the per-IP size.
      perIp_(relay::RateLimit{config_.perIpPerMinute / 60.0, config_.perIpBurst},
             relay::RateLimit{config_.perIpPerMinute / 60.0, config_.perIpBurst}, config_.rateLimiterBuckets,
             std::random_device{}() * 0x9e3779b97f4a7c15ULL ^ std::random_device{}()) {}

// Returns the identity the credential is for, or nullopt with `error` set.
std::optional<std::string> IceServersApi::authenticate(const HttpRequest& r, int64_t now, HttpResponse& error) {
  const std::string_view auth = r.authorization;
  if (auth.rfind("Bearer ", 0) == 0) {
    const std::string_view secret = auth.substr(7);
    for (const auto& s : config_.authSecrets) {
      if (constantTimeEqual(asBytes(secret), asBytes(s))) {
        std::string id = r.queryValue("username").value_or("app");
        if (id.empty() || id.size() > 128 || id.find(':') != std::string::npos) {
          error = jsonError(400, "bad_username", "username must be 1-128 characters without ':'");
          return std::nullopt;
        }
        return id;
      }
    }
    error = jsonError(401, "unauthorized", "the shared secret is not one of this node's auth secrets");
    return std::nullopt;
  }
  if (auth.rfind("RDV-Sig ", 0) != 0) {
    error = jsonError(401, "unauthorized",
                      "send 'Authorization: RDV-Sig NODEID:UNIXTIME:SIGNATURE' or 'Authorization: Bearer SECRET'");
    return std::nullopt;
  }
  const std::string_view rest = auth.substr(8);
  const auto c1 = rest.find(':');
  const auto c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
  if (c2 == std::string_view::npos) {
    error = jsonError(400, "bad_authorization", "RDV-Sig needs NODEID:UNIXTIME:SIGNATURE");
    return std::nullopt;
  }
  auto nodeId = identity::NodeId::fromHex(rest.substr(0, c1));
  int64_t ts = 0;
  const std::string_view tsText = rest.substr(c1 + 1, c2 - c1 - 1);
  const auto [end, ec] = std::from_chars(tsText.data(), tsText.data() + tsText.size(), ts);
  Bytes sig;
  if (!nodeId || ec != std::errc() || end != tsText.data() + tsText.size() || !fromHex(rest.substr(c2 + 1), sig) ||
      sig.size() != 65) {
    error = jsonError(400, "bad_authorization", "RDV-Sig needs a 64-hex node id, a unix time and a 130-hex signature");
    return std::nullopt;
  }
  if (ts < now - config_.maxClockSkewSeconds || ts > now + config_.maxClockSkewSeconds) {
    error = jsonError(401, "stale_signature",
                      "the signed time is more than " + std::to_string(config_.maxClockSkewSeconds) + " s from now");
    return std::nullopt;
  }
  const auto digest = identity::apiRequestDigest(identity::kIceServersDomain, config_.nodeId, ts);
  auto key = identity::PublicKey::recover(digest, sig);
  if (!key || key->nodeId() != *nodeId) {
    error = jsonError(401, "bad_signature", "the signature does not verify for that node id");
    return std::nullopt;
  }
  // Each signed header once: a captured one (plain HTTP) mints nothing more for its owner's account.
  if (replays_.check(*nodeId, ts, digest, now) != identity::ReplayVerdict::Fresh) {
    ++replaysRefused_;
    error = jsonError(401, "replayed_signature",
                      "this RDV-Sig was used before; sign each request with the current time (one per second)");
    return std::nullopt;
  }
  return nodeId->hex();
}

nlohmann::json IceServersApi::servers(const std::string& identity, bool nodeBound, int64_t now) const {
  nlohmann::json stunUrls = nlohmann::json::array();
  nlohmann::json turnUrls = nlohmann::json::array();
  for (const auto& ep : config_.udp) {
    const std::string hp = hostOf(ep, config_.externalAddresses) + ":" + std::to_string(ep.port());
    stunUrls.push_back("stun:" + hp);
    turnUrls.push_back("turn:" + hp + "?transport=udp");
    turnUrls.push_back("turn:" + hp + "?transport=tcp");
  }
  for (const auto& ep : config_.tls)
    turnUrls.push_back("turns:" + hostOf(ep, config_.externalAddresses) + ":" + std::to_string(ep.port()) +
                       "?transport=tcp");
  const int64_t expires = now + config_.credentialTtlSeconds;
  const std::string username = std::to_string(expires) + ":" + identity;
  // A signed request gets a node-bound credential (the derived secret): the relay then meters it in the
  // node id's own quota key space, apart from REST usernames an app makes with the shared secret.
  const std::string secret =
      nodeBound ? relay::nodeCredentialSecret(config_.authSecrets.front()) : config_.authSecrets.front();
  nlohmann::json list = nlohmann::json::array();
  if (!stunUrls.empty()) list.push_back({{"urls", stunUrls}});
  list.push_back({{"urls", turnUrls},
                  {"username", username},
                  {"credential", relay::restPassword(secret, username)},
                  {"credentialType", "password"}});
  return {{"iceServers", list}, {"ttl", config_.credentialTtlSeconds}, {"expires", expires}};
}

HttpResponse IceServersApi::get(const HttpRequest& r) {
  // Per source IP before any work (signature recovery is the expensive part).
  if (auto ip = IpAddress::parse(r.remoteIp); ip && !perIp_.allow(*ip, std::chrono::steady_clock::now())) {
    ++rateLimited_;
    return jsonError(429, "rate_limited", "too many credential requests from this address; retry later");
  }
  if (config_.authSecrets.empty())
    return jsonError(503, "no_auth_secret", "this node has no auth-secret configured, so it cannot issue TURN credentials");
  const int64_t now = unixNow_();
  HttpResponse error;
  auto identity = authenticate(r, now, error);
  if (!identity) return error;
  const bool nodeBound = r.authorization.rfind("RDV-Sig ", 0) == 0;
  return jsonResponse(200, servers(*identity, nodeBound, now));
}

}  // namespace rdv::node
