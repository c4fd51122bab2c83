// The usage ledger's core, sans-I/O (issue 7, docs/ledger.md): fed relay usage events (allocation
// started, usage deltas, allocation ended with its final totals) and peer path reports, it keeps
// what has not been written yet as one LedgerBatch, which the daemon's ledger thread writes to SQLite
// in one transaction (LedgerStore::write) at most every flush interval. No clock, no I/O: every
// event carries its own unix time and takeBatch() is told "now".
//
// Booking rules: a usage delta is booked on the UTC day and hour of its timestamp; at the end the
// remainder (final totals minus what the deltas already booked) is booked at the end time; allocation
// seconds are accrued for live allocations up to each flush, split at day and hour boundaries, so the
// total equals end - start exactly. Bytes are payload bytes, as the relay counts them.
#pragma once

#include <cstdint>
#include <map>
#include <memory_resource>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>

#include "rendezvous/base/usage_totals.h"
#include "rendezvous/storage/short_text.h"

namespace rdv::storage {

// Bytes and packets each way (allocations and allocationSeconds stay 0 here).
using LedgerCounters = UsageTotals;

// Who and where: the facts of an allocation known at its start.
struct LedgerAllocationFacts {
  uint64_t runId = 0;  // the engine's AllocationInfo::id (unique within one node run)
  std::string identity;
  std::string username;
  std::string quotaClass;
  std::string transport;  // "udp", "tcp", "tls"
  std::string client;     // ADDR:PORT
  std::string relay;      // relayed port(s), e.g. "v4:49152"
  int64_t startedUnix = 0;
};

struct LedgerAllocationStarted {
  LedgerAllocationFacts facts;
};
// Counters moved by `delta` since the previous usage event of this allocation (or its start).
struct LedgerAllocationUsage {
  uint64_t runId = 0;
  std::string identity;
  std::string quotaClass;
  LedgerCounters delta;
  int64_t unixSeconds = 0;
};
struct LedgerAllocationEnded {
  LedgerAllocationFacts facts;  // used when the start was never seen
  LedgerCounters totals;        // the allocation's final totals
  uint32_t peers = 0;
  std::string reason;  // relay::toString(EndReason)
  int64_t endedUnix = 0;
};
// A peer's report of the ICE path a session selected (signalling hub "path-report" frame).
struct LedgerPathReport {
  std::string path;    // "direct" | "relayed"
  std::string local;   // candidate type: host | srflx | prflx | relay
  std::string remote;
  int64_t unixSeconds = 0;
};

using LedgerEvent = std::variant<LedgerAllocationStarted, LedgerAllocationUsage, LedgerAllocationEnded, LedgerPathReport>;

// One allocations row as it must be stored now (written with an upsert: the latest state wins).
struct LedgerAllocationRow {
  int64_t rowId = 0;
  LedgerAllocationFacts facts;
  LedgerCounters booked;
  uint32_t peers = 0;
  std::optional<int64_t> endedUnix;
  std::string endReason;
};

struct LedgerDayTotals {
  LedgerCounters counters;
  uint64_t allocations = 0;  // allocations that started this day
  uint64_t allocationSeconds = 0;
};
struct LedgerHourTotals {
  LedgerCounters counters;
  uint64_t allocationSeconds = 0;
};

// What one flush writes: rows to upsert and increments to add.
struct LedgerBatch {
  using DayKey = std::tuple<std::string, std::string, std::string>;  // (YYYY-MM-DD, identity, class)
  using SessionKey = std::tuple<std::string, std::string, std::string, std::string>;  // (day, path, local, remote)

  std::map<int64_t, LedgerAllocationRow> allocations;
  std::map<DayKey, LedgerDayTotals> days;
  std::map<int64_t, LedgerHourTotals> hours;  // hour start (unix seconds) -> increments
  std::map<SessionKey, uint64_t> sessions;
  int64_t flushedUnix = 0;  // "now" of the flush: live allocations are accounted up to here
  int64_t nextRowId = 1;    // to store, so a restart continues numbering

