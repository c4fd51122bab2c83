#include "rendezvous/base/usage_totals.h"

#include <limits>

namespace rdv {

UsageTotals& UsageTotals::operator+=(const UsageTotals& o) {
  allocations += o.allocations;
  bytesToPeer += o.bytesToPeer;
  bytesToClient += o.bytesToClient;
  packetsToPeer += o.packetsToPeer;
  packetsToClient += o.packetsToClient;
  allocationSeconds += o.allocationSeconds;
  return *this;
}

uint64_t UsageTotals::bytes() const {
  const uint64_t sum = bytesToPeer + bytesToClient;
  return sum < bytesToPeer ? std::numeric_limits<uint64_t>::max() : sum;
}

bool UsageTotals::empty() const { return *this == UsageTotals{}; }

}  // namespace rdv
