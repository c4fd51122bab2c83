// The engine side of the kernel fast path (issue 14): which channels the kernel may forward, what it may
// forward before the engine looks again, and what it did forward, metered and charged exactly as the
// user-space path does (data_path.cpp, quota_path.cpp). The kernel itself is behind KernelPath
// (commands.h); the daemon's is node/fastpath.
//
// One predicate, kernelEligible(), applied when a channel is bound or refreshed, when a permission or
// channel deadline fires (expiry.cpp: the channel leaves the kernel at its permission's expiry, not at
// the next tick) and at every metering tick: a channel is in the kernel exactly while it holds. What the
// kernel does not check per packet - permission expiry, rate limits - is checked here, and an identity
// the kernel took over its rate is withdrawn to the exact user-space GCRA for a tick. Caps and daily budgets are the
// kernel's to enforce, from the allowance: it passes them by at most one datagram per CPU. An identity
// whose class has a rate (bytes-per-second) stays in user space altogether: the kernel has no GCRA, and a
// tick's allowance cannot bound every shorter window (a withdrawal after the fact let a whole tick through
// at any rate).
#include <algorithm>
#include <limits>

#include "relay/server.h"

namespace rdv::relay {

namespace {
KernelChannel kernelChannel(const ChannelBinding& c) { return KernelChannel{c.client, c.channel, c.relay, c.peer}; }
}  // namespace

bool Server::kernelEligible(const ChannelBinding& c, Instant now) const {
  const bool rateClass = c.meter != nullptr && c.meter->quota != nullptr &&
                         c.meter->quota->cls.load(std::memory_order_acquire)->bytesPerSecond != 0;
  return kernel_ != nullptr && !rateClass && c.client.transport == Transport::Udp && c.client.client.ip().isV4() &&
         c.client.server.ip().isV4() && c.client.server.ip() != IpAddress::v4(0u) && c.peer.ip().isV4() &&
         !c.toOwnRelay && !c.overRate && c.expires > now && c.permissionExpires > now;
}

void Server::syncKernel(ChannelBinding& c, const Allocation& a, const Now& now) {
  const bool eligible = kernelEligible(c, now.mono);
  if (eligible == c.inKernel) return;
  if (eligible) {
    if (!kernel_->add(kernelChannel(c))) return;  // stays in user space; tried again next tick
    c.inKernel = true;
    ++c.meter->kernelChannels;
    allowKernel(c, a, now.unixSeconds);
    return;
  }
  c.inKernel = false;
  --c.meter->kernelChannels;
  foldKernel(c, kernel_->remove(kernelChannel(c)), now, false);
}

bool Server::kernelSettle(const ClientTuple& tuple, const Now& now, bool mayEnd) {
  const Allocation* found = allocations_.find(tuple);
  if (found == nullptr) return false;
  for (const uint16_t number : SmallVector<uint16_t, 4>(found->channels)) {
    const auto it = channels_.find(ChannelKey{tuple, number});
    if (it == channels_.end() || !it->second.inKernel) continue;
    if (!foldKernel(it->second, kernel_->collect(kernelChannel(it->second)), now, mayEnd)) return false;
  }
  return true;
}

void Server::kernelReallow(const ClientTuple& tuple, const Now& now) {
  const Allocation* found = allocations_.find(tuple);
  if (found == nullptr) return;
  for (const uint16_t number : found->channels) {
    const auto it = channels_.find(ChannelKey{tuple, number});
    if (it != channels_.end() && it->second.inKernel) allowKernel(it->second, *found, now.unixSeconds);
  }
}

// The allocation's per-direction cap and the identity's daily budget left, shared evenly between the
// allocation's kernel channels (and the day's remainder between the identity's allocations and both
// directions).
void Server::allowKernel(const ChannelBinding& c, const Allocation& a, int64_t unixNow) {
  constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max() / 4;
  IdentityQuota& q = *a.meter.quota;
  const QuotaClass& cls = *q.cls.load(std::memory_order_acquire);
  uint64_t shares = 0;
  for (uint16_t number : a.channels) {
    const auto it = channels_.find(ChannelKey{a.tuple(), number});
    if (it != channels_.end() && it->second.inKernel) ++shares;
  }
  shares = std::max<uint64_t>(shares, 1);
  auto left = [](uint64_t cap, uint64_t used) { return cap == 0 ? kUnlimited : (used >= cap ? 0 : cap - used); };
  uint64_t day = kUnlimited;
  if (cls.bytesPerDay != 0) {
    // The day's remainder is the fleet's (docs/fleet.md, "Quotas"), shared by every holder in the fleet.
    const uint64_t holders = std::max<uint64_t>(
        uint64_t{q.allocations.load(std::memory_order_relaxed)} + q.fleetAllocations.load(std::memory_order_relaxed), 1);
    day = left(cls.bytesPerDay, quota_->bytesTodayEverywhere(q, unixNow)) / (2 * holders);
  }
  kernel_->allow(kernelChannel(c), std::min(left(cls.bytesPerAllocation, a.meter.toPeer), day) / shares,
                 std::min(left(cls.bytesPerAllocation, a.meter.toClient), day) / shares);
}

bool Server::foldKernel(ChannelBinding& c, const KernelTraffic& t, const Now& now, bool mayEnd) {
  if (t.toPeer.empty() && t.toClient.empty()) return true;
  c.toPeer += t.toPeer;
  c.toClient += t.toClient;
  stats_.bytesClientToPeer += t.toPeer.bytes;
  stats_.packetsClientToPeer += t.toPeer.packets;
  stats_.bytesPeerToClient += t.toClient.bytes;
  stats_.packetsPeerToClient += t.toClient.packets;
  AllocationMeter& meter = *c.meter;
  meter.toPeer += t.toPeer.bytes;
  meter.toClient += t.toClient.bytes;
  const QuotaClass& cls = *meter.quota->cls.load(std::memory_order_acquire);
  const Admission charged = quota_->charge(*meter.quota, t.toPeer.bytes + t.toClient.bytes, now.mono, now.unixSeconds);
  if (charged == Admission::RateLimited) c.overRate = true;
  if (!mayEnd) return true;
  const ClientTuple tuple = c.client;  // c goes with the allocation
  if (cls.bytesPerAllocation != 0 && (meter.toPeer >= cls.bytesPerAllocation || meter.toClient >= cls.bytesPerAllocation)) {
    endByQuota(tuple, EndReason::DataCap, now);
    return false;
  }
  if (charged == Admission::DailyBudget) {
    endByQuota(tuple, EndReason::DailyBudget, now);
    return false;
  }
  return true;
}

void Server::kernelCollect(const Now& now) {
  if (kernel_ == nullptr) return;
  std::vector<ChannelKey> inKernel;
  for (const auto& [key, c] : channels_)
    if (c.inKernel) inKernel.push_back(key);
  for (const ChannelKey& key : inKernel) {
    const auto it = channels_.find(key);  // an earlier fold may have ended its allocation
    if (it == channels_.end() || !it->second.inKernel) continue;
    foldKernel(it->second, kernel_->collect(kernelChannel(it->second)), now, true);
  }
}

void Server::kernelRefresh(const Now& now) {
  if (kernel_ == nullptr) return;
  kernelCollect(now);  // allowances are what is left after what the kernel already forwarded
  allocations_.forEach([&](Allocation& a) {
    for (uint16_t number : a.channels) {
      const auto it = channels_.find(ChannelKey{a.tuple(), number});
      if (it != channels_.end() && it->second.inKernel) allowKernel(it->second, a, now.unixSeconds);
    }
  });
}

void Server::kernelTick(const Now& now) {
  if (kernel_ == nullptr) return;
  allocations_.forEach([&](Allocation& a) {
    for (uint16_t number : a.channels) {
      const auto it = channels_.find(ChannelKey{a.tuple(), number});
      if (it == channels_.end()) continue;
      ChannelBinding& c = it->second;
      if (!c.inKernel && c.overRate) c.overRate = false;  // it spent a tick under the exact user-space GCRA
      syncKernel(c, a, now);
      if (c.inKernel) allowKernel(c, a, now.unixSeconds);
    }
  });
}

}  // namespace rdv::relay
