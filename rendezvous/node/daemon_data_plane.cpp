#include "rendezvous/node/daemon.h"

// The daemon's data plane set-up: the listening sockets every worker shares (SO_REUSEPORT), RFC 5780's
// alternate addresses, and the relay engine's configuration.

#include <openssl/rand.h>
#include <uv.h>

#include <cstdio>
#include <ctime>
#include <fstream>

#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/api/ice_servers.h"
#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/node/ledger/ledger_metering.h"
#include "rendezvous/node/api/usage_api.h"
#include "rendezvous/node/log.h"
#include "rendezvous/node/api/signal_api.h"
#include "rendezvous/node/api/metrics.h"
#include "rendezvous/node/io/sockets.h"

namespace rdv::node {

std::optional<std::string> Daemon::bindSockets(std::vector<WorkerSockets>& perWorker) {
  const unsigned n = config_.workers;
  for (const auto& ep : config_.listen) {
    auto set = bindForWorkers(ep, {SocketType::Udp, SocketType::Tcp}, n);
    if (!set) return "listen " + ep.toString() + " (STUN/TURN over UDP and TCP): " + set.error();
    for (unsigned w = 0; w < n; ++w) {
      perWorker[w].udp.push_back({set->fds[w][0], set->endpoint});
      perWorker[w].stream.push_back({set->fds[w][1], set->endpoint, false});
    }
    bound_.udp.push_back(set->endpoint);
    bound_.tcp.push_back(set->endpoint);
  }
  for (const auto& ep : config_.tlsListen) {
    auto set = bindForWorkers(ep, {SocketType::Tcp}, n);
    if (!set) return "tls-listen " + ep.toString() + " (TURN over TLS): " + set.error();
    for (unsigned w = 0; w < n; ++w) perWorker[w].stream.push_back({set->fds[w][0], set->endpoint, true});
    bound_.tls.push_back(set->endpoint);
  }
  return bindAlternates(perWorker);
}

// RFC 5780 §6: the node answers on the four combinations of two IPs and two ports. The first listen
// address is (primary IP, primary port); this binds the other three, UDP only.
std::optional<std::string> Daemon::bindAlternates(std::vector<WorkerSockets>& perWorker) {
  if (!config_.altIp || bound_.udp.empty()) return std::nullopt;
  const Endpoint primary = bound_.udp.front();
  const unsigned n = config_.workers;
  std::string lastError;
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint16_t altPort = config_.altPort;
    if (altPort == 0 && config_.listen.front().port() != 0) altPort = static_cast<uint16_t>(primary.port() + 1);
    std::vector<BoundSet> sets;
    auto bindOne = [&](const Endpoint& ep) -> bool {
      auto set = bindForWorkers(ep, {SocketType::Udp}, n);
      if (!set) {
        lastError = set.error();
        return false;
      }
      sets.push_back(std::move(*set));
      return true;
    };
    bool ok = bindOne(Endpoint(primary.ip(), altPort));
    if (ok) altPort = sets.back().endpoint.port();
    ok = ok && bindOne(Endpoint(*config_.altIp, primary.port())) && bindOne(Endpoint(*config_.altIp, altPort));
    if (ok) {
      for (auto& set : sets)
        for (unsigned w = 0; w < n; ++w) perWorker[w].udp.push_back({set.fds[w][0], set.endpoint});
      bound_.rfc5780 = stun::AlternateAddresses{primary.ip(), *config_.altIp, primary.port(), altPort};
      return std::nullopt;
    }
    for (auto& set : sets)
      for (auto& row : set.fds)
        for (int fd : row) closeSocket(fd);
    if (config_.altPort != 0 || config_.listen.front().port() != 0) break;  // fixed ports: no retry
  }
  return "alt-address: " + lastError;
}

