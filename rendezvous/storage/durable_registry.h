// The registry as the daemon uses it: the sans-I/O core plus write-through storage, in the order
// that makes an acknowledgement durable (validate -> commit to SQLite -> change memory). Single
// threaded: call it from one loop (or behind one lock).
//   auto db = Database::open(dataDir + "/rendezvous.db");
//   auto reg = DurableRegistry::open(*db, config, now);          // loads unexpired registrations
//   auto r = reg->registerRecord(ns, record, ttl, now);           // 201 with r->ttl, or an error
#pragma once

#include <variant>

#include "rendezvous/registry/registry.h"
#include "rendezvous/storage/registry_store.h"

namespace rdv::storage {

// Either the registry refused (map with registry::httpStatus) or the database failed (500).
using DurableError = std::variant<registry::RegistryError, DbError>;

class DurableRegistry {
 public:
  // `db` must outlive the registry. Loads every unexpired registration; `loaded` (optional)
  // receives the counts for logging.
  static Result<DurableRegistry, DbError> open(Database& db, registry::RegistryConfig config,
                                               registry::TimePoint now, LoadedRegistry* loaded = nullptr);

  Result<registry::RegisterPlan, DurableError> registerRecord(std::string_view ns, const enr::EnrRecord& record,
                                                              std::optional<registry::Seconds> ttl,
                                                              registry::TimePoint now);
  Result<registry::Registration, DurableError> unregister(std::string_view ns, const identity::NodeId& id,
                                                          ByteSpan signature, int64_t signedTime,
                                                          registry::TimePoint now);
  Result<registry::DiscoverPage, registry::RegistryError> discover(std::string_view ns, size_t limit,
                                                                   std::string_view cookie,
                                                                   registry::TimePoint now) const {
    return registry_.discover(ns, limit, cookie, now);
  }
  // Purges memory and disk; returns the number purged from memory.
  Result<size_t, DbError> purgeExpired(registry::TimePoint now);
  std::optional<registry::TimePoint> nextExpiry() const { return registry_.nextExpiry(); }

  const registry::Registry& core() const { return registry_; }

 private:
  DurableRegistry(registry::Registry registry, RegistryStore store)
      : registry_(std::move(registry)), store_(std::move(store)) {}

  registry::Registry registry_;
  RegistryStore store_;
};

}  // namespace rdv::storage
