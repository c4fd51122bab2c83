// The operator's view of the engine (issue 18, the admin API): list allocations, end one by id.
#include "relay/server.h"

namespace rdv::relay {

std::vector<AllocationInfo> Server::allocations() const {
  std::vector<AllocationInfo> out;
  out.reserve(allocations_.size());
  for (const auto& [tuple, a] : allocations_) {
    out.push_back(totalsOf(a));  // with its current class
  }
  return out;
}

bool Server::endById(uint64_t id, const Now& now) {
  // A scan: the admin API ends allocations rarely, and an index by id would cost every Allocate.
  for (const auto& [tuple, a] : allocations_) {
    if (a.info.id != id) continue;
    const ClientTuple t = tuple;  // endAllocation erases the entry
    endAllocation(t, EndReason::Admin, now);
    return true;
  }
  return false;
}

}  // namespace rdv::relay
