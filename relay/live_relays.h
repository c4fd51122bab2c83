// Which relay ports of this node are live allocations right now, across every worker (DESIGN principle
// 6: the node's own addresses are reachable as peers only at these ports, so that two allocations of the
// node can reach each other while nothing else on the host can be reached through the relay).
//
// One bit per (family, port), in atomics: each worker's engine sets a bit when it creates an allocation
// and clears it when the allocation ends, before the relay socket is released (so a port is never marked
// live by one worker after another has cleared it for a socket that is gone). Reads are lock-free: the
// peer policy asks on every relayed datagram sent to one of the node's own addresses. 16 KiB in all.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "relay/types.h"

namespace rdv::relay {

class LiveRelayPorts {
 public:
  void add(RelayPort p) { word(p).fetch_or(bit(p), std::memory_order_relaxed); }
  void remove(RelayPort p) { word(p).fetch_and(~bit(p), std::memory_order_relaxed); }
  bool contains(RelayPort p) const { return (word(p).load(std::memory_order_relaxed) & bit(p)) != 0; }

 private:
  static uint64_t bit(RelayPort p) { return uint64_t{1} << (p.port % 64); }
  std::atomic<uint64_t>& word(RelayPort p) { return (p.family == Family::V4 ? v4_ : v6_)[p.port / 64]; }
  const std::atomic<uint64_t>& word(RelayPort p) const { return (p.family == Family::V4 ? v4_ : v6_)[p.port / 64]; }

  std::array<std::atomic<uint64_t>, 65536 / 64> v4_{};
  std::array<std::atomic<uint64_t>, 65536 / 64> v6_{};
};

}  // namespace rdv::relay