std::shared_ptr<const relay::Config> Daemon::relayConfig() const {
  auto rc = std::make_shared<relay::Config>();
  rc->logLevel = logEnabled(Level::Debug)  ? relay::LogLevel::Debug
                 : logEnabled(Level::Info) ? relay::LogLevel::Info
                                           : relay::LogLevel::Warning;
  rc->realm = config_.realm;
  rc->software = config_.software;
  rc->users = config_.users;
  rc->authSecrets = config_.authSecrets;
  rc->nonceKey.resize(32);
  if (RAND_bytes(rc->nonceKey.data(), static_cast<int>(rc->nonceKey.size())) != 1) std::abort();  // no CSPRNG: no node
  rc->maxLifetime = relay::Seconds(config_.maxLifetimeSeconds);
  rc->relayPorts = config_.relayPorts;
  rc->maxAllocationsPerUser = config_.allocationsPerUser;
  rc->allocateRate = relay::RateLimit{double(config_.allocateRatePerIp), double(config_.allocateBurstPerIp)};
  rc->quota = quota_;  // node-wide: one book for every worker
  if (config_.workers > 1) rc->sharedReservations = std::make_shared<relay::ReservationBook>();

  // Relay addresses: as configured, else the first specific listen address of each family.
  auto relayIp = [&](Family f) -> std::optional<IpAddress> {
    for (const auto& ip : config_.relayAddresses)
      if (ip.family() == f) return ip;
    for (const auto& ep : bound_.udp) {
      const bool wildcard = ep.ip() == *IpAddress::parse(f == Family::V4 ? "0.0.0.0" : "::");
      if (ep.family() == f && !wildcard) return ep.ip();
    }
    return std::nullopt;
  };
  // The node's own addresses (DESIGN principle 6): every interface address of the host, whatever the
  // listen addresses, plus the configured ones (relay, external, listen, alternate).
  std::vector<IpAddress> own = interfaceAddresses();
  std::vector<IpAddress> relayReachable;  // where relay sockets are reachable: the policy's relay-to-relay rule
  for (Family f : {Family::V4, Family::V6}) {
    auto ip = relayIp(f);
    if (!ip) continue;
    relay::RelayAddress ra{*ip, std::nullopt};
    for (const auto& ext : config_.externalAddresses)
      if (ext.family() == f) ra.external = ext;
    (f == Family::V4 ? rc->relayV4 : rc->relayV6) = ra;
    own.push_back(*ip);
    if (ra.external) own.push_back(*ra.external);
    const bool wildcard = *ip == *IpAddress::parse(f == Family::V4 ? "0.0.0.0" : "::");
    if (!wildcard) relayReachable.push_back(*ip);
    if (ra.external) relayReachable.push_back(*ra.external);
  }
  for (const auto& ep : bound_.udp) own.push_back(ep.ip());
  for (const auto& ep : bound_.tls) own.push_back(ep.ip());
  if (bound_.rfc5780) own.push_back(bound_.rfc5780->alternateIp);
  for (const auto& ip : config_.externalAddresses) own.push_back(ip);
  // A wildcard relay address: its sockets are reachable at every own address of that family.
  for (const auto& ra : {rc->relayV4, rc->relayV6}) {
    if (!ra || !(ra->local == *IpAddress::parse(ra->local.isV4() ? "0.0.0.0" : "::"))) continue;
    for (const auto& ip : own)
      if (ip.family() == ra->local.family()) relayReachable.push_back(ip);
  }
  rc->policy = relay::PeerPolicy(config_.allowPeers, config_.denyPeers, own, relayReachable);
  rc->liveRelays = liveRelays_;  // node-wide: one set for every worker
  rc->admission = admission_;    // node-wide: bans and drain (admin API)
  if (config_.alternateServer)
    admission_->setAlternate(relay::AlternateServer{*config_.alternateServer, config_.alternateDomain});

  if (!rc->relayV4 && !rc->relayV6)
    logEvent(Level::Warn, "turn-no-relay-address",
             {{"reason", "listening on a wildcard address only: set relay-address (and external-address)"}});
  if (rc->users.empty() && rc->authSecrets.empty())
    logEvent(Level::Info, "turn-no-credentials", {{"reason", "no user or auth-secret configured: TURN requests get 401"}});
  return rc;
}

}  // namespace rdv::node
