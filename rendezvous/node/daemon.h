// rendezvousd's top level: binds every socket, starts the workers, handles signals, writes the ready file.
#pragma once

#include <functional>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include "rendezvous/node/config.h"
#include "rendezvous/node/api/http_server.h"
#include "rendezvous/node/api/registry_api.h"
#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/io/parked_sockets.h"
#include "rendezvous/node/io/worker.h"
#include "stun/binding.h"

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

  // SIGHUP: `loader` re-reads the configuration (embedded defaults < --config file < flags) and returns
  // the merged JSON and the parsed Config, or an error naming the key. `current` is the JSON the node
  // started with. The quota keys are applied to every worker at once (existing allocations move to their
  // identity's new class); other changed keys are logged as needing a restart.
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

  std::optional<std::string> startLedger();
  // daemon_fast_path.cpp: kernel-fast-path; sets kernel_ (or leaves it null: user space only).
  std::optional<std::string> startFastPath(const relay::Config& relay);

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
  // The kernel fast path's channels, shared by every worker's engine: declared before them, outlives them.
  std::shared_ptr<class KernelChannels> kernel_;
  // Relay sockets reserved by EVEN-PORT, shared by the workers: declared before them, outlives them.
  std::unique_ptr<ParkedSockets> parked_ = std::make_unique<ParkedSockets>();
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<RegistryApi> registryApi_;  // used by http_'s thread: declared first, destroyed last
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<HttpServer> admin_;
  std::unique_ptr<class IceServersApi> iceServers_;
  std::unique_ptr<class SignalApi> signalApi_;
};

}  // namespace rdv::node
