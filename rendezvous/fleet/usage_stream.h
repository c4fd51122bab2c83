// The fleet's usage stream (docs/fleet.md, "Usage"): each node keeps its exact SQLite ledger and also
// appends every flush's per-day totals to one Redis stream, `rdv:{FLEET}:usage`, one entry per (day,
// identity, class) increment; GET /v1/usage?scope=fleet at any node sums the stream. The publisher runs
// on the ledger thread with a connection of its own; while Redis is away it keeps up to kMaxBacklog
// entries and sends them with the next flush that reaches Redis (beyond that the oldest are dropped and
// counted: the nodes' own ledgers stay exact).
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "rendezvous/base/usage_totals.h"
#include "rendezvous/fleet/keys.h"
#include "rendezvous/fleet/redis_client.h"
#include "rendezvous/storage/ledger_book.h"

namespace rdv::fleet {

inline constexpr size_t kMaxBacklog = 100'000;
inline constexpr size_t kStreamMaxLen = 5'000'000;  // XADD MAXLEN ~: the oldest increments go first

struct UsageEntry {
  std::string node;  // node id (hex) that booked it
  std::string day;   // YYYY-MM-DD (UTC)
  std::string identity;
  std::string quotaClass;
  UsageTotals totals;
};

class UsagePublisher {
 public:
  UsagePublisher(RedisUrl url, Keys keys, std::string nodeHex);
  // The ledger thread, after each flush.
  void publish(const storage::LedgerBatch& batch);
  uint64_t published() const { return published_; }
  uint64_t dropped() const { return dropped_; }

 private:
  RedisClient redis_;
  Keys keys_;
  std::string nodeHex_;
  std::deque<std::vector<std::string>> backlog_;  // XADD commands not yet written
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> dropped_{0};
};

// The stream's entries whose day is within [sinceDay, untilDay] (YYYY-MM-DD, inclusive); at most
// `maxEntries` are read.
Result<std::vector<UsageEntry>, RedisError> readUsage(RedisClient& redis, const Keys& keys, const std::string& sinceDay,
                                                      const std::string& untilDay, size_t maxEntries = 1'000'000);

}  // namespace rdv::fleet
