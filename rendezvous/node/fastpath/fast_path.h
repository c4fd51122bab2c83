// The kernel fast path for relayed ChannelData (issue 14): loads relay_fastpath.bpf.c, attaches it at TC
// ingress of the node's interfaces and keeps its maps. The worker owns one FastPath per node and mirrors
// into it what the engine decided (a channel bound: bind(); its channel, permission or allocation gone:
// unbind()); the metering tick refills budgets and folds the kernel's counters into the usage.
//
// The program forwards only what the maps name; whatever it passes, the user-space path handles as if
// there were no fast path. Without privileges or BPF support open() fails with the reason, and the
// daemon's `kernel-fast-path = auto` logs it and carries on in user space.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rendezvous/base/address.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

// One bound channel, both directions: client <-> listen (ChannelData), relay <-> peer (plain UDP).
struct FastPathBinding {
  Endpoint client;  // the client's transport address as the node sees it
  Endpoint listen;  // the node address the client sends to
  Endpoint relay;   // the allocation's relayed transport address
  Endpoint peer;    // the peer the channel is bound to
  uint16_t channel = 0;
  uint32_t slot = 0;  // the allocation's counter slot, < FastPath::Options::maxAllocations
};

struct FastPathCounters {
  uint64_t bytesToPeer = 0, packetsToPeer = 0;
  uint64_t bytesToClient = 0, packetsToClient = 0;
  uint64_t overBudget = 0;
};

struct FastPathStats {
  uint64_t toPeerPackets = 0, toPeerBytes = 0, toClientPackets = 0, toClientBytes = 0;
  uint64_t passed = 0, overBudget = 0, redirectFailed = 0;
};

class FastPath {
 public:
  struct Options {
    std::vector<std::string> interfaces;  // device names ("lo", "eth0"); the program attaches to each
    uint32_t maxBindings = 65536;         // channels in total (each uses one entry in each direction)
    uint32_t maxAllocations = 65536;      // counter slots
    // Our filter's identity at TC ingress (handle and priority): one per node, stable across its
    // restarts (the daemon derives it from its data directory), so nodes sharing a device keep out of
    // each other's way and a node started after a kill -9 removes exactly what it left.
    uint16_t instance = 0;
  };

  // Removes any program of ours left attached (a daemon killed with -9: this instance's, and any other
  // instance's filter whose program no process holds any more), loads and attaches.
  static Result<std::unique_ptr<FastPath>, std::string> open(const Options& options);
  // How many other instances' orphaned filters open() removed.
  int orphansRemoved() const;
  // Detaches from every interface; the maps go with the last file descriptor.
  ~FastPath();
  FastPath(const FastPath&) = delete;
  FastPath& operator=(const FastPath&) = delete;

  // Removes the program of node `instance` from the named interfaces (start-up clean-up); returns how
  // many were found.
  static Result<int, std::string> detachStale(const std::vector<std::string>& interfaces, uint16_t instance);

  // Ports the program looks at: listen ports and live relay ports. Others cost one array lookup.
  bool watchPort(uint16_t port, bool on);
  // IPv4 only; false (with nothing written) for IPv6, a full map, a slot out of range or a destination
  // without a route. Each direction's egress device is looked up now, in the routing table of the
  // namespace open() ran in; a binding made before a route change keeps the old device until rebound.
  bool bind(const FastPathBinding& b);
  void unbind(const FastPathBinding& b);
  // Payload bytes the kernel may forward for this slot, per direction, from now on before it passes the
  // slot's packets to user space.
  bool setBudget(uint32_t slot, uint64_t toPeer, uint64_t toClient);
  // Reads and zeroes the slot's counters (the budget is left alone): what the kernel forwarded since the
  // last call, to be added to the allocation's usage.
  FastPathCounters takeCounters(uint32_t slot);
  // Removes the slot's budget and counters (the allocation ended; call takeCounters first).
  void clearSlot(uint32_t slot);
  FastPathStats stats() const;

 private:
  struct Impl;
  explicit FastPath(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace rdv::node
