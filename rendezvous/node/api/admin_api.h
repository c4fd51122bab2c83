// The admin API's session control (issue 18), on the admin listener behind its bearer token:
//   GET    /v1/allocations[?identity=ID&class=NAME]  every live allocation: id, client, relay, peers,
//                                                     bytes up (to peers) and down, age, identity, class
//   DELETE /v1/allocations/{id}                       ends it at once (ledger: "ended-by-admin")
//   POST   /v1/bans {identity, reason, until?}         403 on Allocate (and registry, hub) from now on
//   GET    /v1/bans, DELETE /v1/bans/{identity}
//   POST   /v1/drain, DELETE /v1/drain, GET /v1/drain  refuse new allocations (300 to alternate-server)
// Bans persist in the node's database (storage/ban_store.h); the engines read them through
// relay::AdmissionControl. Runs on the admin server's thread; worker state is reached through `hooks`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "relay/admission.h"
#include "relay/commands.h"
#include "rendezvous/base/result.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/storage/ban_store.h"

namespace rdv::node {

struct AdminHooks {
  // Every worker's allocations now (the caller waits for each worker's loop, with a deadline).
  std::function<std::vector<relay::AllocationInfo>()> allocations;
  // Ends allocation `id` on whichever worker holds it; false when none does.
  std::function<bool(uint64_t id)> endAllocation;
  std::function<int64_t()> unixNow;
  std::function<double()> monoSeconds;  // the workers' clock (relay::Instant), for ages
  std::function<std::string(const relay::RelayPort&)> relayAddress;  // "IP:PORT" as clients are told
  std::function<std::string()> alternate;  // alternate-server, "" when none (GET /v1/drain)
};

class AdminApi {
 public:
  // Opens its own connection to the node's database and loads the bans into `admission`.
  static Result<std::unique_ptr<AdminApi>, std::string> open(const std::string& databasePath,
                                                            std::shared_ptr<relay::AdmissionControl> admission,
                                                            AdminHooks hooks);
  ~AdminApi();
  // Registers the routes on the admin server; `authorized` checks the bearer token.
  void addRoutes(HttpServer& server, std::function<bool(const HttpRequest&)> authorized);

  HttpResponse listAllocations(const HttpRequest& r);
  HttpResponse endAllocation(const HttpRequest& r);
  HttpResponse addBan(const HttpRequest& r);
  HttpResponse listBans(const HttpRequest& r);
  HttpResponse liftBan(const HttpRequest& r);
  HttpResponse drain(const HttpRequest& r);

 private:
  struct State;
  explicit AdminApi(std::unique_ptr<State> state);
  std::optional<std::string> publishBans();  // the store's active bans -> the engines

  std::unique_ptr<State> state_;
};

// The JSON of one allocation as GET /v1/allocations lists it (`nowMono`: the workers' clock, seconds).
nlohmann::json allocationJson(const relay::AllocationInfo& a, double nowMono,
                              const std::function<std::string(const relay::RelayPort&)>& relayAddress);

}  // namespace rdv::node
