// The engine's KernelPath (relay/commands.h) over the node's FastPath: one object for the whole node,
// shared by every worker's engine through relay::Config::kernelPath (like the quota book). It gives each
// channel the engine sends to the kernel a counter slot, turns the engine's (5-tuple, channel, relay
// port, peer) into the addresses the BPF maps hold, and watches the relay ports in use. Called on a
// channel's bind, removal and every metering tick, never per packet: one mutex is enough.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <tuple>
#include <vector>

#include "relay/commands.h"
#include "rendezvous/node/fastpath/fast_path.h"

namespace rdv::node {

class KernelChannels final : public relay::KernelPath {
 public:
  // `relayV4`: the IPv4 address relay sockets are bound to (the fast path needs a specific one).
  KernelChannels(std::shared_ptr<FastPath> fastPath, IpAddress relayV4, uint32_t slots);

  bool add(const relay::KernelChannel& c) override;
  void allow(const relay::KernelChannel& c, uint64_t toPeer, uint64_t toClient) override;
  relay::KernelTraffic remove(const relay::KernelChannel& c) override;
  relay::KernelTraffic collect(const relay::KernelChannel& c) override;

  size_t channels() const;
  FastPathStats stats() const { return fastPath_->stats(); }

 private:
  using Key = std::tuple<Endpoint, Endpoint, uint16_t>;  // client, server, channel
  static Key keyOf(const relay::KernelChannel& c) { return {c.client.client, c.client.server, c.channel}; }
  FastPathBinding bindingOf(const relay::KernelChannel& c, uint32_t slot) const;
  static relay::KernelTraffic traffic(const FastPathCounters& f);

  std::shared_ptr<FastPath> fastPath_;
  IpAddress relayV4_;
  mutable std::mutex mutex_;
  std::map<Key, uint32_t> slots_;        // channel -> its counter slot
  std::vector<uint32_t> free_;           // unused slots
  std::map<uint16_t, uint32_t> watched_;  // relay port -> channels using it
};

}  // namespace rdv::node
