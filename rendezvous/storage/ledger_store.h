// The usage ledger in SQLite (component "ledger" in schema_versions; schema in docs/ledger.md).
// write() stores one LedgerBatch in ONE transaction, so after a crash the ledger holds exactly the
// batches that committed: never half a flush. open() closes rows a crash left open (end_reason
// "interrupted", ended at the last committed flush) so every stored allocation has an end.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "rendezvous/storage/database.h"
#include "rendezvous/storage/ledger_book.h"

namespace rdv::storage {

struct LedgerOpenInfo {
  int64_t nextRowId = 1;      // continue numbering allocation rows here
  int64_t lastFlushUnix = 0;  // 0: never flushed
  int64_t interrupted = 0;    // rows closed as "interrupted" by this open
};

class LedgerStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Migrates the schema, closes interrupted rows, prepares statements. `db` must outlive the store.
  static Result<LedgerStore, DbError> open(Database& db, LedgerOpenInfo* info = nullptr);

  Status write(const LedgerBatch& batch);

  // Bytes (both directions) per identity booked on `day` (YYYY-MM-DD): seeds the daily budgets.
  Result<std::map<std::string, uint64_t>, DbError> bytesOnDay(const std::string& day);
  // Retention (ledger-retention-days): deletes allocations that ended before `cutoffUnix` and the day,
  // hour and session rows before it; returns the rows deleted.
  Result<int64_t, DbError> deleteOlderThan(int64_t cutoffUnix);
  // Everything booked so far (for tests and the metrics' starting point).
  Result<LedgerCounters, DbError> totals();

 private:
  explicit LedgerStore(Database& db) : db_(&db) {}
  Status prepare();

  Database* db_;
  std::optional<Statement> upsertAllocation_;
  std::optional<Statement> addDay_;
  std::optional<Statement> addHour_;
  std::optional<Statement> addSession_;
  std::optional<Statement> setMeta_;
};

}  // namespace rdv::storage
