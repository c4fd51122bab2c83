// The registry of a fleet: registrations, TTLs, seq rules and discover cookies in Redis, shared by
// every node of the fleet (docs/fleet.md, "Registry"). The node that receives a write verifies its
// signatures first (registry_api.cpp), as on one node; the seq rules and the caps are checked and
// applied by one Lua script, atomically, so two nodes writing the same record at once cannot both win.
// A node that reads a registration decodes its ENR, which verifies the record's own signature again.
// Runs on the API thread with the thread's own RedisClient (short timeout, circuit breaker).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "rendezvous/fleet/keys.h"
#include "rendezvous/fleet/redis_client.h"
#include "rendezvous/storage/registry_backend.h"

namespace rdv::fleet {

class RedisRegistry final : public storage::RegistryBackend {
 public:
  RedisRegistry(registry::RegistryConfig config, Keys keys, std::shared_ptr<RedisClient> redis);

  Result<registry::RegisterPlan, storage::DurableError> registerRecord(std::string_view ns, const enr::EnrRecord& record,
                                                                       std::optional<registry::Seconds> ttl,
                                                                       registry::TimePoint now) override;
  Result<registry::Registration, storage::DurableError> unregister(std::string_view ns, const identity::NodeId& id,
                                                                   ByteSpan signature, int64_t signedTime,
                                                                   registry::TimePoint now) override;
  Result<registry::DiscoverPage, storage::DurableError> discover(std::string_view ns, size_t limit,
                                                                 std::string_view cookie,
                                                                 registry::TimePoint now) override;
  std::optional<registry::Registration> find(std::string_view ns, const identity::NodeId& id,
                                             registry::TimePoint now) override;
  Result<size_t, storage::DbError> purgeExpired(registry::TimePoint now) override;
  bool hasIdentity(const identity::NodeId& id) override;
  size_t size() const override { return size_; }
  const registry::Registry& core() const override { return bounds_; }

 private:
  Result<std::optional<registry::Registration>, storage::DbError> load(std::string_view ns, const identity::NodeId& id,
                                                                       registry::TimePoint now);

  // The record of `encoded`, decoded (its signature verified) once per node: discover pages repeat
  // records, and a secp256k1 recovery per record would dominate a page. Bounded: cleared when full.
  std::shared_ptr<const enr::EnrRecord> decode(const std::string& encoded);

  registry::Registry bounds_;  // holds no registration: the bounds and the messages
  std::unordered_map<std::string, std::shared_ptr<const enr::EnrRecord>> decoded_;
  Keys keys_;
  std::shared_ptr<RedisClient> redis_;
  size_t size_ = 0;
};

// Seq as 20 decimal digits: Lua compares the strings (its numbers are doubles, a seq is 64 bits).
std::string seqText(uint64_t seq);

}  // namespace rdv::fleet
