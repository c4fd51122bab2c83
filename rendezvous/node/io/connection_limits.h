// TURN-over-TCP/TLS connections per source, node-wide (DESIGN principle 8): the kernel spreads one
// client's connections over every worker's SO_REUSEPORT listener, so the count is shared by the workers
// (a mutex: taken once per accept and once per close, never per packet). IPv6 sources count by /64, the
// smallest prefix a site is given, so one host cannot dodge the cap by cycling its interface ids.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "rendezvous/base/address.h"

namespace rdv::node {

class ConnectionsPerSource {
 public:
  explicit ConnectionsPerSource(uint32_t maxPerSource) : max_(maxPerSource) {}

  // Counts one more connection from `source`; false (nothing counted) when it already has the maximum.
  bool tryAdd(const IpAddress& source);
  // A counted connection closed.
  void remove(const IpAddress& source);
  uint32_t count(const IpAddress& source) const;
  size_t sources() const;

  // The key a source counts under: the address itself (IPv4) or its /64 (IPv6).
  static IpAddress keyOf(const IpAddress& source);

 private:
  const uint32_t max_;
  mutable std::mutex mutex_;
  std::unordered_map<IpAddress, uint32_t> counts_;
};

}  // namespace rdv::node
