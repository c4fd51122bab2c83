// Relay usage totals: what the ledger books per allocation, hour and day (storage/ledger_book.h), what
// GET /v1/usage sums (node/api/usage_api.cpp) and what rdv report reads back (cli/report). One type for
// all three; a field that does not apply stays 0 (a usage delta has no allocations or seconds).
#pragma once

#include <cstdint>

namespace rdv {

struct UsageTotals {
  uint64_t allocations = 0;
  uint64_t bytesToPeer = 0;
  uint64_t bytesToClient = 0;
  uint64_t packetsToPeer = 0;
  uint64_t packetsToClient = 0;
  uint64_t allocationSeconds = 0;

  UsageTotals& operator+=(const UsageTotals& o);
  uint64_t bytes() const;  // both directions (saturating)
  bool empty() const;      // every field 0
  bool operator==(const UsageTotals&) const = default;
};

}  // namespace rdv
