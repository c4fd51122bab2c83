// See kernel_channels.h.
#include "rendezvous/node/fastpath/kernel_channels.h"

namespace rdv::node {

KernelChannels::KernelChannels(std::shared_ptr<FastPath> fastPath, IpAddress relayV4, uint32_t slots)
    : fastPath_(std::move(fastPath)), relayV4_(relayV4) {
  free_.reserve(slots);
  for (uint32_t s = slots; s > 0; --s) free_.push_back(s - 1);
}

FastPathBinding KernelChannels::bindingOf(const relay::KernelChannel& c, uint32_t slot) const {
  return FastPathBinding{c.client.client, c.client.server, Endpoint(relayV4_, c.relay.port), c.peer, c.channel, slot};
}

relay::KernelTraffic KernelChannels::traffic(const FastPathCounters& f) {
  relay::KernelTraffic t;
  t.toPeer.bytes = f.bytesToPeer;
  t.toPeer.packets = f.packetsToPeer;
  t.toClient.bytes = f.bytesToClient;
  t.toClient.packets = f.packetsToClient;
  return t;
}

bool KernelChannels::add(const relay::KernelChannel& c) {
  if (c.relay.family != Family::V4) return false;
  std::lock_guard lock(mutex_);
  if (free_.empty() || slots_.count(keyOf(c)) != 0) return false;
  const uint32_t slot = free_.back();
  fastPath_->clearSlot(slot);  // counters and limit start at zero: nothing forwarded until allow()
  if (!fastPath_->bind(bindingOf(c, slot))) return false;
  free_.pop_back();
  slots_[keyOf(c)] = slot;
  if (watched_[c.relay.port]++ == 0) fastPath_->watchPort(c.relay.port, true);
  return true;
}

void KernelChannels::allow(const relay::KernelChannel& c, uint64_t toPeer, uint64_t toClient) {
  std::lock_guard lock(mutex_);
  const auto it = slots_.find(keyOf(c));
  if (it != slots_.end()) fastPath_->setBudget(it->second, toPeer, toClient);
}

relay::KernelTraffic KernelChannels::remove(const relay::KernelChannel& c) {
  std::lock_guard lock(mutex_);
  const auto it = slots_.find(keyOf(c));
  if (it == slots_.end()) return {};
  const uint32_t slot = it->second;
  // Unbind first, so nothing is counted after the read below.
  fastPath_->unbind(bindingOf(c, slot));
  relay::KernelTraffic t = traffic(fastPath_->takeCounters(slot));
  fastPath_->clearSlot(slot);
  slots_.erase(it);
  free_.push_back(slot);
  if (auto w = watched_.find(c.relay.port); w != watched_.end() && --w->second == 0) {
    fastPath_->watchPort(c.relay.port, false);
    watched_.erase(w);
  }
  return t;
}

relay::KernelTraffic KernelChannels::collect(const relay::KernelChannel& c) {
  std::lock_guard lock(mutex_);
  const auto it = slots_.find(keyOf(c));
  if (it == slots_.end()) return {};
  return traffic(fastPath_->takeCounters(it->second));
}

size_t KernelChannels::channels() const {
  std::lock_guard lock(mutex_);
  return slots_.size();
}

}  // namespace rdv::node
