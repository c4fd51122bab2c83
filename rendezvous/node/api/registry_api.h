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
#include "rendezvous/storage/registry_backend.h"

namespace rdv::node {

// The registry's bounds and caps from the registry-* keys.
registry::RegistryConfig registryConfigOf(const Config& config);

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
  // The node's own record once advertise() made it (any thread).
  std::optional<enr::EnrRecord> nodeRecord() {
    std::lock_guard lock(nodeRecordMutex_);
    return nodeRecord_;
  }

  const identity::PrivateKey& nodeKey() const { return key_; }
  // Registrations held (API thread only).
  size_t records() const { return registry_ ? registry_->size() : 0; }
  uint64_t rateLimited() const { return rateLimited_; }     // API thread only
  uint64_t replaysRefused() const { return replaysRefused_; }
  // Bans (admin API, issue 18): a record whose node id (hex) `banned` names gets 403 on POST.
  void setBanCheck(std::function<bool(const std::string& nodeIdHex)> banned) { banned_ = std::move(banned); }
  // Presence by namespace (API thread only): the namespaces `id` is registered under, and up to `limit`
  // identities registered under `ns`.
  std::vector<std::string> namespacesOf(const identity::NodeId& id) const {
    std::vector<std::string> out;
    if (!registry_) return out;
    for (const auto& r : registry_->core().registrationsOf(id, clock_())) out.push_back(r.ns);
    return out;
  }
  std::vector<identity::NodeId> membersOf(const std::string& ns, size_t limit) const {
    std::vector<identity::NodeId> out;
    if (!registry_) return out;
    auto page = registry_->core().discover(ns, limit, "", clock_());
    if (page) for (const auto& r : page->registrations) out.push_back(r.nodeId());
    return out;
  }
  // Whether `id` has a registration (API thread only).
  bool isRegistered(const identity::NodeId& id) const { return registry_ && registry_->hasIdentity(id); }
  // Replaces the node's own registry with a fleet's shared one (docs/fleet.md); before the server starts.
  void useBackend(std::unique_ptr<storage::RegistryBackend> backend) { registry_ = std::move(backend); }
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
  std::unique_ptr<storage::RegistryBackend> registry_;
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
  std::function<bool(const std::string&)> banned_;  // setBanCheck
};

}  // namespace rdv::node
