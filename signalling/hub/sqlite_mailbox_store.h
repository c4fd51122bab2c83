// The durable mailbox: table "mailbox" (component "mailbox" in schema_versions) in the node's
// SQLite file, WAL mode (storage/database.h explains why a returned commit survives kill -9).
// Each row holds the envelope's binary encoding plus the recipient, sender, seq and expiry in
// columns for inspection. Rows are decoded on load; rows that no longer decode are skipped and
// counted (the recipient verifies signatures itself, so the hub does not re-verify here).
#pragma once

#include "rendezvous/storage/database.h"
#include "signalling/hub/mailbox_store.h"

namespace rdv::signalling {

class SqliteMailboxStore final : public MailboxStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Migrates the schema and prepares the statements. `db` must outlive the store.
  static Result<SqliteMailboxStore, storage::DbError> open(storage::Database& db);

  Result<int64_t, StoreError> put(const Envelope& e, TimePoint expiresAt) override;
  Result<bool, StoreError> remove(std::span<const int64_t> ids) override;
  Result<LoadedMailbox, StoreError> loadAll(TimePoint now) override;
  // Deletes expired rows (the hub removes by id; this is for housekeeping at start).
  Result<int64_t, StoreError> purgeExpired(TimePoint now);

 private:
  SqliteMailboxStore(storage::Database& db, storage::Statement insert, storage::Statement remove)
      : db_(&db), insert_(std::move(insert)), remove_(std::move(remove)) {}

  storage::Database* db_;
  storage::Statement insert_;
  storage::Statement remove_;
};

int64_t toUnixMillis(TimePoint t);
TimePoint fromUnixMillis(int64_t ms);

}  // namespace rdv::signalling
