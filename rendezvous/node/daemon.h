// rendezvousd's top level: binds every socket, starts the workers, handles signals, writes the ready file.
#pragma once

#include <functional>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "relay/admission.h"
#include "rendezvous/node/config.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/node/api/registry_api.h"
#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/io/parked_sockets.h"
#include "rendezvous/node/io/worker.h"
#include "stun/binding.h"

namespace rdv::fleet {
class Fleet;
class FleetRouter;
class QuotaSync;
class RedisClient;
}  // namespace rdv::fleet
namespace rdv::signalling {
class MailboxStore;
}  // namespace rdv::signalling

namespace rdv::node {

struct BoundEndpoints {
  std::vector<Endpoint> udp;
  std::vector<Endpoint> tcp;
  std::vector<Endpoint> tls;
  std::optional<stun::AlternateAddresses> rfc5780;
  std::optional<Endpoint> http;
  std::optional<Endpoint> admin;
};

// The HTTP API's connection caps (total, per IP): the configured ones, or derived from the
// file-descriptor limit (RLIMIT_NOFILE) when the keys are absent (docs/operator.md).
std::pair<size_t, size_t> httpConnectionCaps(const Config& config);

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();

  // SIGHUP (daemon_reload.cpp): `loader` re-reads the configuration (embedded defaults < --config file
  // < flags, as at start) and returns the merged JSON and the parsed Config, or an error naming the key.
  // `current` is the JSON the node started with. A valid file's reloadable keys (isReloadableKey: users,
  // auth secrets, TLS certificates, peer lists, quotas, log level) are applied without dropping an
  // allocation or a connection: each worker gets its new engine config and TLS context as a message on
  // its loop. Secrets the file drops keep checking the credentials they issued until those expire.
  // Other changed keys are logged as needing a restart; a bad file keeps everything and says why.
  using ConfigLoader = std::function<Result<std::pair<nlohmann::json, Config>, std::string>()>;
  void setReloader(nlohmann::json current, ConfigLoader loader);
  void reload();
  // The node-wide quota state every worker shares. The usage ledger seeds today's bytes per identity
  // at start through it: quotaBook().seedDailyUsage(identity, bytes, unixNow).
  relay::QuotaBook& quotaBook() { return *quota_; }

  // Binds and starts everything; on failure returns a message for the operator and leaves nothing running.
  std::optional<std::string> start();
  // Blocks until SIGINT or SIGTERM, then stops the workers.
  void runUntilSignalled();
  void stop();
  const BoundEndpoints& endpoints() const { return bound_; }

 private:
  std::optional<std::string> bindSockets(std::vector<WorkerSockets>& perWorker);
  std::optional<std::string> bindAlternates(std::vector<WorkerSockets>& perWorker);
  void writeReadyFile() const;

  Config config_;
  BoundEndpoints bound_;
  std::optional<std::string> startApi();
  std::optional<std::string> startAdmin();
  std::shared_ptr<const relay::Config> relayConfig() const;
  // daemon_reload.cpp
  std::optional<std::string> prepareReload(Config& next, std::shared_ptr<TlsContext>& tls) const;
  std::shared_ptr<const relay::Config> reloadedRelayConfig(const Config& next, int64_t unixNow);

  std::optional<std::string> startLedger();
  // daemon_fast_path.cpp: kernel-fast-path; sets kernel_ (or leaves it null: user space only).
  std::optional<std::string> startFastPath(const relay::Config& relay);
  // /metrics: what the kernel forwarded, beside the user-space counters (zeros when the fast path is off).
  std::string fastPathMetrics() const;
  // The fleet's quota tick changed what other nodes use: every worker re-issues its kernel allowances
  // (relay::Server::kernelRefresh) before the tick returns, so the kernel never spends a stale remainder.
  void refreshKernelAllowances();
  // The fleet (docs/fleet.md, daemon_fleet.cpp), when `redis` is set: connect (exit 2 if Redis does not
  // answer) and put the registry in Redis; the mailbox store for the hub; the router, /v1/nodes, threads.
  std::optional<std::string> startFleet();
  std::unique_ptr<signalling::MailboxStore> fleetMailbox();
  void attachFleet();  // before the API starts
  void runFleet();     // once it is bound and advertised: the fleet's threads
  void startFleetQuotas();  // runFleet(): the quota tick (fleet-wide quotas)
  nlohmann::json advertised(const std::vector<Endpoint>& bound) const;  // TURN addresses for the directory
  void stopFleet();
  std::string fleetMetrics() const;  // "" without a fleet
  // GET /v1/usage with scope= (admin thread): scope=fleet sums the fleet's usage stream.
  HttpResponse fleetUsage(const HttpRequest& request, const std::string& scope);

  std::unique_ptr<class Ledger> ledger_;  // outlives metering_ and the workers that post to it
  std::unique_ptr<class UsageApi> usageApi_;
  std::unique_ptr<struct ApiGauges> apiGauges_;  // written by http_'s thread, read by admin_'s
  // Receives every worker's metering events (the usage ledger); null: events are only logged. Declared
  // before workers_ so it outlives them.
  std::shared_ptr<MeteringSink> metering_;
  std::shared_ptr<relay::QuotaBook> quota_;
  std::shared_ptr<relay::LiveRelayPorts> liveRelays_;  // every worker's live relay allocations (peer policy)
  std::shared_ptr<ConnectionsPerSource> connectionsPerSource_;  // TURN-TCP/TLS per source, every worker
  DataDirLock dataDirLock_;  // held from start() until the Daemon is gone
  nlohmann::json currentJson_;
  ConfigLoader loader_;
  // The engine config the workers started with (shared parts: nonce key, relay addresses, the node's
  // own addresses in the policy); a reload derives each worker's next config from it.
  std::shared_ptr<const relay::Config> relayBase_;
  std::vector<relay::Config::RetiredSecret> retiredSecrets_;  // auth secrets reloads removed
  // The kernel fast path's channels, shared by every worker's engine: declared before them, outlives them.
  std::shared_ptr<class KernelChannels> kernel_;
  // Relay sockets reserved by EVEN-PORT, shared by the workers: declared before them, outlives them.
  std::unique_ptr<ParkedSockets> parked_ = std::make_unique<ParkedSockets>();
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<fleet::Fleet> fleet_;                // its threads stop before http_ does
  std::unique_ptr<fleet::FleetRouter> fleetRouter_;  // used by http_'s thread (the hub's router)
  std::unique_ptr<fleet::QuotaSync> quotaSync_;      // its thread reads and writes quota_
  std::shared_ptr<fleet::RedisClient> adminRedis_;   // admin_'s thread: /v1/usage?scope=fleet
  std::unique_ptr<RegistryApi> registryApi_;  // used by http_'s thread: declared first, destroyed last
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> admin_;
  std::unique_ptr<class IceServersApi> iceServers_;
  std::unique_ptr<class SignalApi> signalApi_;
  // Bans and drain (issue 18): shared by the engines (read at Allocate) and the admin API (written).
  std::shared_ptr<relay::AdmissionControl> admission_ = std::make_shared<relay::AdmissionControl>();
  std::unique_ptr<class AdminApi> adminApi_;  // on admin_'s thread
  std::optional<std::string> startAdminApi();  // daemon_admin.cpp
};

}  // namespace rdv::node
