// The QuotaBook's side of fleet-wide quotas (docs/fleet.md, "Quotas"): the fleet's quota thread takes a
// snapshot of this node's per-identity usage once per tick, sends the increments to Redis and hands back
// what the other nodes use. Nothing here runs on the packet path; admit() and acquire() only read the two
// atomics this file writes (IdentityQuota::fleetAllocations, fleetBytesToday).
#include "relay/quota.h"

namespace rdv::relay {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

std::optional<IdentityKind> kindOf(std::string_view s) {
  for (const IdentityKind k : {IdentityKind::User, IdentityKind::Rest, IdentityKind::Node})
    if (toString(k) == s) return k;
  return std::nullopt;
}

}  // namespace

std::vector<LocalQuotaUsage> QuotaBook::localUsage(int64_t unixNow) const {
  const int64_t today = unixNow / kSecondsPerDay;
  std::lock_guard lock(mutex_);
  std::vector<LocalQuotaUsage> out;
  out.reserve(identities_.size());
  for (const auto& [key, q] : identities_) {
    const bool countsToday = q->day.load(std::memory_order_relaxed) == today;
    const uint64_t bytes = countsToday ? q->bytesToday.load(std::memory_order_relaxed) : 0;
    out.push_back({key, q->allocations.load(std::memory_order_relaxed), bytes});
  }
  return out;
}

bool QuotaBook::setFleetUsage(const std::vector<FleetQuotaUsage>& usage, int64_t unixNow) {
  std::lock_guard lock(mutex_);
  bool changed = false;
  for (const FleetQuotaUsage& u : usage) {
    auto it = identities_.find(u.key);
    if (it == identities_.end()) {
      if (u.allocations == 0 && u.bytesToday == 0) continue;
      const auto slash = u.key.find('/');
      if (slash == std::string::npos) continue;
      const auto kind = kindOf(std::string_view(u.key).substr(0, slash));
      if (!kind) continue;
      const std::string identity = u.key.substr(slash + 1);
      const bool staticUser = *kind == IdentityKind::User;
      IdentityQuota& q = findOrCreate(*kind, identity, policy_.classFor(identity, identity, staticUser));
      q.username = identity;
      q.staticUser = staticUser;
      it = identities_.find(u.key);
    }
    IdentityQuota& q = *it->second;
    rollDay(q, unixNow);
    changed |= q.fleetAllocations.exchange(u.allocations, std::memory_order_relaxed) != u.allocations;
    changed |= q.fleetBytesToday.exchange(u.bytesToday, std::memory_order_relaxed) != u.bytesToday;
  }
  return changed;
}

void QuotaBook::clearFleetUsage() {
  std::lock_guard lock(mutex_);
  for (auto& [key, q] : identities_) {
    q->fleetAllocations.store(0, std::memory_order_relaxed);
    q->fleetBytesToday.store(0, std::memory_order_relaxed);
  }
}

size_t QuotaBook::fleetIdentities() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const auto& [key, q] : identities_)
    if (q->fleetAllocations.load(std::memory_order_relaxed) != 0 || q->fleetBytesToday.load(std::memory_order_relaxed) != 0)
      ++n;
  return n;
}

}  // namespace rdv::relay
