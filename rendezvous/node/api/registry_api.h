// The registry's HTTP API (docs/registry.md): POST/GET/DELETE /v1/registrations and GET /v1/node.
// Owns the database, the durable registry and the node key. Everything but open() and advertise()
// runs on the HTTP server's API thread, one handler at a time, so nothing here takes a lock
// except the node record, which advertise() sets once from the starting thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "rendezvous/enr/enr_record.h"
#include "relay/rate_limiter.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/identity/replay_cache.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/node/api/registry_requests.h"
#include "rendezvous/node/node_record.h"
#include "rendezvous/storage/database.h"
#include "rendezvous/storage/durable_registry.h"

namespace rdv::node {

class RegistryApi {
 public:
  using Clock = std::function<registry::TimePoint()>;

  // Creates the data directory, loads or creates the node key, opens the database and loads the
  // unexpired registrations. Errors are for the operator.
  static Result<std::unique_ptr<RegistryApi>, std::string> open(const Config& config, Clock clock = {});

  // Registers the routes; call before server.start(). The API must outlive the server's thread.
  void addRoutes(HttpServer& server);
  // Builds, signs and stores the node's own record for what the daemon bound. Call from the
  // starting thread once the listeners are bound (it uses its own database connection).
  std::optional<std::string> advertise(const NodeServices& services);
  // Drops expired registrations from memory and disk (run it periodically on the API thread).
  void purgeExpired();

  HttpResponse postRegistration(const HttpRequest& request);
  HttpResponse getRegistrations(const HttpRequest& request);
  HttpResponse getRegistrationsOf(const IdentityQuery& who, const std::optional<std::string>& ns);
  HttpResponse deleteRegistration(const HttpRequest& request);
  HttpResponse getNode(const HttpRequest& request);

  const identity::PrivateKey& nodeKey() const { return key_; }
  // Registrations held (API thread only).
  size_t records() const { return registry_ ? registry_->core().size() : 0; }
  uint64_t rateLimited() const { return rateLimited_; }     // API thread only
  uint64_t replaysRefused() const { return replaysRefused_; }
  // Whether `id` has a registration (API thread only).
  bool isRegistered(const identity::NodeId& id) const { return registry_ && registry_->core().hasIdentity(id); }
  // The shared SQLite connection, for other components on the API thread (e.g. mailboxes).
  storage::Database& database() { return db_; }

 private:
  RegistryApi(storage::Database db, identity::PrivateKey key, std::string dbPath, Clock clock, const Config& config);

  // Skew window and replay cache for a proof whose signature verified; nullopt when accepted.
  std::optional<HttpResponse> checkFresh(const identity::NodeId& id, const RequestProof& proof,
                                         const identity::Hash256& digest);
  // Per source IP write rate; nullopt when allowed.
  std::optional<HttpResponse> limitWrites(const HttpRequest& request);

  storage::Database db_;  // not moved once registry_ points at it
  std::optional<storage::DurableRegistry> registry_;
  identity::PrivateKey key_;
  std::string dbPath_;
  Clock clock_;

  identity::ReplayCache replays_;
  // Exact per-IP buckets; a saturated table (only real TCP peers can fill it) shares one more of that size.
  relay::SourceRateLimiter writesPerIp_;
  uint64_t rateLimited_ = 0;
  uint64_t replaysRefused_ = 0;

  std::mutex nodeRecordMutex_;
  std::optional<enr::EnrRecord> nodeRecord_;
};

}  // namespace rdv::node
