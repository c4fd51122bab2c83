// Lifetimes: one min-heap of deadlines per Server drives the expiry of allocations, permissions, channels
// and port reservations (STYLE 3: one timer per worker, none per allocation).
//
// Each allocation has at most one live heap entry, at `scheduledAt`: the earliest deadline among its
// lifetime, permissions and channels. Something that expires earlier than that pushes a new entry;
// something that expires later (a refresh) pushes nothing: when the entry fires, the sweep expires what
// is due and re-queues the allocation at its next deadline. Entries that no longer match (the
// allocation is gone, or was re-queued earlier) are dropped when popped. So the heap holds about one
// entry per allocation plus one per reservation, however often clients refresh.
#include <algorithm>

#include "relay/server.h"

namespace rdv::relay {

void Server::schedule(Allocation& a, Instant at) {
  if (at >= a.scheduledAt) return;
  a.scheduledAt = at;
  TimerEntry e;
  e.at = at;
  e.kind = TimerEntry::Kind::Allocation;
  e.key = a.info.id;
  e.handle = a.handle;
  timers_.push(e);
}

std::optional<Instant> Server::nextDeadline() const {
  std::optional<Instant> next = nextUsage_;
  if (!timers_.empty() && (!next || timers_.top().at < *next)) next = timers_.top().at;
  return next;
}

void Server::handleTimeout(const Now& now) {
  while (!timers_.empty() && timers_.top().at <= now.mono) {
    const TimerEntry e = timers_.top();
    timers_.pop();
    sweep(e, now);
  }
  if (nextUsage_ && *nextUsage_ <= now.mono) {
    kernelCollect(now);
    emitUsage(now);
    checkBudgets(now);
    kernelTick(now);
    nextUsage_.reset();
    if (!allocations_.empty()) nextUsage_ = now.mono + config_->usageInterval;
  }
}

void Server::emitUsage(const Now& now) {
  allocations_.forEach([&](Allocation& a) {
    const Traffic totals = trafficOf(a);
    const TrafficCounters toPeer = totals.toPeer - a.reportedToPeer;
    const TrafficCounters toClient = totals.toClient - a.reportedToClient;
    if (toPeer.empty() && toClient.empty()) return;
    a.reportedToPeer = totals.toPeer;
    a.reportedToClient = totals.toClient;
    // The class is the lease's current one (a policy reload may have moved it).
    push(AllocationUsage{a.info.id, a.identity(), a.quotaClass(), toPeer, toClient, now.unixSeconds});
  });
}

void Server::endAll(const Now& now) {
  std::vector<ClientTuple> tuples;
  tuples.reserve(allocations_.size());
  allocations_.forEach([&](const Allocation& a) { tuples.push_back(a.tuple()); });
  for (const ClientTuple& t : tuples) endAllocation(t, EndReason::Shutdown, now);
  nextUsage_.reset();
  // Reservations give their quota leases back (the daemon closes their sockets as it stops).
  for (auto& [token, res] : reservations_) {
    if (!res.parked || config_->sharedReservations->remove(token)) quota_->release(res.lease);
    res.lease = nullptr;
  }
}

void Server::sweep(const TimerEntry& e, const Now& now) {
  if (e.kind == TimerEntry::Kind::Reservation) {
    // RFC 8656 §7.2: an unused reservation lapses (about 30 s) and its port is released.
    const auto it = reservations_.find(e.key);
    if (it == reservations_.end() || it->second.expires > now.mono) return;
    reservedPorts_.erase(it->second.relay);
    if (!it->second.parked) {
      releasePort(it->second.relay);
      quota_->release(it->second.lease);
    } else if (config_->sharedReservations->remove(e.key)) {
      binder_.discard(it->second.relay);  // nobody claimed it: close the parked socket
      quota_->release(it->second.lease);
    }  // else another worker claimed it: the socket and the lease went with the token
    reservations_.erase(it);
    return;
  }
  Allocation* found = allocations_.at(e.handle);
  // Stale: the allocation ended (its handle may hold a newer one), or it was re-queued earlier.
  if (found == nullptr || found->info.id != e.key || found->scheduledAt != e.at) return;
  Allocation& a = *found;
  a.scheduledAt = Instant::max();
  // RFC 8656 §7: an allocation whose lifetime ran out is deleted, with everything it holds.
  if (a.expires <= now.mono) {
    endAllocation(a.tuple(), EndReason::Expired, now);
    return;
  }
  // RFC 8656 §9: permissions last 300 s unless refreshed; §11: channels 600 s.
  const size_t before = a.permissions.size();
  a.permissions.eraseIf([&](const Permission& p) { return p.expires <= now.mono; });
  stats_.permissionsActive -= before - a.permissions.size();
  Instant next = a.expires;
  for (const Permission& p : a.permissions) next = std::min(next, p.expires);
  for (const uint16_t number : SmallVector<uint16_t, 4>(a.channels)) {
    const auto ch = channels_.find(ChannelKey{a.tuple(), number});
    if (ch == channels_.end()) continue;
    if (ch->second.expires <= now.mono) {
      removeChannel(a, number, now);
    } else {
      // Its permission may have just lapsed: the kernel fast path stops forwarding it now, not at the tick.
      if (ch->second.inKernel) syncKernel(ch->second, a, now);
      next = std::min(next, ch->second.expires);
    }
  }
  schedule(a, next);
}

Server::Traffic Server::trafficOf(const Allocation& a) const {
  Traffic t{a.info.toPeer, a.info.toClient};  // the indication path and closed channels
  for (const uint16_t number : a.channels) {
    const auto ch = channels_.find(ChannelKey{a.tuple(), number});
    if (ch == channels_.end()) continue;
    t.toPeer += ch->second.toPeer;
    t.toClient += ch->second.toClient;
  }
  return t;
}

AllocationInfo Server::totalsOf(const Allocation& a) const {
  AllocationInfo info;
  info.id = a.info.id;
  info.tuple = a.info.tuple;
  info.username = a.username();
  if (a.meter.quota) {  // held from Allocate until endAllocation() releases it, after its last totalsOf()
    info.identity = a.identity();
    info.quotaClass = a.quotaClass();
  }
  info.peers = a.info.peers;
  for (uint8_t i = 0; i < a.info.relayCount; ++i) info.relays[i] = a.info.relays[i];
  info.relayCount = a.info.relayCount;
  info.started = a.info.started;
  info.startedUnix = a.info.startedUnix;
  const Traffic t = trafficOf(a);
  info.toPeer = t.toPeer;
  info.toClient = t.toClient;
  return info;
}

void Server::endAllocation(const ClientTuple& tuple, EndReason reason, const Now& now) {
  Allocation* found = allocations_.find(tuple);
  if (found == nullptr) return;
  Allocation& a = *found;
  if (a.meter.kernelChannels != 0) kernelSettle(tuple, now, false);  // the kernel's last counts, first
  AllocationEnded ended{totalsOf(a), reason, now.mono};
  for (const uint16_t number : SmallVector<uint16_t, 4>(a.channels)) removeChannel(a, number, now);
  stats_.permissionsActive -= a.permissions.size();
  for (uint8_t i = 0; i < a.info.relayCount; ++i) {
    live_->remove(a.info.relays[i]);  // before the socket is released: another worker may bind it next
    releasePort(a.info.relays[i]);
  }
  quota_->release(a.meter.quota);
  a.meter.quota = nullptr;
  const auto user = allocationsPerUser_.find(a.username());
  switch (reason) {
    case EndReason::Expired: ++stats_.allocationsExpired; break;
    case EndReason::Deleted:
    case EndReason::ConnectionClosed: ++stats_.allocationsDeleted; break;
    case EndReason::DataCap:
    case EndReason::DailyBudget: ++stats_.allocationsEndedByQuota; break;
    case EndReason::Shutdown: ++stats_.allocationsEndedByShutdown; break;
    case EndReason::Admin: ++stats_.allocationsEndedByAdmin; break;
  }
  allocations_.erase(a);  // `tuple` may be the record's own: not used below
  if (user != allocationsPerUser_.end() && --user->second == 0) allocationsPerUser_.erase(user);
  stats_.allocationsActive = allocations_.size();
  if (allocations_.empty()) nextUsage_.reset();  // the last one's traffic is in its AllocationEnded
  if (logs(LogLevel::Info))
    log(LogLevel::Info, "allocation " + std::to_string(ended.info.id) + " " + std::string(toString(reason)) + " after " +
                          std::to_string(ended.info.toPeer.bytes) + " bytes out, " +
                          std::to_string(ended.info.toClient.bytes) + " bytes in");
  push(std::move(ended));
}

void Server::handleConnectionClosed(const ClientTuple& tuple, const Now& now) {
  endAllocation(tuple, EndReason::ConnectionClosed, now);
}

}  // namespace rdv::relay
