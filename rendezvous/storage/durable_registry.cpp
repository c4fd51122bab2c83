#include "rendezvous/storage/durable_registry.h"

namespace rdv::storage {

Result<DurableRegistry, DbError> DurableRegistry::open(Database& db, registry::RegistryConfig config,
                                                       registry::TimePoint now, LoadedRegistry* loaded) {
  auto store = RegistryStore::open(db);
  if (!store) return unexpected(store.error());
  registry::Registry registry(config);
  auto result = store->loadInto(registry, now);
  if (!result) return unexpected(result.error());
  if (loaded != nullptr) *loaded = std::move(*result);
  if (auto purged = store->purgeExpired(now); !purged) return unexpected(purged.error());
  return DurableRegistry(std::move(registry), std::move(*store));
}

Result<registry::RegisterPlan, DurableError> DurableRegistry::registerRecord(std::string_view ns,
                                                                             const enr::EnrRecord& record,
                                                                             std::optional<registry::Seconds> ttl,
                                                                             registry::TimePoint now) {
  auto plan = registry_.checkRegister(ns, record, ttl, now);
  if (!plan) return unexpected(DurableError{plan.error()});
  if (auto saved = store_.save(plan->registration); !saved) return unexpected(DurableError{saved.error()});
  registry_.apply(*plan);
  return std::move(*plan);
}

Result<registry::Registration, DurableError> DurableRegistry::unregister(std::string_view ns,
                                                                         const identity::NodeId& id,
                                                                         ByteSpan signature, int64_t signedTime,
                                                                         registry::TimePoint now) {
  auto reg = registry_.checkUnregister(ns, id, signature, signedTime, now);
  if (!reg) return unexpected(DurableError{reg.error()});
  if (auto removed = store_.remove(ns, id); !removed) return unexpected(DurableError{removed.error()});
  registry_.remove(ns, id);
  return std::move(*reg);
}

Result<size_t, DbError> DurableRegistry::purgeExpired(registry::TimePoint now) {
  if (auto purged = store_.purgeExpired(now); !purged) return unexpected(purged.error());
  return registry_.purgeExpired(now);
}

}  // namespace rdv::storage
