// Operator controls every worker's engine consults at Allocate (issue 18, the admin API): banned
// identities get 403 Forbidden, and a draining node refuses new allocations with 300 Try Alternate
// (RFC 8489 §10, ALTERNATE-SERVER, with ALTERNATE-DOMAIN for TLS) when an alternate is configured, else
// 508. Existing allocations are not touched by either (the admin API ends them explicitly).
//
// One object per node, shared by the engines (read at Allocate) and the admin API (written): bans are a
// copy-on-write snapshot behind an atomic pointer, so a read takes no lock; no clock is read here, the
// caller passes its `now`.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rendezvous/base/address.h"

namespace rdv::relay {

struct Ban {
  std::string reason;
  int64_t until = 0;  // unix seconds; 0: until lifted
};
using BanMap = std::unordered_map<std::string, Ban>;  // identity -> ban

struct AlternateServer {
  Endpoint server;     // ALTERNATE-SERVER (a transport address)
  std::string domain;  // ALTERNATE-DOMAIN for requests over TLS (RFC 8489 §14.16); empty: none
};

// Another node of the fleet for clients this node sends away (docs/fleet.md, "Balancing"): the least
// loaded live node of the directory, its TURN addresses as clients reach them.
struct FleetAlternate {
  std::string nodeId;
  std::vector<Endpoint> servers;     // UDP/TCP
  std::vector<Endpoint> tlsServers;  // TLS
};

class AdmissionControl {
 public:
  AdmissionControl() : bans_(std::make_shared<const BanMap>()) {}

  // The whole ban list (the admin API writes it through, after its store committed).
  void setBans(BanMap bans) { bans_.store(std::make_shared<const BanMap>(std::move(bans))); }
  std::shared_ptr<const BanMap> bans() const { return bans_.load(); }
  // `identity` (an ENR node id, a REST username's ID, a static user) or the full `username` is banned.
  bool banned(std::string_view identity, std::string_view username, int64_t unixNow) const {
    const auto snapshot = bans_.load();
    if (snapshot->empty()) return false;
    for (std::string_view who : {identity, username}) {
      const auto it = snapshot->find(std::string(who));
      if (it != snapshot->end() && (it->second.until == 0 || unixNow < it->second.until)) return true;
    }
    return false;
  }

  void setDraining(bool on) { draining_.store(on, std::memory_order_relaxed); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }
  // Set once at start (the alternate-server key), before any engine runs.
  void setAlternate(std::optional<AlternateServer> alternate) { alternate_ = std::move(alternate); }
  const std::optional<AlternateServer>& alternate() const { return alternate_; }

  // The fleet (docs/fleet.md, "Balancing"), written by its thread every directory read: the node to send
  // clients to (null: none), and whether this node is over its relayed byte capacity (new Allocates then
  // go to that node, when there is one).
  void setFleetAlternate(std::shared_ptr<const FleetAlternate> a) { fleetAlternate_.store(std::move(a)); }
  std::shared_ptr<const FleetAlternate> fleetAlternate() const { return fleetAlternate_.load(); }
  void setBusy(bool on) { busy_.store(on, std::memory_order_relaxed); }
  bool busy() const { return busy_.load(std::memory_order_relaxed); }
  // Where to send a client of `family` that came over TLS or not: the fleet's alternate with an address of
  // the client's family (RFC 8489 §14.15), else the configured alternate-server, else none.
  std::optional<AlternateServer> alternateFor(bool v4, bool tls) const {
    if (const auto fleet = fleetAlternate_.load()) {
      for (const Endpoint& e : tls && !fleet->tlsServers.empty() ? fleet->tlsServers : fleet->servers)
        if (e.ip().isV4() == v4) return AlternateServer{e, {}};
    }
    return alternate_;
  }

 private:
  std::atomic<std::shared_ptr<const BanMap>> bans_;
  std::atomic<bool> draining_{false};
  std::optional<AlternateServer> alternate_;
  std::atomic<std::shared_ptr<const FleetAlternate>> fleetAlternate_;
  std::atomic<bool> busy_{false};
};

}  // namespace rdv::relay
