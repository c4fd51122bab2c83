// Where the registry API keeps registrations: the node's own SQLite-backed registry (LocalRegistryBackend,
// the default) or a fleet's shared store in Redis (rendezvous/fleet/redis_registry.h, with the `redis` key).
// Same validation and answers either way; signatures are verified by the HTTP layer before any write.
// Single threaded: the API thread calls it.
#pragma once

#include <optional>

#include "rendezvous/storage/durable_registry.h"

namespace rdv::storage {

// DbError::code of a shared store that cannot be reached right now (the HTTP answer is 503, retry later).
inline constexpr int kStoreUnavailable = -2;

class RegistryBackend {
 public:
  virtual ~RegistryBackend() = default;

  virtual Result<registry::RegisterPlan, DurableError> registerRecord(std::string_view ns, const enr::EnrRecord& record,
                                                                      std::optional<registry::Seconds> ttl,
                                                                      registry::TimePoint now) = 0;
  virtual Result<registry::Registration, DurableError> unregister(std::string_view ns, const identity::NodeId& id,
                                                                  ByteSpan signature, int64_t signedTime,
                                                                  registry::TimePoint now) = 0;
  virtual Result<registry::DiscoverPage, DurableError> discover(std::string_view ns, size_t limit,
                                                                std::string_view cookie, registry::TimePoint now) = 0;
  // The live registration of `id` in `ns`, if any.
  virtual std::optional<registry::Registration> find(std::string_view ns, const identity::NodeId& id,
                                                     registry::TimePoint now) = 0;
  // Drops expired registrations; returns how many (0 when nothing was due).
  virtual Result<size_t, DbError> purgeExpired(registry::TimePoint now) = 0;
  virtual bool hasIdentity(const identity::NodeId& id) = 0;
  // Registrations held (a gauge: may lag by one purge tick).
  virtual size_t size() const = 0;
  // The bounds and the error messages (Registry::config(), Registry::message()).
  virtual const registry::Registry& core() const = 0;
};

// The single node's registry: memory plus write-through SQLite (durable_registry.h).
class LocalRegistryBackend final : public RegistryBackend {
 public:
  explicit LocalRegistryBackend(DurableRegistry registry) : registry_(std::move(registry)) {}

  Result<registry::RegisterPlan, DurableError> registerRecord(std::string_view ns, const enr::EnrRecord& record,
                                                              std::optional<registry::Seconds> ttl,
                                                              registry::TimePoint now) override {
    return registry_.registerRecord(ns, record, ttl, now);
  }
  Result<registry::Registration, DurableError> unregister(std::string_view ns, const identity::NodeId& id,
                                                          ByteSpan signature, int64_t signedTime,
                                                          registry::TimePoint now) override {
    return registry_.unregister(ns, id, signature, signedTime, now);
  }
  Result<registry::DiscoverPage, DurableError> discover(std::string_view ns, size_t limit, std::string_view cookie,
                                                        registry::TimePoint now) override {
    auto page = registry_.discover(ns, limit, cookie, now);
    if (!page) return unexpected(DurableError{page.error()});
    return std::move(*page);
  }
  std::optional<registry::Registration> find(std::string_view ns, const identity::NodeId& id,
                                             registry::TimePoint now) override {
    const registry::Registration* reg = registry_.core().find(ns, id);
    if (reg == nullptr || reg->expiresAt <= now) return std::nullopt;
    return *reg;
  }
  Result<size_t, DbError> purgeExpired(registry::TimePoint now) override {
    // Memory and disk hold the same rows, so the earliest expiry in memory says whether there is
    // anything to delete: no write transaction on idle ticks.
    if (auto next = registry_.nextExpiry(); !next || *next > now) return size_t{0};
    return registry_.purgeExpired(now);
  }
  bool hasIdentity(const identity::NodeId& id) override { return registry_.core().hasIdentity(id); }
  size_t size() const override { return registry_.core().size(); }
  const registry::Registry& core() const override { return registry_.core(); }

 private:
  DurableRegistry registry_;
};

}  // namespace rdv::storage
