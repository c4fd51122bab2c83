// Write-through persistence of the registry in SQLite (table "registrations", component
// "registry" in schema_versions). The daemon calls save()/remove() between Registry::check*()
// and the matching apply()/remove(), so memory changes only once the row is committed, and calls
// load() once at start to rebuild the Registry. Records are re-verified on load; rows that no
// longer decode are skipped and counted, never trusted.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "rendezvous/registry/registry.h"
#include "rendezvous/storage/database.h"

namespace rdv::storage {

struct LoadedRegistry {
  std::vector<registry::Registration> registrations;  // unexpired at load time
  uint64_t counter = 0;                                // change-counter high-water mark
  size_t skipped = 0;                                  // rows whose record failed to decode/verify
};

class RegistryStore {
 public:
  static constexpr int kSchemaVersion = 1;

  // Migrates the schema and prepares the statements. `db` must outlive the store.
  static Result<RegistryStore, DbError> open(Database& db);

  // Inserts or replaces the (namespace, node id) row and raises the stored counter, atomically.
  Status save(const registry::Registration& registration);
  Status remove(std::string_view ns, const identity::NodeId& id);
  // Deletes rows with expires_at <= now; returns how many.
  Result<int64_t, DbError> purgeExpired(registry::TimePoint now);
  Result<LoadedRegistry, DbError> load(registry::TimePoint now);
  // Loads into `registry` (restore + restoreCounter); returns what was loaded.
  Result<LoadedRegistry, DbError> loadInto(registry::Registry& registry, registry::TimePoint now);

 private:
  RegistryStore(Database& db, Statement upsert, Statement raiseCounter, Statement remove, Statement purge)
      : db_(&db),
        upsert_(std::move(upsert)),
        raiseCounter_(std::move(raiseCounter)),
        remove_(std::move(remove)),
        purge_(std::move(purge)) {}

  Database* db_;
  Statement upsert_;
  Statement raiseCounter_;
  Statement remove_;
  Statement purge_;
};

// Wall-clock time as stored: milliseconds since the Unix epoch.
int64_t toUnixMillis(registry::TimePoint t);
registry::TimePoint fromUnixMillis(int64_t ms);

}  // namespace rdv::storage
