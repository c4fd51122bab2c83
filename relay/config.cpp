#include "relay/config.h"

namespace rdv::relay {

std::vector<std::string> validate(const Config& c) {
  std::vector<std::string> errors;
  if (c.realm.empty()) errors.push_back("realm is empty");
  if (c.users.empty() && c.authSecrets.empty()) {
    errors.push_back("no TURN credentials: add a user or an auth secret (authentication is always on)");
  }
  for (const StaticUser& u : c.users) {
    if (u.name.empty() || (u.password.empty() && u.md5Key.size() != 16))
      errors.push_back("user '" + u.name + "' has an empty name or password");
  }
  for (const std::string& s : c.authSecrets) {
    if (s.empty()) errors.push_back("an auth secret is empty");
  }
  if (c.nonceKey.size() < 16) errors.push_back("nonce key shorter than 16 bytes");
  if (c.passwordAlgorithms.empty()) errors.push_back("no password algorithm offered");
  if (!c.relayV4 && !c.relayV6) errors.push_back("no relay address (IPv4 or IPv6)");
  if (c.relayV4 && !c.relayV4->local.isV4()) errors.push_back("the IPv4 relay address is not IPv4");
  if (c.relayV6 && c.relayV6->local.isV4()) errors.push_back("the IPv6 relay address is not IPv6");
  if (c.relayV4 && c.relayV4->external && !c.relayV4->external->isV4()) {
    errors.push_back("the IPv4 external address is not IPv4");
  }
  if (c.relayV6 && c.relayV6->external && c.relayV6->external->isV4()) {
    errors.push_back("the IPv6 external address is not IPv6");
  }
  if (c.relayPorts.min == 0 || c.relayPorts.min > c.relayPorts.max) {
    errors.push_back("relay port range " + std::to_string(c.relayPorts.min) + "-" + std::to_string(c.relayPorts.max) +
                     " is empty or starts at 0");
  }
  if (c.defaultLifetime.count() <= 0 || c.maxLifetime < c.defaultLifetime) {
    errors.push_back("lifetimes: need 0 < default <= max");
  }
  if (c.permissionLifetime.count() <= 0 || c.channelLifetime.count() <= 0 || c.nonceLifetime.count() <= 0 ||
      c.reservationLifetime.count() <= 0) {
    errors.push_back("permission, channel, nonce and reservation lifetimes must be positive");
  }
  if (c.unauthorizedRate.perSecond <= 0 || c.unauthorizedRate.burst < 1 || c.unauthorizedGlobalRate.perSecond <= 0 ||
      c.unauthorizedGlobalRate.burst < 1) {
    errors.push_back("401 rate limit needs a positive rate and a burst of at least 1");
  }
  if (c.allocateRate.perSecond <= 0 || c.allocateRate.burst < 1 || c.allocateGlobalRate.perSecond <= 0 ||
      c.allocateGlobalRate.burst < 1) {
    errors.push_back("Allocate rate limit needs a positive rate and a burst of at least 1");
  }
  if (c.portBindAttempts == 0) errors.push_back("portBindAttempts must be at least 1");
  return errors;
}

}  // namespace rdv::relay
