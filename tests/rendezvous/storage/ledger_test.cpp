// The usage ledger's core (LedgerBook) with a fake clock and synthetic relay events, and its SQLite
// store: arithmetic (deltas + final remainder == totals, seconds split at day/hour boundaries),
// one transaction per flush, recovery of rows a crash left open, a child killed with SIGKILL
// mid-write leaves a database that opens with whole flushes only.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "rendezvous/storage/database.h"
#include "rendezvous/storage/ledger_book.h"
#include "rendezvous/storage/ledger_store.h"
#include "tests/rendezvous/storage/scratch_dir_test.h"

namespace rdv::storage {
namespace {

// 2026-11-21 23:59:00 UTC.
constexpr int64_t kT0 = 1795305540;

LedgerAllocationFacts facts(uint64_t runId, std::string identity, int64_t started, std::string cls = "limited") {
  return {runId, identity, "user-" + identity, std::move(cls), "udp", "127.0.0.1:5000", "v4:49152", started};
}

LedgerCounters counters(uint64_t toPeer, uint64_t toClient, uint64_t pToPeer, uint64_t pToClient) {
  return {.bytesToPeer = toPeer, .bytesToClient = toClient, .packetsToPeer = pToPeer, .packetsToClient = pToClient};
}

TEST(LedgerDay, FormatsAndParsesUtcDays) {
  EXPECT_EQ(utcDay(kT0), "2026-11-21");
  EXPECT_EQ(utcDay(kT0 + 60), "2026-11-22");
  EXPECT_EQ(utcDay(0), "1970-01-01");
  EXPECT_EQ(parseUtcDay("2026-11-22"), kT0 + 60);
  EXPECT_EQ(parseUtcDay("1970-01-01"), 0);
  EXPECT_FALSE(parseUtcDay("2026-02-30"));
  EXPECT_FALSE(parseUtcDay("2026-13-01"));
  EXPECT_FALSE(parseUtcDay("2026-1-01"));
  EXPECT_FALSE(parseUtcDay("2026-11-2x"));
  EXPECT_FALSE(parseUtcDay(""));
}

TEST(LedgerBook, DeltasPlusRemainderEqualTotalsAcrossMidnight) {
  LedgerBook book(7);
  book.apply(LedgerAllocationStarted{facts(1, "alice", kT0)});
  book.apply(LedgerAllocationUsage{1, "alice", "limited", counters(1000, 500, 10, 5), kT0 + 30});
  auto first = book.takeBatch(kT0 + 30);
  EXPECT_EQ(first.nextRowId, 8);
  ASSERT_EQ(first.allocations.size(), 1u);
  EXPECT_EQ(first.allocations.at(7).booked, counters(1000, 500, 10, 5));
  EXPECT_FALSE(first.allocations.at(7).endedUnix);
  const LedgerBatch::DayKey day1{"2026-11-21", "alice", "limited"};
  EXPECT_EQ(first.days.at(day1).allocations, 1u);
  EXPECT_EQ(first.days.at(day1).allocationSeconds, 30u);
  EXPECT_EQ(first.days.at(day1).counters, counters(1000, 500, 10, 5));

  // After midnight: another delta, then the end with totals larger than what the deltas said.
  book.apply(LedgerAllocationUsage{1, "alice", "limited", counters(200, 100, 2, 1), kT0 + 90});
  LedgerAllocationEnded end{facts(1, "alice", kT0), counters(1500, 700, 15, 7), 3, "deleted", kT0 + 120};
  book.apply(end);
  auto second = book.takeBatch(kT0 + 121);
  const LedgerBatch::DayKey day2{"2026-11-22", "alice", "limited"};
  EXPECT_EQ(second.days.count(day1), 1u);
  EXPECT_EQ(second.days.at(day1).allocationSeconds, 30u);  // 23:59:30 -> 00:00:00
  EXPECT_EQ(second.days.at(day2).allocationSeconds, 60u);  // 00:00:00 -> 00:01:00
  EXPECT_EQ(second.days.at(day2).counters, counters(200 + 300, 100 + 100, 2 + 3, 1 + 1));
  const auto& row = second.allocations.at(7);
  EXPECT_EQ(row.booked, counters(1500, 700, 15, 7));
  EXPECT_EQ(row.endedUnix, kT0 + 120);
  EXPECT_EQ(row.endReason, "deleted");
  EXPECT_EQ(row.peers, 3u);
  EXPECT_EQ(book.liveAllocations(), 0u);

  LedgerBatch all = std::move(first);
  all.merge(std::move(second));
  EXPECT_EQ(all.bookedCounters(), end.totals);
  uint64_t hourSeconds = 0;
  for (const auto& [h, t] : all.hours) hourSeconds += t.allocationSeconds;
  EXPECT_EQ(hourSeconds, 120u);
  EXPECT_EQ(all.hours.size(), 2u);  // 23:00 and 00:00
}

TEST(LedgerBook, EndWithoutStartAndUsageWithoutStartAreStillBooked) {
  LedgerBook book;
  book.apply(LedgerAllocationUsage{9, "bob", "gold", counters(5, 6, 1, 1), kT0});
  book.apply(LedgerAllocationEnded{facts(10, "carol", kT0, "gold"), counters(40, 50, 4, 5), 1, "expired", kT0 + 10});
  auto b = book.takeBatch(kT0 + 20);
  EXPECT_EQ(book.orphanUsage(), 1u);
  EXPECT_EQ(b.bookedCounters(), counters(45, 56, 5, 6));
  EXPECT_EQ(b.allocations.size(), 1u);
  EXPECT_EQ(b.days.at({"2026-11-21", "carol", "gold"}).allocationSeconds, 10u);
}

TEST(LedgerBook, ActiveByClassFollowsStartsAndEnds) {
  LedgerBook book;
  book.apply(LedgerAllocationStarted{facts(1, "a", kT0, "limited")});
  book.apply(LedgerAllocationStarted{facts(2, "b", kT0, "gold")});
  book.apply(LedgerAllocationStarted{facts(3, "c", kT0, "gold")});
  book.apply(LedgerAllocationStarted{facts(3, "c", kT0, "gold")});  // a repeat changes nothing
  EXPECT_EQ(book.activeByClass(), (std::map<std::string, uint64_t>{{"gold", 2}, {"limited", 1}}));
  book.apply(LedgerAllocationEnded{facts(2, "b", kT0, "gold"), {}, 0, "expired", kT0 + 1});
  EXPECT_EQ(book.activeByClass(), (std::map<std::string, uint64_t>{{"gold", 1}, {"limited", 1}}));
}

// Live allocations share one copy of their names (identity, username, class, transport); a reload that
// moves one allocation to another class moves only that one, and its row keeps every fact.
TEST(LedgerBook, AClassMovedByAReloadMovesOnlyThatAllocation) {
  LedgerBook book;
  book.apply(LedgerAllocationStarted{facts(1, "a", kT0, "limited")});
  book.apply(LedgerAllocationStarted{facts(2, "a", kT0, "limited")});
  book.apply(LedgerAllocationUsage{2, "a", "gold", counters(7, 0, 1, 0), kT0 + 1});
  EXPECT_EQ(book.activeByClass(), (std::map<std::string, uint64_t>{{"gold", 1}, {"limited", 1}}));
  auto b = book.takeBatch(kT0 + 2);
  EXPECT_EQ(b.days.at({"2026-11-21", "a", "gold"}).counters, counters(7, 0, 1, 0));
  const LedgerAllocationFacts& moved = b.allocations.at(2).facts;
  EXPECT_EQ(moved.runId, 2u);
  EXPECT_EQ(moved.quotaClass, "gold");
  EXPECT_EQ(moved.identity, "a");
  EXPECT_EQ(moved.username, "user-a");
  EXPECT_EQ(moved.transport, "udp");
  EXPECT_EQ(moved.client, "127.0.0.1:5000");
  EXPECT_EQ(moved.relay, "v4:49152");
  EXPECT_EQ(moved.startedUnix, kT0);
  EXPECT_EQ(b.allocations.at(1).facts.quotaClass, "limited");
  book.apply(LedgerAllocationEnded{facts(2, "a", kT0, "limited"), counters(7, 0, 1, 0), 0, "expired", kT0 + 3});
  book.apply(LedgerAllocationEnded{facts(1, "a", kT0, "limited"), {}, 0, "expired", kT0 + 3});
  EXPECT_TRUE(book.activeByClass().empty());
  b = book.takeBatch(kT0 + 4);
  EXPECT_EQ(b.allocations.at(2).facts.quotaClass, "gold") << "the end keeps the class the reload gave it";
  EXPECT_EQ(b.allocations.at(2).endedUnix, std::optional<int64_t>(kT0 + 3));
  EXPECT_EQ(book.liveAllocations(), 0u);
}

TEST(ShortText, KeepsUpTo23BytesInsideAndLongerOnTheHeap) {
  const std::string v4 = "203.0.113.77:54321";
  const std::string v6 = "[2001:db8:1234:5678:9abc:def0:1234:5678]:54321";
  ShortText a(v4);
  ShortText b(v6);
  EXPECT_FALSE(a.onHeap());
  EXPECT_TRUE(b.onHeap());
  EXPECT_EQ(a.view(), v4);
  EXPECT_EQ(b.view(), v6);
  EXPECT_EQ(ShortText(std::string(23, 'x')).view(), std::string(23, 'x'));
  EXPECT_TRUE(ShortText(std::string(24, 'x')).onHeap());
  ShortText c(b);  // copies
  ShortText d(std::move(b));
  EXPECT_EQ(c.view(), v6);
  EXPECT_EQ(d.view(), v6);
  EXPECT_EQ(b.view(), "");  // NOLINT(bugprone-use-after-move): moved-from is empty
  a = d;
  d = std::string_view("v4:1");
  EXPECT_EQ(a.view(), v6);
  EXPECT_EQ(d.view(), "v4:1");
  EXPECT_EQ(ShortText().view(), "");
}

TEST(LedgerBook, RestoredBatchIsMergedUnderNewerEvents) {
  LedgerBook book;
  book.apply(LedgerAllocationStarted{facts(1, "a", kT0)});
  book.apply(LedgerAllocationUsage{1, "a", "limited", counters(10, 0, 1, 0), kT0 + 1});
  auto failed = book.takeBatch(kT0 + 1);
  book.apply(LedgerAllocationUsage{1, "a", "limited", counters(5, 0, 1, 0), kT0 + 2});
  book.apply(LedgerPathReport{"relayed", "relay", "srflx", kT0 + 2});
  book.restore(std::move(failed));
  auto b = book.takeBatch(kT0 + 3);
  EXPECT_EQ(b.bookedCounters(), counters(15, 0, 2, 0));
  EXPECT_EQ(b.allocations.at(1).booked, counters(15, 0, 2, 0));
  EXPECT_EQ(b.days.at({"2026-11-21", "a", "limited"}).allocationSeconds, 3u);
  EXPECT_EQ(b.sessions.at({"2026-11-21", "relayed", "relay", "srflx"}), 1u);
}

class LedgerStoreTest : public rdv::test::ScratchDirTest {
 protected:
  LedgerStoreTest() : ScratchDirTest("rdv-ledger") {}
};

int64_t scalar(Database& db, const std::string& sql) {
  auto s = db.prepare(sql);
  EXPECT_TRUE(s.ok()) << s.error().message;
  auto row = s->step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return s->columnInt64(0);
}

TEST_F(LedgerStoreTest, WritesBatchesAndClosesInterruptedRowsOnOpen) {
  {
    auto db = Database::open(path());
    ASSERT_TRUE(db.ok());
    LedgerOpenInfo info;
    auto store = LedgerStore::open(*db, &info);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(info.nextRowId, 1);
    LedgerBook book(info.nextRowId);
    book.apply(LedgerAllocationStarted{facts(1, "alice", kT0)});
    book.apply(LedgerAllocationStarted{facts(2, "bob", kT0)});
    book.apply(LedgerAllocationUsage{1, "alice", "limited", counters(100, 200, 1, 2), kT0 + 1});
    ASSERT_TRUE(store->write(book.takeBatch(kT0 + 2)).ok());
    book.apply(LedgerAllocationEnded{facts(2, "bob", kT0), counters(7, 8, 1, 1), 1, "expired", kT0 + 5});
    book.apply(LedgerAllocationUsage{1, "alice", "limited", counters(1, 2, 1, 1), kT0 + 61});
    book.apply(LedgerPathReport{"direct", "host", "srflx", kT0 + 61});
    ASSERT_TRUE(store->write(book.takeBatch(kT0 + 70)).ok());
    EXPECT_EQ(*store->totals(), counters(108, 210, 3, 4));
    auto today = store->bytesOnDay("2026-11-22");
    ASSERT_TRUE(today.ok());
    EXPECT_EQ(*today, (std::map<std::string, uint64_t>{{"alice", 3}}));
    EXPECT_EQ(scalar(*db, "SELECT count FROM sessions WHERE path = 'direct'"), 1);
    // "alice" is still live: the process dies here without ending it.
  }
  auto db = Database::open(path());
  LedgerOpenInfo info;
  auto store = LedgerStore::open(*db, &info);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(info.nextRowId, 3);
  EXPECT_EQ(info.lastFlushUnix, kT0 + 70);
  EXPECT_EQ(info.interrupted, 1);
  EXPECT_EQ(scalar(*db, "SELECT ended FROM allocations WHERE identity = 'alice'"), kT0 + 70);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM allocations WHERE end_reason = 'interrupted'"), 1);
  EXPECT_EQ(scalar(*db, "SELECT bytes_to_client FROM allocations WHERE identity = 'alice'"), 202);
  EXPECT_EQ(scalar(*db, "SELECT sum(allocation_seconds) FROM identity_days WHERE identity = 'alice'"), 70);
  EXPECT_EQ(scalar(*db, "SELECT sum(allocation_seconds) FROM node_hours"), 75);
  EXPECT_EQ(scalar(*db, "SELECT value FROM ledger_meta WHERE key = 'flushes'"), 2);
}

// A writer killed with SIGKILL at random points: every reopen sees whole flushes only (each flush
// books exactly 1000 bytes and one row per allocation; a torn flush would break the multiple).
TEST_F(LedgerStoreTest, SigkillDuringWritesLeavesWholeFlushes) {
  // Committed flushes so far, read by a connection of our own; nullopt while the file or table is not there
  // yet or the writer holds a lock (no EXPECTs: polling).
  const auto committedFlushes = [&]() -> std::optional<int64_t> {
    auto db = Database::open(path());
    if (!db.ok()) return std::nullopt;
    auto s = db->prepare("SELECT value FROM ledger_meta WHERE key = 'flushes'");
    if (!s.ok()) return std::nullopt;
    auto row = s->step();
    if (!row.ok()) return std::nullopt;
    return *row ? s->columnInt64(0) : 0;
  };
  int64_t rowsBefore = 0;
  for (int round = 0; round < 3; ++round) {
    const int64_t flushesBefore = committedFlushes().value_or(0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto db = Database::open(path());
      LedgerOpenInfo info;
      auto store = LedgerStore::open(*db, &info);
      if (!store.ok()) _exit(3);
      LedgerBook book(info.nextRowId);
      for (uint64_t i = 0;; ++i) {
        for (uint64_t a = 0; a < 10; ++a) {
          book.apply(LedgerAllocationEnded{facts(i * 10 + a + 1, "x", kT0), counters(60, 40, 1, 1), 1, "expired", kT0});
        }
        if (!store->write(book.takeBatch(kT0)).ok()) _exit(4);
      }
    }
    // Let it commit a few flushes (a different number each round), then kill it wherever it is: any stopping
    // point must be consistent. Waiting on the file, not on the clock, so a slow machine still writes.
    const int64_t target = flushesBefore + 3 + 4 * round;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (committedFlushes().value_or(0) < target && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << WEXITSTATUS(status);

    auto db = Database::open(path());
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto store = LedgerStore::open(*db);
    ASSERT_TRUE(store.ok()) << store.error().message;
    EXPECT_EQ(*db->pragma("integrity_check"), "ok");
    const int64_t rows = scalar(*db, "SELECT count(*) FROM allocations");
    const int64_t bytes = scalar(*db, "SELECT coalesce(sum(bytes_to_peer + bytes_to_client), 0) FROM identity_days");
    EXPECT_GE(rows, rowsBefore + 10 * (3 + 4 * round)) << "round " << round << ": the writer committed too little";
    EXPECT_EQ(rows % 10, 0);
    EXPECT_EQ(bytes, rows * 100);
    EXPECT_EQ(scalar(*db, "SELECT value FROM ledger_meta WHERE key = 'flushes'") * 10, rows);
    rowsBefore = rows;
  }
}

}  // namespace
}  // namespace rdv::storage
