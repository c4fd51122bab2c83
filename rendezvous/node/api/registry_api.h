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
#include "rendezvous/identity/private_key.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/node/node_record.h"
#include "rendezvous/storage/database.h"
#include "rendezvous/storage/durable_registry.h"

namespace rdv::node {

// The request parsers of the handlers below, pure (no registry, no clock), so they are fuzzed
// (tests/fuzz/http_api.cpp). Errors are the JSON error responses the handlers answer with.
// POST /v1/registrations {namespace, enr, ttl?}
struct RegistrationRequest {
  std::string ns;
  enr::EnrRecord record;
  std::optional<registry::Seconds> ttl;  // outside the bounds: the registry refuses it with the bounds
};
Result<RegistrationRequest, HttpResponse> parseRegistrationRequest(const std::string& body);
// DELETE /v1/registrations {namespace, node_id, signature}
struct UnregistrationRequest {
  std::string ns;
  identity::NodeId id;
  Bytes signature;
};
Result<UnregistrationRequest, HttpResponse> parseUnregistrationRequest(const std::string& body);
// GET /v1/registrations?limit=N: the limit (UINT32_MAX when out of range, for the registry to refuse with
// its bounds), or nullopt when it is not a decimal number.
std::optional<size_t> parseDiscoverLimit(std::string_view text);

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
  HttpResponse deleteRegistration(const HttpRequest& request);
  HttpResponse getNode(const HttpRequest& request);

  const identity::PrivateKey& nodeKey() const { return key_; }
  // Registrations held (API thread only).
  size_t records() const { return registry_ ? registry_->core().size() : 0; }
  // The shared SQLite connection, for other components on the API thread (e.g. mailboxes).
  storage::Database& database() { return db_; }

 private:
  RegistryApi(storage::Database db, identity::PrivateKey key, std::string dbPath, Clock clock)
      : db_(std::move(db)), key_(std::move(key)), dbPath_(std::move(dbPath)), clock_(std::move(clock)) {}

  storage::Database db_;  // not moved once registry_ points at it
  std::optional<storage::DurableRegistry> registry_;
  identity::PrivateKey key_;
  std::string dbPath_;
  Clock clock_;

  std::mutex nodeRecordMutex_;
  std::optional<enr::EnrRecord> nodeRecord_;
};

}  // namespace rdv::node
