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
  e.tuple = a.tuple();
  timers_.push(e);
}

std::optional<Instant> Server::nextDeadline() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.top().at;
}

void Server::handleTimeout(const Now& now) {
  while (!timers_.empty() && timers_.top().at <= now.mono) {
    const TimerEntry e = timers_.top();
    timers_.pop();
    sweep(e, now);
  }
}

void Server::sweep(const TimerEntry& e, const Now& now) {
  if (e.kind == TimerEntry::Kind::Reservation) {
    // RFC 8656 §7.2: an unused reservation lapses (about 30 s) and its port is released.
    const auto it = reservations_.find(e.token);
    if (it == reservations_.end() || it->second.expires > now.mono) return;
    reservedPorts_.erase(it->second.relay);
    if (!it->second.parked) {
      releasePort(it->second.relay);
    } else if (config_->sharedReservations->remove(e.token)) {
      binder_.discard(it->second.relay);  // nobody claimed it: close the parked socket
    }
    reservations_.erase(it);
    return;
  }
  const auto it = allocations_.find(e.tuple);
  if (it == allocations_.end() || it->second.scheduledAt != e.at) return;  // stale entry
  Allocation& a = it->second;
  a.scheduledAt = Instant::max();
  // RFC 8656 §7: an allocation whose lifetime ran out is deleted, with everything it holds.
  if (a.expires <= now.mono) {
    endAllocation(e.tuple, EndReason::Expired, now);
    return;
  }
  // RFC 8656 §9: permissions last 300 s unless refreshed; §11: channels 600 s.
  const size_t before = a.permissions.size();
  std::erase_if(a.permissions, [&](const Permission& p) { return p.expires <= now.mono; });
  stats_.permissionsActive -= before - a.permissions.size();
  Instant next = a.expires;
  for (const Permission& p : a.permissions) next = std::min(next, p.expires);
  for (const uint16_t number : std::vector<uint16_t>(a.channels)) {
    const auto ch = channels_.find(ChannelKey{a.tuple(), number});
    if (ch == channels_.end()) continue;
    if (ch->second.expires <= now.mono) {
      removeChannel(a, number);
    } else {
      next = std::min(next, ch->second.expires);
    }
  }
  schedule(a, next);
}

AllocationInfo Server::totalsOf(const Allocation& a) const {
  AllocationInfo info = a.info;
  info.toPeer += a.closedChannelsToPeer;
  info.toClient += a.closedChannelsToClient;
  for (const uint16_t number : a.channels) {
    const auto ch = channels_.find(ChannelKey{a.tuple(), number});
    if (ch == channels_.end()) continue;
    info.toPeer += ch->second.toPeer;
    info.toClient += ch->second.toClient;
  }
  return info;
}

void Server::endAllocation(const ClientTuple& tuple, EndReason reason, const Now& now) {
  const auto it = allocations_.find(tuple);
  if (it == allocations_.end()) return;
  Allocation& a = it->second;
  AllocationEnded ended{totalsOf(a), reason, now.mono};
  for (const uint16_t number : std::vector<uint16_t>(a.channels)) removeChannel(a, number);
  stats_.permissionsActive -= a.permissions.size();
  for (uint8_t i = 0; i < a.info.relayCount; ++i) {
    allocationByRelay_.erase(a.info.relays[i]);
    releasePort(a.info.relays[i]);
  }
  if (auto user = allocationsPerUser_.find(a.info.username); user != allocationsPerUser_.end()) {
    if (--user->second == 0) allocationsPerUser_.erase(user);
  }
  ++(reason == EndReason::Expired ? stats_.allocationsExpired : stats_.allocationsDeleted);
  allocations_.erase(it);
  stats_.allocationsActive = allocations_.size();
  log(LogLevel::Info, "allocation " + std::to_string(ended.info.id) + " " + std::string(toString(reason)) + " after " +
                          std::to_string(ended.info.toPeer.bytes) + " bytes out, " +
                          std::to_string(ended.info.toClient.bytes) + " bytes in");
  push(std::move(ended));
}

void Server::handleConnectionClosed(const ClientTuple& tuple, const Now& now) {
  endAllocation(tuple, EndReason::ConnectionClosed, now);
}

}  // namespace rdv::relay
