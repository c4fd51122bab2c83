#include "rendezvous/node/config.h"

#include <algorithm>
#include <map>

#include "rendezvous/node/api/signal_api.h"
#include "rendezvous/node/config_values.h"
#include "rendezvous/node/secret_files.h"

namespace rdv::node {

using config_detail::Json;
using config_detail::Key;
using config_detail::keys;

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
         key == "max-allocations" || key == "limited-max-share";
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
  // Cross-key rules. Secrets from files first: the rules below see them (admin-token with admin-listen).
  if (auto err = loadSecretFiles(c)) return unexpected(*err);
  c.quota.relayPortCount = c.relayPorts.size();  // the limited share is of these when max-allocations is 0
  if (c.listen.empty() && c.tlsListen.empty())
    return unexpected(std::string("configuration key 'listen': at least one listen or tls-listen address is needed"));
  if (!c.tlsListen.empty() && (c.certFile.empty() || c.keyFile.empty()))
    return unexpected(std::string("configuration key 'tls-listen': needs both 'cert' and 'key'"));
  if (c.httpCertFile.empty() != c.httpKeyFile.empty())
    return unexpected(std::string("configuration key '") + (c.httpCertFile.empty() ? "http-key" : "http-cert") +
                      "': needs both 'http-cert' and 'http-key'");
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
