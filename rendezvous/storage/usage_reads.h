// The reads behind GET /v1/usage (docs/operator.md "Usage API"): the ledger's rows for a window of UTC
// days, read in one transaction so every part sees the same flushes. The schema is in ledger_store.cpp;
// the SQL that reads it lives here, next to it. Summing, pricing and the JSON are the API's.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rendezvous/base/result.h"
#include "rendezvous/base/usage_totals.h"
#include "rendezvous/storage/database.h"

namespace rdv::storage {

// One identity_days row: an identity's usage in one class on one UTC day.
struct UsageDayRow {
  std::string day;  // YYYY-MM-DD
  std::string identity;
  std::string quotaClass;
  UsageTotals totals;
};

// One node_hours bucket with traffic.
struct UsageHourRow {
  int64_t start = 0;  // unix seconds
  uint64_t bytesToPeer = 0;
  uint64_t bytesToClient = 0;
};

struct UsageWindow {
  std::vector<UsageDayRow> days;                             // ordered by day
  std::vector<UsageHourRow> hours;                           // ordered by start
  std::vector<std::pair<std::string, uint64_t>> endReasons;  // allocations ended in the window, by reason
  std::vector<std::pair<std::string, uint64_t>> sessions;    // path reports in the window, by path
  UsageTotals lastDay;  // bytes and allocation seconds of the node's hours after `lastDayAfter`
};

// `since`/`until`: unix seconds of the first and the last day's 00:00 UTC (both included);
// `lastDayAfter`: the start of the hour 24 hours before the current one.
Result<UsageWindow, DbError> readUsageWindow(Database& db, int64_t since, int64_t until, int64_t lastDayAfter);

}  // namespace rdv::storage
