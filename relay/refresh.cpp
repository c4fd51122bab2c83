// Refresh (RFC 8656 §7.3), step by step. Authentication, the retransmission cache and the 441 check
// happened in Server::onRequest.
#include "relay/server.h"

namespace rdv::relay {

Bytes Server::onRefresh(const Request& r) {
  const stun::MessageView& m = r.msg;
  // §7.3: no allocation on this 5-tuple: 437. (A retransmitted Refresh with LIFETIME 0 whose first answer
  // was lost lands here too; RFC 8656 §7.3 tells clients to read that 437 as success.)
  if (!r.allocation) return errorReply(r, noAllocationCode(r));
  Allocation& a = *r.allocation;
  // §7.3: REQUESTED-ADDRESS-FAMILY naming a family the allocation does not have: 443.
  if (m.has(stun::attr::RequestedAddressFamily)) {
    const auto f = m.requestedAddressFamily();
    if (!f || !a.hasFamily(*f)) return errorReply(r, stun::error::PeerAddressFamilyMismatch);
  }
  stun::MessageBuilder b = answerTo(m, stun::Class::Success);
  // §7.3: LIFETIME 0 deletes the allocation (answered with LIFETIME 0); otherwise the desired lifetime
  // is computed as for Allocate and the allocation's expiry moves.
  const auto requested = m.u32(stun::attr::Lifetime);
  if (requested && *requested == 0) {
    b.addU32(stun::attr::Lifetime, 0);
    Bytes response = finish(b, m, &r.credentials);
    endAllocation(r.tuple, EndReason::Deleted, r.now);
    return response;
  }
  // Issue 7: an identity whose daily budget is spent loses the allocation (486); the class's maximum
  // lifetime caps the new expiry, and once it is reached the Refresh is refused (486) and the allocation
  // runs out.
  if (quota_->dailyBudgetSpent(*a.meter.quota, r.now.unixSeconds)) {
    Bytes response = errorReply(r, stun::error::AllocationQuotaReached);
    endByQuota(r.tuple, EndReason::DailyBudget, r.now);
    return response;
  }
  const QuotaClass& cls = *a.meter.quota->cls.load(std::memory_order_acquire);
  const Seconds lifetime = grantedLifetime(m, cls, a.info.started, r.now.mono);
  if (lifetime.count() == 0) return errorReply(r, stun::error::AllocationQuotaReached);
  a.expires = r.now.mono + lifetime;
  schedule(a, a.expires);
  b.addU32(stun::attr::Lifetime, static_cast<uint32_t>(lifetime.count()));
  return finish(b, m, &r.credentials);
}

}  // namespace rdv::relay
