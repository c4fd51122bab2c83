#include "rendezvous/storage/registry_store.h"

#include "rendezvous/storage/rows.h"

#include <array>
#include <memory>

namespace rdv::storage {

namespace {

// Schema steps: index i upgrades version i to i+1. Never edit a released step; append a new one.
constexpr std::array<std::string_view, RegistryStore::kSchemaVersion> kSchema = {
    "CREATE TABLE registrations ("
    "  namespace BLOB NOT NULL,"
    "  node_id BLOB NOT NULL,"
    "  enr BLOB NOT NULL,"
    "  seq INTEGER NOT NULL,"           // informational (the record is the truth); uint64 bits
    "  expires_at_ms INTEGER NOT NULL," // Unix epoch milliseconds
    "  counter INTEGER NOT NULL,"       // Registration::counter, for discover cookies
    "  PRIMARY KEY (namespace, node_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX registrations_by_expiry ON registrations (expires_at_ms);"
    "CREATE TABLE registry_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO registry_meta (key, value) VALUES ('counter', 0);",
};

}  // namespace

int64_t toUnixMillis(registry::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

registry::TimePoint fromUnixMillis(int64_t ms) {
  return registry::TimePoint{} + std::chrono::duration_cast<registry::TimePoint::duration>(
                                     std::chrono::milliseconds(ms));
}

Result<RegistryStore, DbError> RegistryStore::open(Database& db) {
  if (auto s = db.migrate("registry", kSchema); !s) return unexpected(s.error());
  auto upsert = db.prepare(
      "INSERT OR REPLACE INTO registrations (namespace, node_id, enr, seq, expires_at_ms, counter) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!upsert) return unexpected(upsert.error());
  auto raise = db.prepare("UPDATE registry_meta SET value = max(value, ?1) WHERE key = 'counter'");
  if (!raise) return unexpected(raise.error());
  auto remove = db.prepare("DELETE FROM registrations WHERE namespace = ?1 AND node_id = ?2");
  if (!remove) return unexpected(remove.error());
  auto purge = db.prepare("DELETE FROM registrations WHERE expires_at_ms <= ?1");
  if (!purge) return unexpected(purge.error());
  return RegistryStore(db, std::move(*upsert), std::move(*raise), std::move(*remove), std::move(*purge));
}

Status RegistryStore::save(const registry::Registration& reg) {
  auto tx = db_->begin();
  if (!tx) return unexpected(tx.error());
  const Status bound = [&]() -> Status {
    if (auto s = upsert_.bindBlob(1, asBytes(reg.ns)); !s) return s;
    if (auto s = upsert_.bindBlob(2, reg.nodeId().bytes); !s) return s;
    if (auto s = upsert_.bindBlob(3, reg.record->encoded()); !s) return s;
    if (auto s = upsert_.bind(4, static_cast<int64_t>(reg.record->seq())); !s) return s;
    if (auto s = upsert_.bind(5, toUnixMillis(reg.expiresAt)); !s) return s;
    return upsert_.bind(6, static_cast<int64_t>(reg.counter));
  }();
  if (!bound) {
    (void)upsert_.reset();
    return bound;
  }
  if (auto s = upsert_.run(); !s) return s;
  if (auto s = raiseCounter_.bind(1, static_cast<int64_t>(reg.counter)); !s) return s;
  if (auto s = raiseCounter_.run(); !s) return s;
  return tx->commit();
}

Status RegistryStore::remove(std::string_view ns, const identity::NodeId& id) {
  if (auto s = remove_.bindBlob(1, asBytes(ns)); !s) return s;
  if (auto s = remove_.bindBlob(2, id.bytes); !s) {
    (void)remove_.reset();
    return s;
  }
  return remove_.run();
}

Result<int64_t, DbError> RegistryStore::purgeExpired(registry::TimePoint now) {
  if (auto s = purge_.bind(1, toUnixMillis(now)); !s) return unexpected(s.error());
  if (auto s = purge_.run(); !s) return unexpected(s.error());
  return db_->changes();
}

Result<LoadedRegistry, DbError> RegistryStore::load(registry::TimePoint now) {
  LoadedRegistry loaded;
  auto counter = db_->prepare("SELECT value FROM registry_meta WHERE key = 'counter'");
  if (!counter) return unexpected(counter.error());
  auto hasRow = counter->step();
  if (!hasRow) return unexpected(hasRow.error());
  if (*hasRow) loaded.counter = static_cast<uint64_t>(counter->columnInt64(0));

  auto walked = forEachRow(
      *db_, "SELECT namespace, enr, expires_at_ms, counter FROM registrations WHERE expires_at_ms > ?1 ORDER BY counter",
      {toUnixMillis(now)}, [&](const Statement& rows) {
        const Bytes ns = rows.columnBlob(0);
        auto record = enr::EnrRecord::decode(rows.columnBlob(1));
        if (!record || ns.empty() || ns.size() > registry::kMaxNamespaceSize) {
          ++loaded.skipped;
          return;
        }
        registry::Registration reg{std::string(asString(ns)),
                                   std::make_shared<const enr::EnrRecord>(std::move(*record)),
                                   fromUnixMillis(rows.columnInt64(2)), static_cast<uint64_t>(rows.columnInt64(3))};
        loaded.counter = std::max(loaded.counter, reg.counter);
        loaded.registrations.push_back(std::move(reg));
      });
  if (!walked) return unexpected(walked.error());
  return loaded;
}

Result<LoadedRegistry, DbError> RegistryStore::loadInto(registry::Registry& registry, registry::TimePoint now) {
  auto loaded = load(now);
  if (!loaded) return loaded;
  for (const auto& reg : loaded->registrations) registry.restore(reg);
  registry.restoreCounter(loaded->counter);
  return loaded;
}

}  // namespace rdv::storage
