// The advertisement registry: a sans-I/O core (no clock, no storage). Peers register their own
// signed ENR under a namespace for a TTL, discover others page by page with an opaque cookie,
// and unregister with a signature. `now` is wall-clock time passed in by the caller, because
// expiries are persisted and must mean the same after a restart.
//
// Mutations come in two steps so that the daemon can make them durable before acknowledging:
//   auto plan = registry.checkRegister(ns, record, ttl, now);   // validate, no change
//   store.save(plan->registration);                             // write-through (storage/)
//   registry.apply(*plan);                                      // then change memory
// registerRecord() does both for callers without storage. Same for unregister.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "rendezvous/enr/enr_record.h"
#include "rendezvous/identity/eth_address.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/registry/registry_error.h"
#include "rendezvous/base/result.h"

namespace rdv::registry {

using TimePoint = std::chrono::system_clock::time_point;
using Seconds = std::chrono::seconds;

struct RegistryConfig {
  Seconds defaultTtl{2 * 3600};  // libp2p rendezvous: default 2 h
  Seconds minTtl{60};
  Seconds maxTtl{72 * 3600};  // libp2p rendezvous: maximum 72 h
  size_t maxPerIdentity = 100;         // namespaces one identity may be registered in
  size_t maxPerNamespace = 1'000'000;  // registrations one namespace may hold
  size_t maxRecords = 200'000;         // registrations held in total (memory: ~1 KiB each)
  size_t maxDiscoverLimit = 1000;
};

inline constexpr size_t kMaxNamespaceSize = 255;

struct Registration {
  std::string ns;
  std::shared_ptr<const enr::EnrRecord> record;  // shared: discover pages copy pointers, not records
  TimePoint expiresAt;
  // Position in the registry's change order: a fresh value on every create or update (not on a
  // refresh). Unique among live registrations; discover cookies point into this order.
  uint64_t counter = 0;

  const identity::NodeId& nodeId() const { return record->nodeId(); }
};

enum class RegisterKind { Created, Updated, Refreshed };

struct RegisterPlan {
  RegisterKind kind;
  Registration registration;  // the registration as it will be stored
  Seconds ttl;                // granted
};

struct DiscoverPage {
  std::vector<Registration> registrations;  // in change order
  std::string cookie;                       // pass back to get only what is newer
};

class Registry {
 public:
  explicit Registry(RegistryConfig config = {}) : config_(config) {}

  // ttl nullopt = config default. The record is already verified (EnrRecord only exists verified);
  // its own key is the registrant, so only the key holder can create or change its entry.
  Result<RegisterPlan, RegistryError> checkRegister(std::string_view ns, const enr::EnrRecord& record,
                                                    std::optional<Seconds> ttl, TimePoint now) const;
  void apply(const RegisterPlan& plan);
  Result<RegisterPlan, RegistryError> registerRecord(std::string_view ns, const enr::EnrRecord& record,
                                                     std::optional<Seconds> ttl, TimePoint now);

  // Checks `signature` over unregisterDigest(ns, id, seq of the registered record, signedTime);
  // returns the registration that remove() will take out. Whether signedTime is recent (and the
  // signature new) is the caller's check (the HTTP layer's skew window and ReplayCache).
  Result<Registration, RegistryError> checkUnregister(std::string_view ns, const identity::NodeId& id,
                                                      ByteSpan signature, int64_t signedTime, TimePoint now) const;
  bool remove(std::string_view ns, const identity::NodeId& id);
  Result<Registration, RegistryError> unregister(std::string_view ns, const identity::NodeId& id,
                                                 ByteSpan signature, int64_t signedTime, TimePoint now);

  // Up to `limit` unexpired registrations in `ns` newer than `cookie` ("" = from the start).
  Result<DiscoverPage, RegistryError> discover(std::string_view ns, size_t limit, std::string_view cookie,
                                               TimePoint now) const;

  // Drops registrations with expiresAt <= now; returns how many.
  size_t purgeExpired(TimePoint now);
  // When the earliest registration expires (arm one timer for it), or nullopt when empty.
  std::optional<TimePoint> nextExpiry() const;

  // Loading from storage: inserts a stored registration as is (no caps, no seq rules) and keeps
  // the change counter above it. restoreCounter() sets the persisted high-water mark.
  void restore(Registration registration);
  void restoreCounter(uint64_t counter) { counter_ = std::max(counter_, counter); }

  const Registration* find(std::string_view ns, const identity::NodeId& id) const;
  // The unexpired registrations of `id`, every namespace, in namespace order (GET
  // /v1/registrations?node_id= or ?address=).
  std::vector<Registration> registrationsOf(const identity::NodeId& id, TimePoint now) const;
  // The registered identity whose Ethereum address (eth_address.h: its node id's last 20 bytes) is
  // `address`, if one holds a registration.
  std::optional<identity::NodeId> identityOfAddress(const identity::EthAddress& address) const;
  size_t size() const { return expiry_.size(); }
  // Whether `id` holds a registration in any namespace (the signalling hub's "known recipient").
  bool hasIdentity(const identity::NodeId& id) const { return perIdentity_.contains(id); }
  size_t namespaceCount() const { return namespaces_.size(); }
  uint64_t counter() const { return counter_; }
  const RegistryConfig& config() const { return config_; }
  // describe(e), with the configured bounds for the errors that have them.
  std::string message(RegistryError e) const;

 private:
  struct Namespace {
    // The registrations, in change order: discover walks it from the cookie's counter without
    // any other lookup.
    std::map<uint64_t, Registration> byCounter;
    // Node id -> counter: find, seq rules and unregister by identity.
    std::unordered_map<identity::NodeId, uint64_t, identity::NodeIdHash> byId;
  };
  // Expiry order: purgeExpired() and nextExpiry() read its front.
  using ExpiryKey = std::tuple<TimePoint, std::string, identity::NodeId>;

  void insert(Registration registration);
  void erase(Namespace& space, std::map<uint64_t, Registration>::iterator it);
  Result<Seconds, RegistryError> grantTtl(std::optional<Seconds> ttl) const;
  size_t identityCount(const identity::NodeId& id) const;

  RegistryConfig config_;
  std::unordered_map<std::string, Namespace> namespaces_;
  std::set<ExpiryKey> expiry_;
  // Registrations per identity across namespaces, for maxPerIdentity.
  std::unordered_map<identity::NodeId, uint32_t, identity::NodeIdHash> perIdentity_;
  // The namespaces each identity is registered in, and Ethereum address -> identity: the queries by
  // node id or address answer from these without a walk over every namespace.
  std::unordered_map<identity::NodeId, std::set<std::string>, identity::NodeIdHash> namespacesOf_;
  struct AddressHash {
    size_t operator()(const identity::EthAddress& a) const {
      size_t h;  // a hash's tail: uniformly distributed
      std::memcpy(&h, a.bytes.data(), sizeof(h));
      return h;
    }
  };
  std::unordered_map<identity::EthAddress, identity::NodeId, AddressHash> byAddress_;
  uint64_t counter_ = 0;
};

}  // namespace rdv::registry
