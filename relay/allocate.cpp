// Allocate (RFC 8656 §7.2), step by step. Authentication (step 1) and the retransmission cache happened
// in Server::onRequest before this handler runs.
#include <algorithm>

#include "relay/admission.h"
#include "relay/server.h"

namespace rdv::relay {

namespace {

// ADDRESS-ERROR-CODE (RFC 8656 §18.15): family, reserved, class, number, reason phrase.
Bytes addressErrorCode(Family f, uint16_t code) {
  const std::string_view reason = stun::reasonPhrase(code);
  Bytes v{static_cast<uint8_t>(f), 0, static_cast<uint8_t>(code / 100), static_cast<uint8_t>(code % 100)};
  v.insert(v.end(), reason.begin(), reason.end());
  return v;
}

}  // namespace

// RFC 8656 §7.2, LIFETIME: the minimum of the requested lifetime and the maximum; if that is not more
// than the default, the default. Never above the configured maximum.
// The quota class's maximum lifetime caps the allocation's whole life, from its start (libp2p circuit
// relay v2's "limit duration"): a Refresh cannot extend it past started + maxLifetime.
Seconds Server::grantedLifetime(const stun::MessageView& m, const QuotaClass& cls, Instant started,
                                Instant now) const {
  const Config& c = *config_;
  const auto requested = m.u32(stun::attr::Lifetime);
  Seconds granted = c.defaultLifetime;
  if (requested) granted = std::max(std::min(Seconds(*requested), c.maxLifetime), c.defaultLifetime);
  granted = std::min(granted, c.maxLifetime);
  if (cls.maxLifetime.count() > 0) {
    const auto left = std::chrono::duration_cast<Seconds>(started + cls.maxLifetime - now);
    granted = std::min(granted, std::max(left, Seconds(0)));
  }
  return granted;
}

// Steps 2-10 of RFC 8656 §7.2: the request's checks, in the RFC's order. Returns 0 and fills `plan`, or
// the error code to answer with.
uint16_t Server::checkAllocate(const Request& r, AllocatePlan& plan) const {
  const stun::MessageView& m = r.msg;
  const Config& c = *config_;
  // Step 2: the 5-tuple already has an allocation (and this is not a retransmission): 437.
  if (r.allocation) return stun::error::AllocationMismatch;
  // Step 3: REQUESTED-TRANSPORT missing or malformed: 400; not UDP: 442 (no RFC 6062 TCP relaying).
  const auto transport = m.requestedTransport();
  if (!transport) return stun::error::BadRequest;
  if (*transport != stun::kTransportUdp) return stun::error::UnsupportedTransportProtocol;
  // Step 4: DONT-FRAGMENT is supported: Send indications carrying it go out with DF set (SendToPeer).
  // Step 5: RESERVATION-TOKEN excludes EVEN-PORT and the family attributes (400); an unknown or expired
  // token: 508 (when the port is taken, in onAllocate).
  const bool hasToken = m.has(stun::attr::ReservationToken);
  const bool hasRequestedFamily = m.has(stun::attr::RequestedAddressFamily);
  plan.dual = m.has(stun::attr::AdditionalAddressFamily);
  const bool hasEvenPort = m.has(stun::attr::EvenPort);
  if (hasToken && (hasEvenPort || hasRequestedFamily || plan.dual)) return stun::error::BadRequest;
  plan.token = m.u64(stun::attr::ReservationToken);
  if (hasToken && !plan.token) return stun::error::BadRequest;
  // Step 6: REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY together: 400.
  if (hasRequestedFamily && plan.dual) return stun::error::BadRequest;
  // Step 7: a family this node does not relay (or an unknown family value): 440. Absent: IPv4.
  if (hasRequestedFamily) {
    const auto f = m.requestedAddressFamily();
    if (!f) return stun::error::AddressFamilyNotSupported;
    plan.family = *f;
  }
  if (plan.token) {
    const auto it = reservations_.find(*plan.token);
    if (it != reservations_.end()) plan.family = it->second.relay.family;
  }
  if (!c.relayFor(plan.family)) return stun::error::AddressFamilyNotSupported;
  // Step 8: EVEN-PORT (malformed: 400); with the R bit and ADDITIONAL-ADDRESS-FAMILY: 400.
  const auto evenPort = m.evenPort();
  if (hasEvenPort && !evenPort) return stun::error::BadRequest;
  plan.even = evenPort.has_value();
  plan.reserveNext = evenPort.value_or(false);
  if (plan.reserveNext && plan.dual) return stun::error::BadRequest;
  // Step 9: ADDITIONAL-ADDRESS-FAMILY must say IPv6 (IPv4 is the primary family): else 400.
  if (plan.dual) {
    const auto extra = m.additionalAddressFamily();
    if (!extra || *extra != Family::V6) return stun::error::BadRequest;
  }
  // Step 10: the per-username allocation quota: 486. The node-wide allocation cap: 508.
  if (c.maxAllocationsPerUser != 0) {
    const auto it = allocationsPerUser_.find(r.credentials.username);
    if (it != allocationsPerUser_.end() && it->second >= c.maxAllocationsPerUser) {
      return stun::error::AllocationQuotaReached;
    }
  }
  if (c.maxAllocations != 0 && allocations_.size() >= c.maxAllocations) return stun::error::InsufficientCapacity;
  return 0;
}

// The operator's controls (relay/admission.h), right after authentication (step 1): a banned identity
// gets 403 (local policy, RFC 8656 §7.2 and §9.2's use of 403); a draining node sends the client to its
// alternate with 300 (RFC 8489 §10; the answer is authenticated like any other), or 508 without one. A
// node of a fleet over its byte capacity sends new clients to a less loaded node when it knows one.
Bytes Server::admissionReply(const Request& r) {
  const AdmissionControl* admission = config_->admission.get();
  if (!admission) return {};
  if (admission->banned(r.credentials.identity, r.credentials.username, r.now.unixSeconds)) {
    ++stats_.allocateBanned;
    log(LogLevel::Info, "allocation for " + r.credentials.identity + " refused: banned");
    return errorReply(r, stun::error::Forbidden);
  }
  const bool draining = admission->draining();
  if (!draining && !admission->busy()) return {};
  const auto alternate = admission->alternateFor(r.tuple.client.ip().isV4(), r.tuple.transport == Transport::Tls);
  if (!draining && !alternate) return {};  // busy, and nowhere to send it: serve
  ++(draining ? stats_.allocateDraining : stats_.allocateRedirected);
  return tryAlternateReply(r, alternate);
}

// 300 Try Alternate with ALTERNATE-SERVER (and ALTERNATE-DOMAIN over TLS), or 508 without an alternate.
Bytes Server::tryAlternateReply(const Request& r, const std::optional<AlternateServer>& alternate) {
  if (!alternate) return errorReply(r, stun::error::InsufficientCapacity);
  stun::MessageBuilder b = answerTo(r.msg, stun::Class::Error);
  b.addErrorCode(stun::error::TryAlternate);
  b.addAddress(stun::attr::AlternateServer, alternate->server);
  if (r.tuple.transport == Transport::Tls && !alternate->domain.empty())
    b.addString(stun::attr::AlternateDomain, alternate->domain);
  return finish(b, r.msg, &r.credentials);
}

// The node is full (its allocation total): 300 to another node of the fleet (or the alternate-server),
// else 508 (docs/fleet.md, "Balancing").
Bytes Server::capacityReply(const Request& r) {
  const AdmissionControl* admission = config_->admission.get();
  const auto alternate = admission ? admission->alternateFor(r.tuple.client.ip().isV4(), r.tuple.transport == Transport::Tls)
                                   : std::nullopt;
  if (alternate) ++stats_.allocateRedirected;
  return tryAlternateReply(r, alternate);
}

Bytes Server::onAllocate(const Request& r) {
  const Config& c = *config_;
  if (Bytes refused = admissionReply(r); !refused.empty()) return refused;
  AllocatePlan plan;
  if (const uint16_t code = checkAllocate(r, plan); code != 0)
    return code == stun::error::InsufficientCapacity ? capacityReply(r) : errorReply(r, code);
  // Step 10, per source IP (issue 12, relay hoarding): identities are free, addresses are not. Over the
  // source's Allocate rate: 486, a quota on the requester (RFC 8656 §7.3: the client may try later).
  if (!allocateLimiter_.allow(r.tuple.client.ip(), r.now.mono)) {
    ++stats_.allocateRateLimited;
    return errorReply(r, stun::error::AllocationQuotaReached);
  }
  // Step 10, node-wide (issue 7): the identity's class (concurrent allocations, daily budget: 486) and
  // the node's allocation total (508), in the QuotaBook every worker shares. The lease is given back
  // if the allocation fails below.
  const QuotaBook::Lease lease =
      quota_->acquire(r.credentials.identity, r.credentials.username, r.credentials.staticUser, r.now.unixSeconds,
                      r.credentials.kind);
  auto refused = [&](const QuotaBook::Lease& l) {
    if (l.limitedShare) ++stats_.limitedShareRejected;
    log(LogLevel::Info, "allocation for " + r.credentials.identity + " refused by quota (" +
                            std::to_string(l.error) + (l.limitedShare ? ", limited share" : "") + ")");
    return l.error == stun::error::InsufficientCapacity ? capacityReply(r) : errorReply(r, l.error);
  };
  if (lease.error != 0) return refused(lease);
  struct LeaseGuard {
    QuotaBook& book;
    IdentityQuota* quota;
    ~LeaseGuard() { book.release(quota); }
  } guard{*quota_, lease.quota};
  // EVEN-PORT with R: the reserved port is held for the identity too (a second lease, same checks), so
  // reservations cannot hoard ports beside the identity's allocation quota.
  LeaseGuard reservationGuard{*quota_, nullptr};
  if (plan.reserveNext) {
    const QuotaBook::Lease second =
        quota_->acquire(r.credentials.identity, r.credentials.username, r.credentials.staticUser, r.now.unixSeconds,
                        r.credentials.kind);
    if (second.error != 0) return refused(second);
    reservationGuard.quota = second.quota;
  }

  // Choosing the relayed transport address(es): the reserved port, an even port (reserving the next one
  // with R), or any port of the range, picked at random. None available: 508 (steps 5 and 8).
  RelayPort relays[2];
  uint8_t count = 0;
  std::optional<uint64_t> newToken;
  if (plan.token) {
    const auto reserved = takeReservation(*plan.token, r.now);
    if (!reserved) {
      // Unknown, expired or already claimed (with several workers, the token is looked up in the shared
      // ReservationBook too).
      log(LogLevel::Info, "RESERVATION-TOKEN from " + r.tuple.client.toString() + " unknown or expired on this worker");
      return errorReply(r, stun::error::InsufficientCapacity);
    }
    relays[count++] = *reserved;
  } else {
    const auto port = bindPort(plan.family, plan.even, plan.reserveNext);
    if (!port) return errorReply(r, stun::error::InsufficientCapacity);
    relays[count++] = RelayPort{plan.family, *port};
    if (plan.reserveNext) {
      newToken = reserve(RelayPort{plan.family, static_cast<uint16_t>(*port + 1)}, reservationGuard.quota, r.now);
      reservationGuard.quota = nullptr;  // the reservation holds it now
    }
  }
  // Dual allocation (RFC 8656 §7.2, ADDITIONAL-ADDRESS-FAMILY): when the IPv6 address cannot be had, the
  // IPv4 allocation still succeeds and ADDRESS-ERROR-CODE says why IPv6 failed (440 or 508).
  uint16_t additionalError = 0;
  if (plan.dual) {
    if (!c.relayV6) {
      additionalError = stun::error::AddressFamilyNotSupported;
    } else if (const auto port6 = bindPort(Family::V6, false, false)) {
      relays[count++] = RelayPort{Family::V6, *port6};
    } else {
      additionalError = stun::error::InsufficientCapacity;
    }
  }

  Allocation& a = createAllocation(r, relays, count);
  a.meter.quota = guard.quota;  // the allocation holds the lease now (released in endAllocation)
  guard.quota = nullptr;
  const QuotaClass& cls = *a.meter.quota->cls.load(std::memory_order_acquire);
  a.expires = r.now.mono + grantedLifetime(r.msg, cls, r.now.mono, r.now.mono);
  schedule(a, a.expires);
  push(AllocationStarted{totalsOf(a)});
  if (logs(LogLevel::Info))
    log(LogLevel::Info, "allocation " + std::to_string(a.info.id) + " for " + r.credentials.identity + " (" + cls.name +
                          ") from " + r.tuple.client.toString() + " relayed on port " + std::to_string(relays[0].port));
  stun::MessageBuilder b = answerTo(r.msg, stun::Class::Success);
  for (uint8_t i = 0; i < count; ++i) {
    b.addXorAddress(stun::attr::XorRelayedAddress,
                    Endpoint(c.relayFor(relays[i].family)->advertised(), relays[i].port));
  }
  if (additionalError != 0) b.add(stun::attr::AddressErrorCode, addressErrorCode(Family::V6, additionalError));
  const auto lifetime = std::chrono::duration_cast<Seconds>(a.expires - r.now.mono).count();
  b.addU32(stun::attr::Lifetime, static_cast<uint32_t>(lifetime));
  if (newToken) b.addU64(stun::attr::ReservationToken, *newToken);
  b.addXorAddress(stun::attr::XorMappedAddress, r.tuple.client);
  return finish(b, r.msg, &r.credentials);
}

Allocation& Server::createAllocation(const Request& r, const RelayPort* relays, uint8_t count) {
  Allocation a;
  a.info.id = nextAllocationId_++;
  a.info.tuple = r.tuple;
  a.info.started = r.now.mono;
  a.info.startedUnix = r.now.unixSeconds;
  for (uint8_t i = 0; i < count; ++i) a.info.relays[i] = relays[i];
  a.info.relayCount = count;

  auto user = allocationsPerUser_.try_emplace(r.credentials.username, 0).first;
  ++user->second;
  a.info.username = &user->first;  // the one copy of the name, kept while the count is above zero
  Allocation& stored = allocations_.insert(std::move(a));  // indexed by its tuple and relay ports
  for (uint8_t i = 0; i < count; ++i) {
    live_->add(relays[i]);  // reachable from the node's other allocations (peer policy, rule 3)
  }
  ++stats_.allocationsCreated;
  stats_.allocationsActive = allocations_.size();
  quotaEnded_.erase(r.tuple);
  if (!nextUsage_) nextUsage_ = r.now.mono + config_->usageInterval;
  return stored;
}

}  // namespace rdv::relay
