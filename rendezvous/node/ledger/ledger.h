// The node's usage ledger (issue 7, docs/ledger.md): workers and the signalling hub post events to a
// small queue (a mutex held only for a push_back: nobody ever waits on SQLite), and one ledger thread
// feeds them to the sans-I/O LedgerBook and writes what changed to the node's SQLite database in ONE
// transaction at most every flush interval. stop() drains the queue and writes everything (SIGTERM
// is exact); after kill -9 at most the last interval's events are missing.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rendezvous/storage/database.h"
#include "rendezvous/storage/ledger_book.h"
#include "rendezvous/storage/ledger_store.h"
#include "rendezvous/base/result.h"

namespace rdv::node {

// Where workers hand their usage events (the Ledger, or nothing when a test runs a bare Service).
class UsageSink {
 public:
  virtual ~UsageSink() = default;
  // Thread-safe, never blocks on I/O.
  virtual void post(storage::LedgerEvent event) = 0;
};

// What /metrics shows about the ledger; read from any thread.
struct LedgerMetrics {
  uint64_t flushes = 0;
  uint64_t flushErrors = 0;
  storage::LedgerCounters booked;  // durably written since the ledger file was created
  std::map<std::string, uint64_t> activeByClass;
  std::map<std::string, uint64_t> endedByReason;  // since the node started
  // Seconds since the ledger last had everything posted to it written (at most the flush interval when
  // healthy; grows while flushes fail or the ledger thread is stuck): the dashboards' "flush lag".
  double flushLagSeconds = 0;
};

class Ledger final : public UsageSink {
 public:
  using Clock = std::function<int64_t()>;  // unix seconds

  // Opens its own connection to `dbPath` (WAL: readers and the registry's connection go on
  // concurrently) and starts the ledger thread.
  static Result<std::unique_ptr<Ledger>, std::string> open(const std::string& dbPath,
                                                           std::chrono::milliseconds flushInterval,
                                                           Clock clock = {});
  ~Ledger() override;

  void post(storage::LedgerEvent event) override;
  // Drains the queue, writes everything and stops the thread. Idempotent.
  void stop();
  // Blocks until everything posted before the call has been written (tests, admin reads).
  void flushNow();

  // ledger-retention-days (0: keep everything): rows older are deleted by the ledger thread at its first
  // flush after this call and then once a day. Call right after open().
  void setRetentionDays(unsigned days) { retentionDays_.store(days); }

  LedgerMetrics metrics() const;
  // Called on the ledger thread after each flush that wrote a batch, outside every lock of the ledger (a
  // fleet publishes the batch's day totals to its usage stream, docs/fleet.md). Any thread, any time.
  void setFlushObserver(std::function<void(const storage::LedgerBatch&)> observer) {
    std::lock_guard lock(observerMutex_);
    observer_ = std::move(observer);
  }
  // Bytes per identity already booked today (UTC), read at open: seeds the daily budgets.
  const std::map<std::string, uint64_t>& bytesToday() const { return bytesToday_; }
  const storage::LedgerOpenInfo& openInfo() const { return openInfo_; }

 private:
  Ledger(storage::Database db, std::chrono::milliseconds interval, Clock clock)
      : db_(std::move(db)), interval_(interval), clock_(std::move(clock)) {}
  void run();
  void flushOnce();

  storage::Database db_;  // the ledger thread's connection (not moved once store_ points at it)
  std::optional<storage::LedgerStore> store_;
  std::optional<storage::LedgerBook> book_;
  storage::LedgerOpenInfo openInfo_;
  std::map<std::string, uint64_t> bytesToday_;
  std::chrono::milliseconds interval_;
  Clock clock_;

  std::mutex queueMutex_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::vector<storage::LedgerEvent> queue_;
  static constexpr int kPageCacheKiB = 256;  // PRAGMA cache_size of the ledger's connection
  static constexpr size_t kTrimAfterEvents = 1024;  // run(): malloc_trim once this many were applied,
  static constexpr size_t kTrimAfterQuiet = 64;      // or this many and then a flush with none
  size_t untrimmedEvents_ = 0;                        // events applied since the last malloc_trim (ledger thread)
  bool stopping_ = false;
  uint64_t flushRequests_ = 0;  // flushNow() generations, under queueMutex_
  uint64_t flushesDone_ = 0;
  std::thread thread_;
  std::atomic<unsigned> retentionDays_{0};
  int64_t nextPurgeUnix_ = 0;  // ledger thread only
  void purgeOld();

  std::mutex observerMutex_;
  std::function<void(const storage::LedgerBatch&)> observer_;
  mutable std::mutex metricsMutex_;
  LedgerMetrics metrics_;
  std::chrono::steady_clock::time_point caughtUp_ = std::chrono::steady_clock::now();  // under metricsMutex_
};

}  // namespace rdv::node