  bool empty() const { return allocations.empty() && days.empty() && hours.empty() && sessions.empty(); }
  // Adds `later` (taken after this one) into this batch: rows are replaced, increments added.
  void merge(LedgerBatch&& later);
  // Sum of the byte/packet increments (what this batch books).
  LedgerCounters bookedCounters() const;
};

// "2026-11-22" for a unix time (UTC), and back (days since the epoch; nullopt if not a valid date).
std::string utcDay(int64_t unixSeconds);
std::optional<int64_t> parseUtcDay(const std::string& text);  // returns unix seconds of 00:00 UTC
inline int64_t floorTo(int64_t unixSeconds, int64_t unit) {
  const int64_t r = unixSeconds % unit;
  return unixSeconds - (r < 0 ? r + unit : r);
}

class LedgerBook {
 public:
  explicit LedgerBook(int64_t nextRowId = 1) : nextRowId_(nextRowId) {}

  void apply(const LedgerEvent& event);
  // Accrues allocation seconds of live allocations up to `nowUnix` and hands over everything not
  // yet written. The book keeps the live allocations.
  LedgerBatch takeBatch(int64_t nowUnix);
  // Puts back a batch whose write failed (it is merged under what came since; retried next flush).
  void restore(LedgerBatch&& failed);

  size_t liveAllocations() const { return live_.size(); }
  // Active allocations per quota class (from started/ended events).
  std::map<std::string, uint64_t> activeByClass() const;
  // Usage events for an allocation the book never saw start (booked to the identity anyway).
  uint64_t orphanUsage() const { return orphanUsage_; }
  // Allocations ended since the book was created, by end reason.
  const std::map<std::string, uint64_t>& endedByReason() const { return endedByReason_; }

 private:
  // Who an allocation is metered to, as its row names it: identity, username, quota class and transport.
  // Interned: one copy per distinct set, shared by every live allocation that has it (an identity's
  // thousand allocations hold one copy of its strings; issue 13 item 4, docs/benchmarks.md "memory").
  struct Names {
    std::string identity;
    std::string username;
    std::string quotaClass;
    std::string transport;
    auto operator<=>(const Names&) const = default;
  };
  // A live allocation, compact (the key of live_ is its runId): its row's facts are rebuilt from this
  // when the batch is taken.
  struct Live {
    int64_t rowId = 0;
    const Names* names = nullptr;  // the key of an entry of names_, which holds a reference for it
    ShortText client;              // ADDR:PORT (or its prefix)
    ShortText relay;
    int64_t startedUnix = 0;
    LedgerCounters booked;
    int64_t accruedTo = 0;  // allocation seconds are booked up to here
    bool dirty = false;     // its row changed since the last takeBatch (written then)
  };

  Live& start(const LedgerAllocationFacts& facts);
  void book(const std::string& identity, const std::string& quotaClass, const LedgerCounters& delta, int64_t unix);
  void accrue(Live& live, int64_t toUnix);
  void touch(Live& live);
  const Names* intern(Names names);
  void release(const Names* names);
  static LedgerAllocationFacts factsOf(uint64_t runId, const Live& live);

  int64_t nextRowId_;
  // Live records come from a pool of their own: allocated in the same heap as each flush's transient rows
  // and SQLite's pages, a burst's records ended up spread over pages that malloc_trim cannot give back
  // (the node's RSS per allocation then varied by ~150 B from run to run). Given back when none is live.
  std::pmr::unsynchronized_pool_resource livePool_;
  std::pmr::unordered_map<uint64_t, Live> live_{&livePool_};  // by runId
  std::map<Names, uint32_t> names_;          // interned Names -> live allocations holding them
  LedgerBatch pending_;
  uint64_t orphanUsage_ = 0;
  std::map<std::string, uint64_t> endedByReason_;
};

}  // namespace rdv::storage
