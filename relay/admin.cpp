// The operator's view of the engine (issue 18, the admin API): list allocations, end one by id.
#include "relay/server.h"

namespace rdv::relay {

std::vector<AllocationInfo> Server::allocations() const {
  std::vector<AllocationInfo> out;
  out.reserve(allocations_.size());
  allocations_.forEach([&](const Allocation& a) {
    out.push_back(totalsOf(a));  // with its current class
  });
  return out;
}

bool Server::endById(uint64_t id, const Now& now) {
  // A scan: the admin API ends allocations rarely, and an index by id would cost every Allocate.
  std::optional<ClientTuple> found;
  allocations_.forEach([&](const Allocation& a) {
    if (a.info.id == id) found = a.tuple();
  });
  if (!found) return false;
  endAllocation(*found, EndReason::Admin, now);  // after the scan: it erases the record
  return true;
}

}  // namespace rdv::relay
