#include "rendezvous/node/ledger/ledger.h"

#include <malloc.h>

#include <ctime>

#include "rendezvous/node/log.h"

namespace rdv::node {

Result<std::unique_ptr<Ledger>, std::string> Ledger::open(const std::string& dbPath,
                                                          std::chrono::milliseconds flushInterval, Clock clock) {
  if (!clock) clock = [] { return static_cast<int64_t>(std::time(nullptr)); };
  auto db = storage::Database::open(dbPath);
  if (!db) return unexpected("ledger: cannot open '" + dbPath + "': " + db.error().message);
  // This connection only writes (one transaction per flush; /v1/usage reads through its own): rows are
  // appended by increasing id and updated while live, so a small page cache holds the pages it touches,
  // and the rest comes back from the OS's cache. SQLite's default (2 MiB) filled with ledger pages and
  // showed in the node's memory per allocation (docs/benchmarks.md, "What bounds us", memory).
  if (auto s = db->exec("PRAGMA cache_size = -" + std::to_string(kPageCacheKiB)); !s)
    return unexpected("ledger: cannot set the page cache of '" + dbPath + "': " + s.error().message);
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(*db), flushInterval, std::move(clock)));
  auto store = storage::LedgerStore::open(ledger->db_, &ledger->openInfo_);
  if (!store) return unexpected("ledger: cannot open the ledger in '" + dbPath + "': " + store.error().message);
  ledger->store_.emplace(std::move(*store));
  auto today = ledger->store_->bytesOnDay(storage::utcDay(ledger->clock_()));
  if (!today) return unexpected("ledger: cannot read today's totals: " + today.error().message);
  ledger->bytesToday_ = std::move(*today);
  auto totals = ledger->store_->totals();
  if (!totals) return unexpected("ledger: cannot read the totals: " + totals.error().message);
  ledger->metrics_.booked = *totals;
  ledger->book_.emplace(ledger->openInfo_.nextRowId);
  logEvent(Level::Info, "ledger-opened",
           {{"database", dbPath},
            {"interrupted_allocations", ledger->openInfo_.interrupted},
            {"last_flush", ledger->openInfo_.lastFlushUnix},
            {"flush_interval_ms", flushInterval.count()}});
  ledger->thread_ = std::thread([l = ledger.get()] { l->run(); });
  return ledger;
}

Ledger::~Ledger() { stop(); }

void Ledger::post(storage::LedgerEvent event) {
  std::lock_guard lock(queueMutex_);
  queue_.push_back(std::move(event));
}

void Ledger::stop() {
  {
    std::lock_guard lock(queueMutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Ledger::flushNow() {
  std::unique_lock lock(queueMutex_);
  if (!thread_.joinable() || stopping_) return;
  const uint64_t mine = ++flushRequests_;
  wake_.notify_all();
  flushed_.wait(lock, [&] { return flushesDone_ >= mine || stopping_; });
}

void Ledger::run() {
  std::unique_lock lock(queueMutex_);
  auto next = std::chrono::steady_clock::now() + interval_;
  for (;;) {
    wake_.wait_until(lock, next, [&] { return stopping_ || flushRequests_ > flushesDone_; });
    const bool stop = stopping_;
    const uint64_t requested = flushRequests_;
    std::vector<storage::LedgerEvent> events;
    events.swap(queue_);
    lock.unlock();
    for (const auto& e : events) book_->apply(e);
    const size_t applied = events.size();
    events = {};
    flushOnce();
    // A burst (thousands of Allocates) leaves its events, and the rows the flushes wrote, freed but
    // resident between the long-lived records allocated in the same burst: hand the free pages back, so
    // the node's RSS follows its live allocations (docs/benchmarks.md, memory). Counted across flushes:
    // a burst spread over many small flushes (a loaded machine) is trimmed too, and so is the tail of a
    // burst, at the first flush with nothing to apply (the last batch's freed queue would stay resident).
    untrimmedEvents_ += applied;
    if (untrimmedEvents_ >= kTrimAfterEvents || (applied == 0 && untrimmedEvents_ >= kTrimAfterQuiet)) {
      malloc_trim(0);
      untrimmedEvents_ = 0;
    }
    purgeOld();
    lock.lock();
    flushesDone_ = requested;
    flushed_.notify_all();
    if (stop && queue_.empty()) break;
    next = std::chrono::steady_clock::now() + interval_;
  }
}

void Ledger::purgeOld() {
  const unsigned days = retentionDays_.load();
  const int64_t now = clock_();
  if (days == 0 || now < nextPurgeUnix_) return;
  nextPurgeUnix_ = now + 86400;
  auto deleted = store_->deleteOlderThan(now - int64_t{days} * 86400);
  if (!deleted) {
    logEvent(Level::Error, "ledger-retention-failed", {{"reason", deleted.error().message}});
    nextPurgeUnix_ = now + 60;  // try again soon
    return;
  }
  logEvent(Level::Info, "ledger-retention", {{"days", days}, {"rows_deleted", *deleted}});
}

void Ledger::flushOnce() {
  auto batch = book_->takeBatch(clock_());
  if (batch.empty()) {
    std::lock_guard lock(metricsMutex_);
    metrics_.activeByClass = book_->activeByClass();
    metrics_.endedByReason = book_->endedByReason();
    caughtUp_ = std::chrono::steady_clock::now();
    return;
  }
  const auto booked = batch.bookedCounters();
  auto written = store_->write(batch);
  {
    std::lock_guard lock(metricsMutex_);
    if (!written) {
      ++metrics_.flushErrors;
      logEvent(Level::Error, "ledger-flush-failed", {{"reason", written.error().message}});
      book_->restore(std::move(batch));  // retried with the next flush
      return;
    }
    ++metrics_.flushes;
    caughtUp_ = std::chrono::steady_clock::now();
    metrics_.booked += booked;
    metrics_.activeByClass = book_->activeByClass();
    metrics_.endedByReason = book_->endedByReason();
  }
  std::function<void(const storage::LedgerBatch&)> observer;
  {
    std::lock_guard lock(observerMutex_);
    observer = observer_;
  }
  if (observer) observer(batch);
}

LedgerMetrics Ledger::metrics() const {
  std::lock_guard lock(metricsMutex_);
  LedgerMetrics m = metrics_;
  m.flushLagSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - caughtUp_).count();
  return m;
}

}  // namespace rdv::node
