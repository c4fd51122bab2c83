#include "rendezvous/storage/ledger_store.h"

#include "rendezvous/storage/rows.h"

#include <array>

namespace rdv::storage {

namespace {

// Schema steps: index i upgrades version i to i+1. Never edit a released step; append a new one.
// Counters are SQLite INTEGERs (signed 64-bit): 9.2e18 bytes is far beyond any node's life.
constexpr std::array<std::string_view, LedgerStore::kSchemaVersion> kSchema = {
    "CREATE TABLE allocations ("
    "  id INTEGER PRIMARY KEY,"          // the ledger's own durable id
    "  run_id INTEGER NOT NULL,"         // the engine's id within one node run (worker << 48 | n)
    "  identity TEXT NOT NULL,"
    "  username TEXT NOT NULL,"
    "  class TEXT NOT NULL,"
    "  transport TEXT NOT NULL,"
    "  client TEXT NOT NULL,"
    "  relay TEXT NOT NULL,"
    "  started INTEGER NOT NULL,"        // unix seconds
    "  ended INTEGER,"                   // unix seconds; NULL while live
    "  end_reason TEXT,"
    "  bytes_to_peer INTEGER NOT NULL, bytes_to_client INTEGER NOT NULL,"
    "  packets_to_peer INTEGER NOT NULL, packets_to_client INTEGER NOT NULL,"
    "  peers INTEGER NOT NULL"
    ");"
    "CREATE INDEX allocations_by_started ON allocations (started);"
    "CREATE INDEX allocations_by_ended ON allocations (ended);"
    "CREATE TABLE identity_days ("
    "  day TEXT NOT NULL, identity TEXT NOT NULL, class TEXT NOT NULL,"
    "  allocations INTEGER NOT NULL,"
    "  bytes_to_peer INTEGER NOT NULL, bytes_to_client INTEGER NOT NULL,"
    "  packets_to_peer INTEGER NOT NULL, packets_to_client INTEGER NOT NULL,"
    "  allocation_seconds INTEGER NOT NULL,"
    "  PRIMARY KEY (day, identity, class)"
    ") WITHOUT ROWID;"
    "CREATE TABLE node_hours ("
    "  hour_start INTEGER PRIMARY KEY,"  // unix seconds, multiple of 3600
    "  bytes_to_peer INTEGER NOT NULL, bytes_to_client INTEGER NOT NULL,"
    "  packets_to_peer INTEGER NOT NULL, packets_to_client INTEGER NOT NULL,"
    "  allocation_seconds INTEGER NOT NULL"
    ");"
    "CREATE TABLE sessions ("
    "  day TEXT NOT NULL, path TEXT NOT NULL, local TEXT NOT NULL, remote TEXT NOT NULL,"
    "  count INTEGER NOT NULL,"
    "  PRIMARY KEY (day, path, local, remote)"
    ") WITHOUT ROWID;"
    "CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO ledger_meta (key, value) VALUES ('last_flush', 0), ('next_row_id', 1), ('flushes', 0);",
};

int64_t i64(uint64_t v) { return static_cast<int64_t>(v); }

Status bindCounters(Statement& s, int first, const LedgerCounters& c) {
  if (auto r = s.bind(first, i64(c.bytesToPeer)); !r) return r;
  if (auto r = s.bind(first + 1, i64(c.bytesToClient)); !r) return r;
  if (auto r = s.bind(first + 2, i64(c.packetsToPeer)); !r) return r;
  return s.bind(first + 3, i64(c.packetsToClient));
}

// Binds with `bindAll`, runs, and resets the statement whatever happened.
template <class Fn>
Status runBound(Statement& s, Fn&& bindAll) {
  if (auto r = bindAll(); !r) {
    (void)s.reset();
    return r;
  }
  return s.run();
}

Result<int64_t, DbError> metaValue(Database& db, std::string_view key) {
  auto stmt = db.prepare("SELECT value FROM ledger_meta WHERE key = ?1");
  if (!stmt) return unexpected(stmt.error());
  if (auto s = stmt->bindText(1, key); !s) return unexpected(s.error());
  auto row = stmt->step();
  if (!row) return unexpected(row.error());
  return *row ? stmt->columnInt64(0) : 0;
}

}  // namespace

Result<LedgerStore, DbError> LedgerStore::open(Database& db, LedgerOpenInfo* info) {
  if (auto s = db.migrate("ledger", kSchema); !s) return unexpected(s.error());
  LedgerStore store(db);
  if (auto s = store.prepare(); !s) return unexpected(s.error());

  auto tx = db.begin();
  if (!tx) return unexpected(tx.error());
  auto last = metaValue(db, "last_flush");
  if (!last) return unexpected(last.error());
  auto next = metaValue(db, "next_row_id");
  if (!next) return unexpected(next.error());
  auto maxId = db.prepare("SELECT coalesce(max(id), 0) FROM allocations");
  if (!maxId) return unexpected(maxId.error());
  auto row = maxId->step();
  if (!row) return unexpected(row.error());
  const int64_t nextRowId = std::max(*next, maxId->columnInt64(0) + 1);
  // A crash (kill -9, power loss) leaves live rows open: they end at the last committed flush, which is
  // as far as their allocation seconds were booked.
  auto close = db.prepare(
      "UPDATE allocations SET ended = max(started, ?1), end_reason = 'interrupted' WHERE ended IS NULL");
  if (!close) return unexpected(close.error());
  if (auto s = close->bind(1, *last); !s) return unexpected(s.error());
  if (auto s = close->run(); !s) return unexpected(s.error());
  const int64_t interrupted = db.changes();
  if (auto s = tx->commit(); !s) return unexpected(s.error());
  if (info != nullptr) *info = LedgerOpenInfo{nextRowId, *last, interrupted};
  return store;
}

Status LedgerStore::prepare() {
  auto upsert = db_->prepare(
      "INSERT INTO allocations (id, run_id, identity, username, class, transport, client, relay, started, ended, "
      "end_reason, bytes_to_peer, bytes_to_client, packets_to_peer, packets_to_client, peers) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
      "ON CONFLICT (id) DO UPDATE SET class = excluded.class, ended = excluded.ended, "
      "end_reason = excluded.end_reason, bytes_to_peer = excluded.bytes_to_peer, "
      "bytes_to_client = excluded.bytes_to_client, packets_to_peer = excluded.packets_to_peer, "
      "packets_to_client = excluded.packets_to_client, peers = excluded.peers");
  if (!upsert) return unexpected(upsert.error());
  auto day = db_->prepare(
      "INSERT INTO identity_days (day, identity, class, allocations, bytes_to_peer, bytes_to_client, "
      "packets_to_peer, packets_to_client, allocation_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
      "ON CONFLICT (day, identity, class) DO UPDATE SET allocations = allocations + excluded.allocations, "
      "bytes_to_peer = bytes_to_peer + excluded.bytes_to_peer, "
      "bytes_to_client = bytes_to_client + excluded.bytes_to_client, "
      "packets_to_peer = packets_to_peer + excluded.packets_to_peer, "
      "packets_to_client = packets_to_client + excluded.packets_to_client, "
      "allocation_seconds = allocation_seconds + excluded.allocation_seconds");
  if (!day) return unexpected(day.error());
  auto hour = db_->prepare(
      "INSERT INTO node_hours (hour_start, bytes_to_peer, bytes_to_client, packets_to_peer, packets_to_client, "
      "allocation_seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
      "ON CONFLICT (hour_start) DO UPDATE SET bytes_to_peer = bytes_to_peer + excluded.bytes_to_peer, "
      "bytes_to_client = bytes_to_client + excluded.bytes_to_client, "
      "packets_to_peer = packets_to_peer + excluded.packets_to_peer, "
      "packets_to_client = packets_to_client + excluded.packets_to_client, "
      "allocation_seconds = allocation_seconds + excluded.allocation_seconds");
  if (!hour) return unexpected(hour.error());
  auto session = db_->prepare(
      "INSERT INTO sessions (day, path, local, remote, count) VALUES (?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT (day, path, local, remote) DO UPDATE SET count = count + excluded.count");
  if (!session) return unexpected(session.error());
  auto meta = db_->prepare(
      "UPDATE ledger_meta SET value = CASE key WHEN 'last_flush' THEN max(value, ?1) "
      "WHEN 'next_row_id' THEN max(value, ?2) WHEN 'flushes' THEN value + 1 ELSE value END");
  if (!meta) return unexpected(meta.error());
  upsertAllocation_.emplace(std::move(*upsert));
  addDay_.emplace(std::move(*day));
  addHour_.emplace(std::move(*hour));
  addSession_.emplace(std::move(*session));
  setMeta_.emplace(std::move(*meta));
  return Ok{};
}

Status LedgerStore::write(const LedgerBatch& batch) {
  auto tx = db_->begin();
  if (!tx) return unexpected(tx.error());
  // Plain references, not structured bindings: the lambdas below capture them, which clang before 16
  // (the fuzz build's clang 14) does not allow for bindings.
  for (const auto& allocation : batch.allocations) {
    const auto& row = allocation.second;
    auto& s = *upsertAllocation_;
    auto status = runBound(s, [&]() -> Status {
      const auto& f = row.facts;
      if (auto r = s.bind(1, row.rowId); !r) return r;
      if (auto r = s.bind(2, i64(f.runId)); !r) return r;
      if (auto r = s.bindText(3, f.identity); !r) return r;
      if (auto r = s.bindText(4, f.username); !r) return r;
      if (auto r = s.bindText(5, f.quotaClass); !r) return r;
      if (auto r = s.bindText(6, f.transport); !r) return r;
      if (auto r = s.bindText(7, f.client); !r) return r;
      if (auto r = s.bindText(8, f.relay); !r) return r;
      if (auto r = s.bind(9, f.startedUnix); !r) return r;
      if (auto r = row.endedUnix ? s.bind(10, *row.endedUnix) : s.bindNull(10); !r) return r;
      if (auto r = row.endedUnix ? s.bindText(11, row.endReason) : s.bindNull(11); !r) return r;
      if (auto r = bindCounters(s, 12, row.booked); !r) return r;
      return s.bind(16, row.peers);
    });
    if (!status) return status;
  }
  for (const auto& day : batch.days) {
    const auto& key = day.first;
    const auto& t = day.second;
    auto& s = *addDay_;
    auto status = runBound(s, [&]() -> Status {
      if (auto r = s.bindText(1, std::get<0>(key)); !r) return r;
      if (auto r = s.bindText(2, std::get<1>(key)); !r) return r;
      if (auto r = s.bindText(3, std::get<2>(key)); !r) return r;
      if (auto r = s.bind(4, i64(t.allocations)); !r) return r;
      if (auto r = bindCounters(s, 5, t.counters); !r) return r;
      return s.bind(9, i64(t.allocationSeconds));
    });
    if (!status) return status;
  }
  for (const auto& hour : batch.hours) {
    const auto& hourStart = hour.first;
    const auto& t = hour.second;
    auto& s = *addHour_;
    auto status = runBound(s, [&]() -> Status {
      if (auto r = s.bind(1, hourStart); !r) return r;
      if (auto r = bindCounters(s, 2, t.counters); !r) return r;
      return s.bind(6, i64(t.allocationSeconds));
    });
    if (!status) return status;
  }
  for (const auto& session : batch.sessions) {
    const auto& key = session.first;
    const auto& n = session.second;
    auto& s = *addSession_;
    auto status = runBound(s, [&]() -> Status {
      if (auto r = s.bindText(1, std::get<0>(key)); !r) return r;
      if (auto r = s.bindText(2, std::get<1>(key)); !r) return r;
      if (auto r = s.bindText(3, std::get<2>(key)); !r) return r;
      if (auto r = s.bindText(4, std::get<3>(key)); !r) return r;
      return s.bind(5, i64(n));
    });
    if (!status) return status;
  }
  auto& m = *setMeta_;
  auto status = runBound(m, [&]() -> Status {
    if (auto r = m.bind(1, batch.flushedUnix); !r) return r;
    return m.bind(2, batch.nextRowId);
  });
  if (!status) return status;
  return tx->commit();
}

Result<std::map<std::string, uint64_t>, DbError> LedgerStore::bytesOnDay(const std::string& day) {
  std::map<std::string, uint64_t> out;
  auto walked = forEachRow(
      *db_, "SELECT identity, sum(bytes_to_peer + bytes_to_client) FROM identity_days WHERE day = ?1 GROUP BY identity",
      {day}, [&](const Statement& st) { out[st.columnText(0)] = static_cast<uint64_t>(st.columnInt64(1)); });
  if (!walked) return unexpected(walked.error());
  return out;
}

Result<LedgerCounters, DbError> LedgerStore::totals() {
  LedgerCounters totals;
  auto walked = forEachRow(
      *db_,
      "SELECT coalesce(sum(bytes_to_peer), 0), coalesce(sum(bytes_to_client), 0), coalesce(sum(packets_to_peer), 0), "
      "coalesce(sum(packets_to_client), 0) FROM identity_days",
      {}, [&](const Statement& st) {
        totals = LedgerCounters{.bytesToPeer = static_cast<uint64_t>(st.columnInt64(0)),
                                .bytesToClient = static_cast<uint64_t>(st.columnInt64(1)),
                                .packetsToPeer = static_cast<uint64_t>(st.columnInt64(2)),
                                .packetsToClient = static_cast<uint64_t>(st.columnInt64(3))};
      });
  if (!walked) return unexpected(walked.error());
  return totals;
}

Result<int64_t, DbError> LedgerStore::deleteOlderThan(int64_t cutoffUnix) {
  const std::string day = utcDay(cutoffUnix);
  auto tx = db_->begin();
  if (!tx) return unexpected(tx.error());
  int64_t deleted = 0;
  const std::pair<const char*, bool> steps[] = {
      {"DELETE FROM allocations WHERE ended IS NOT NULL AND ended < ?1", false},
      {"DELETE FROM identity_days WHERE day < ?1", true},
      {"DELETE FROM node_hours WHERE hour_start + 3600 <= ?1", false},
      {"DELETE FROM sessions WHERE day < ?1", true},
  };
  for (const auto& [sql, byDay] : steps) {
    auto st = db_->prepare(sql);
    if (!st) return unexpected(st.error());
    if (auto b = byDay ? st->bindText(1, day) : st->bind(1, cutoffUnix); !b) return unexpected(b.error());
    if (auto r = st->run(); !r) return unexpected(r.error());
    deleted += db_->changes();
  }
  if (auto c = tx->commit(); !c) return unexpected(c.error());
  return deleted;
}

}  // namespace rdv::storage
