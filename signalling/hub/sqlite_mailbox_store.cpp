#include "signalling/hub/sqlite_mailbox_store.h"

#include <sqlite3.h>

#include <array>
#include <string_view>

#include "signalling/envelope/envelope_codec.h"

namespace rdv::signalling {

namespace {

constexpr std::array<std::string_view, 1> kMigrations = {
    "CREATE TABLE mailbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"  // AUTOINCREMENT: ids never reused, so id order = arrival order
    "  recipient BLOB NOT NULL,"
    "  sender BLOB NOT NULL,"
    "  seq INTEGER NOT NULL,"        // the envelope's uint64 seq, stored as its int64 bit pattern
    "  expires_at INTEGER NOT NULL," // unix milliseconds
    "  envelope BLOB NOT NULL"       // binary encoding (signalling/envelope/envelope_codec.h)
    ");"
    "CREATE INDEX mailbox_recipient ON mailbox(recipient, id);"
    "CREATE INDEX mailbox_expiry ON mailbox(expires_at);",
};

StoreError toStoreError(const storage::DbError& e) { return StoreError{e.message}; }

}  // namespace

int64_t toUnixMillis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint fromUnixMillis(int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

Result<SqliteMailboxStore, storage::DbError> SqliteMailboxStore::open(storage::Database& db) {
  if (auto st = db.migrate("mailbox", kMigrations); !st) return unexpected(st.error());
  auto insert = db.prepare(
      "INSERT INTO mailbox (recipient, sender, seq, expires_at, envelope) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!insert) return unexpected(insert.error());
  auto remove = db.prepare("DELETE FROM mailbox WHERE id = ?1");
  if (!remove) return unexpected(remove.error());
  return SqliteMailboxStore(db, std::move(*insert), std::move(*remove));
}

Result<int64_t, StoreError> SqliteMailboxStore::put(const Envelope& e, TimePoint expiresAt) {
  const Bytes blob = encodeBinary(e);
  storage::Status st = insert_.bindBlob(1, e.header.to.bytes);
  if (st) st = insert_.bindBlob(2, e.header.from.bytes);
  if (st) st = insert_.bind(3, static_cast<int64_t>(e.header.seq));
  if (st) st = insert_.bind(4, toUnixMillis(expiresAt));
  if (st) st = insert_.bindBlob(5, blob);
  // Autocommit: run() returns once the row is in the WAL.
  if (st) st = insert_.run();
  if (!st) {
    (void)insert_.reset();
    return unexpected(toStoreError(st.error()));
  }
  // The hub is the store's only writer on this connection, so this is the row just inserted.
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_->handle()));
}

Result<bool, StoreError> SqliteMailboxStore::remove(std::span<const int64_t> ids) {
  if (ids.empty()) return true;
  auto tx = db_->begin();
  if (!tx) return unexpected(toStoreError(tx.error()));
  for (int64_t id : ids) {
    storage::Status st = remove_.bind(1, id);
    if (st) st = remove_.run();
    if (!st) {
      (void)remove_.reset();
      return unexpected(toStoreError(st.error()));  // the transaction rolls back
    }
  }
  if (auto st = tx->commit(); !st) return unexpected(toStoreError(st.error()));
  return true;
}

Result<LoadedMailbox, StoreError> SqliteMailboxStore::loadAll(TimePoint now) {
  auto select = db_->prepare("SELECT id, expires_at, envelope FROM mailbox WHERE expires_at > ?1 ORDER BY id");
  if (!select) return unexpected(toStoreError(select.error()));
  if (auto st = select->bind(1, toUnixMillis(now)); !st) return unexpected(toStoreError(st.error()));
  LoadedMailbox out;
  for (;;) {
    auto row = select->step();
    if (!row) return unexpected(toStoreError(row.error()));
    if (!*row) break;
    auto envelope = decodeBinary(select->columnBlob(2));
    if (!envelope) {
      ++out.skipped;
      continue;
    }
    out.envelopes.push_back(
        StoredEnvelope{select->columnInt64(0), fromUnixMillis(select->columnInt64(1)), std::move(*envelope)});
  }
  return out;
}

Result<int64_t, StoreError> SqliteMailboxStore::purgeExpired(TimePoint now) {
  auto del = db_->prepare("DELETE FROM mailbox WHERE expires_at <= ?1");
  if (!del) return unexpected(toStoreError(del.error()));
  if (auto st = del->bind(1, toUnixMillis(now)); !st) return unexpected(toStoreError(st.error()));
  if (auto st = del->run(); !st) return unexpected(toStoreError(st.error()));
  return db_->changes();
}

}  // namespace rdv::signalling
