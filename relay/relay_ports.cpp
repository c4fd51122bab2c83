// Relay ports: random picks from the configured range, bound through the injected RelaySocketBinder, and
// reservations for EVEN-PORT's R bit (RFC 8656 §7.2: "the server ... reserves the next-higher port").
#include "relay/server.h"

namespace rdv::relay {

bool Server::portInUse(RelayPort p) const {
  return allocations_.holdsRelay(p) || reservedPorts_.count(p) != 0;
}

// A random starting point in the range, then each port in turn (RFC 6056's first algorithm), skipping
// ports this worker already holds without a syscall. A failed bind (another worker or process holds the
// port) moves on; after `portBindAttempts` binder calls, or the whole range, give up (the caller: 508).
std::optional<uint16_t> Server::bindPort(Family f, bool even, bool reservePair) {
  const auto& address = config_->relayFor(f);
  const PortRange range = config_->relayPorts;
  const uint32_t n = range.size();
  if (!address || n == 0) return std::nullopt;
  // A plain request takes a pre-bound socket when the I/O layer has one: its port is as random as ours.
  if (!even && !reservePair) {
    if (const auto pre = binder_.takePrebound(f)) {
      if (pre->family == f && range.contains(pre->port) && !portInUse(*pre)) return pre->port;
      push(ReleaseRelaySocket{*pre});  // not one we can use: close it, bind as usual
    }
  }
  const uint32_t start = static_cast<uint32_t>(rng_.below(n));
  uint32_t attempts = 0;
  for (uint32_t k = 0; k < n && attempts < config_->portBindAttempts; ++k) {
    const auto port = static_cast<uint16_t>(range.min + (start + k) % n);
    if (even && port % 2 != 0) continue;
    if (reservePair && port >= range.max) continue;  // the next port must be in the range too
    const RelayPort relay{f, port};
    const RelayPort next{f, static_cast<uint16_t>(port + 1)};
    if (portInUse(relay) || (reservePair && portInUse(next))) continue;
    ++attempts;
    if (!binder_.bind(relay, Endpoint(address->local, port))) continue;
    if (reservePair) {
      ++attempts;
      if (!binder_.bind(next, Endpoint(address->local, next.port))) {
        push(ReleaseRelaySocket{relay});
        continue;
      }
    }
    return port;
  }
  log(LogLevel::Warning, "no relay port available after " + std::to_string(attempts) + " attempts");
  return std::nullopt;
}

// `lease` (the reserving identity's QuotaBook lease, may be null) is released by whoever ends the
// reservation: the claim on this worker, the claim on another worker (through the book), or the lapse.
uint64_t Server::reserve(RelayPort p, IdentityQuota* lease, const Now& now) {
  uint64_t token = rng_.next();
  while (token == 0 || reservations_.count(token) != 0) token = rng_.next();
  const Instant expires = now.mono + config_->reservationLifetime;
  Reservation res{p, expires};
  res.lease = lease;
  // Hand the socket to the process and the token to every worker: the Allocate that claims it may come
  // from a socket the kernel hashes to another worker.
  if (config_->sharedReservations && binder_.park(p)) {
    config_->sharedReservations->put(token, p, lease);
    res.parked = true;
  }
  reservations_[token] = res;
  reservedPorts_[p] = token;
  TimerEntry e;
  e.at = expires;
  e.kind = TimerEntry::Kind::Reservation;
  e.key = token;
  timers_.push(e);
  return token;
}

std::optional<RelayPort> Server::takeReservation(uint64_t token, const Now& now) {
  const auto it = reservations_.find(token);
  if (it == reservations_.end()) {
    // Made by another worker? Its timer drops it at expiry; until then it can be claimed here.
    if (!config_->sharedReservations) return std::nullopt;
    const auto e = config_->sharedReservations->take(token);
    if (!e) return std::nullopt;
    quota_->release(e->lease);  // the reservation's port becomes the claiming allocation's (its own lease)
    if (!binder_.adopt(e->relay)) return std::nullopt;
    return e->relay;
  }
  if (it->second.expires <= now.mono) return std::nullopt;
  const Reservation res = it->second;
  reservedPorts_.erase(res.relay);
  reservations_.erase(it);  // its timer entry finds nothing and is dropped
  if (res.parked) {
    // Still in the book unless another worker claimed it first (then the socket and the lease are theirs).
    if (!config_->sharedReservations->remove(token)) return std::nullopt;
    quota_->release(res.lease);
    if (!binder_.adopt(res.relay)) return std::nullopt;
    return res.relay;
  }
  quota_->release(res.lease);
  return res.relay;
}

void ReservationBook::put(uint64_t token, RelayPort relay, IdentityQuota* lease) {
  std::lock_guard lock(mutex_);
  tokens_[token] = Entry{relay, lease};
}

std::optional<ReservationBook::Entry> ReservationBook::take(uint64_t token) {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  const Entry e = it->second;
  tokens_.erase(it);
  return e;
}

bool ReservationBook::remove(uint64_t token) {
  std::lock_guard lock(mutex_);
  return tokens_.erase(token) != 0;
}

void Server::releasePort(RelayPort p) { push(ReleaseRelaySocket{p}); }

}  // namespace rdv::relay
