// The engine side of quotas (issue 7): admission of every relayed packet against the allocation's class
// (per-allocation data cap, the identity's daily budget, the identity's and the node's token buckets),
// allocations ended by a quota, and the 486 their client gets afterwards. The shared state and the
// bucket maths are in quota.cpp.
#include "relay/server.h"

namespace rdv::relay {

// Hot path: no lock, no allocation (QuotaBook::admit is a few relaxed atomics and two CAS loops). On a
// cap or budget the allocation ends at once: this packet and everything after it are not relayed.
bool Server::admit(AllocationMeter& meter, bool toPeer, size_t bytes, const ClientTuple& tuple, const Now& now) {
  // The kernel fast path carries some of this allocation's channels: count what it forwarded first.
  if (meter.kernelChannels != 0 && !kernelSettle(tuple, now, true)) return false;
  uint64_t& used = toPeer ? meter.toPeer : meter.toClient;
  switch (quota_->admit(*meter.quota, used, bytes, now.mono, now.unixSeconds)) {
    case Admission::Ok:
      used += bytes;
      if (meter.kernelChannels != 0) kernelReallow(tuple, now);
      return true;
    case Admission::RateLimited: ++stats_.dropRateLimited; return false;
    case Admission::DataCap: endByQuota(tuple, EndReason::DataCap, now); return false;
    case Admission::DailyBudget: endByQuota(tuple, EndReason::DailyBudget, now); return false;
  }
  return false;
}

void Server::endByQuota(const ClientTuple& tuple, EndReason reason, const Now& now) {
  constexpr size_t kMaxTombstones = 65536;
  if (quotaEnded_.size() >= kMaxTombstones) {
    std::erase_if(quotaEnded_, [&](const auto& e) { return e.second.expires <= now.mono; });
    if (quotaEnded_.size() >= kMaxTombstones) quotaEnded_.clear();
  }
  quotaEnded_[tuple] = QuotaTombstone{now.mono + config_->defaultLifetime};
  endAllocation(tuple, reason, now);
}

uint16_t Server::noAllocationCode(const Request& r) {
  const auto it = quotaEnded_.find(r.tuple);
  if (it == quotaEnded_.end()) return stun::error::AllocationMismatch;
  if (it->second.expires <= r.now.mono) {
    quotaEnded_.erase(it);
    return stun::error::AllocationMismatch;
  }
  return stun::error::AllocationQuotaReached;
}

void Server::checkBudgets(const Now& now) {
  std::vector<ClientTuple> spent;
  allocations_.forEach([&](const Allocation& a) {
    if (quota_->dailyBudgetSpent(*a.meter.quota, now.unixSeconds)) spent.push_back(a.tuple());
  });
  for (const ClientTuple& t : spent) endByQuota(t, EndReason::DailyBudget, now);
}

}  // namespace rdv::relay
