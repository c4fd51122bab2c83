#include "rendezvous/node/daemon.h"

#include <openssl/rand.h>
#include <uv.h>

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "rendezvous/fleet/fleet.h"
#include "rendezvous/fleet/quota_sync.h"
#include "rendezvous/fleet/router.h"
#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/fastpath/kernel_channels.h"
#include "rendezvous/node/api/admin_api.h"
#include "rendezvous/node/api/ice_servers.h"
#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/node/ledger/ledger_metering.h"
#include "rendezvous/node/api/usage_api.h"
#include "rendezvous/node/log.h"
#include "rendezvous/node/api/signal_api.h"
#include "rendezvous/node/api/metrics.h"
#include "rendezvous/node/io/sockets.h"

namespace rdv::node {

Daemon::Daemon(Config config)
    : config_(std::move(config)),
      quota_(std::make_shared<relay::QuotaBook>(config_.quota)),
      liveRelays_(std::make_shared<relay::LiveRelayPorts>()),
      connectionsPerSource_(std::make_shared<ConnectionsPerSource>(config_.tcpMaxConnectionsPerIp)) {
  if (config_.maxConnectionsPerWorker == 0) config_.maxConnectionsPerWorker = defaultMaxConnectionsPerWorker(config_.workers);
}

Daemon::~Daemon() { stop(); }

std::optional<std::string> Daemon::start() {
  // One daemon per data directory: lock it before anything opens its files.
  if (auto made = ensureDataDir(dataDirOf(config_)); !made) return made.error();
  auto lock = lockDataDir(dataDirOf(config_));
  if (!lock) return lock.error();
  dataDirLock_ = std::move(*lock);
  if (auto err = ensureAuthSecret(config_)) return err;  // the default node issues TURN credentials too
  std::shared_ptr<TlsContext> tls;
  if (!config_.tlsListen.empty()) {
    auto ctx = TlsContext::server(config_.certFile, config_.keyFile);
    if (!ctx) return ctx.error();
    tls = *ctx;
  }
  std::vector<WorkerSockets> perWorker(config_.workers);
  if (auto err = bindSockets(perWorker)) {
    for (auto& ws : perWorker) {
      for (auto& u : ws.udp) closeSocket(u.fd);
      for (auto& s : ws.stream) closeSocket(s.fd);
    }
    return err;
  }
  stun::BindingConfig binding;
  binding.software = config_.software;
  binding.rfc5780 = bound_.rfc5780;
  auto relay = relayConfig();
  auto err = startFastPath(*relay);
  if (kernel_) {  // every worker's engine (and each reload's config, made from relayBase_) shares it
    auto withKernel = std::make_shared<relay::Config>(*relay);
    withKernel->kernelPath = kernel_;
    relay = std::move(withKernel);
  }
  relayBase_ = relay;
  if (err || (err = startLedger()) || (err = startAdminApi())) {
    for (auto& ws : perWorker) {
      for (auto& u : ws.udp) closeSocket(u.fd);
      for (auto& st : ws.stream) closeSocket(st.fd);
    }
    return err;
  }
  for (unsigned w = 0; w < config_.workers; ++w) {
    // Allocation ids are unique within the node run: worker w numbers from (w << 48) + 1 (issue 7).
    auto workerRelay = std::make_shared<relay::Config>(*relay);
    workerRelay->firstAllocationId = (uint64_t{w} << 48) + 1;
    workers_.push_back(std::make_unique<Worker>(w, config_, *parked_, binding, std::move(workerRelay), tls,
                                                std::move(perWorker[w]), metering_.get(), connectionsPerSource_));
    if (!workers_.back()->start()) {
      stop();
      return "worker " + std::to_string(w) + " could not start (see the log)";
    }
  }
  if (auto err = startApi()) {
    stop();
    return err;
  }
  if (auto err = startAdmin()) {
    stop();
    return err;
  }
  for (const auto& ep : bound_.udp) logEvent(Level::Info, "listening", {{"transport", "udp"}, {"address", ep.toString()}});
  for (const auto& ep : bound_.tcp) logEvent(Level::Info, "listening", {{"transport", "tcp"}, {"address", ep.toString()}});
  for (const auto& ep : bound_.tls) logEvent(Level::Info, "listening", {{"transport", "tls"}, {"address", ep.toString()}});
  if (bound_.rfc5780) {
    const auto& a = *bound_.rfc5780;
    logEvent(Level::Info, "rfc5780-enabled",
             {{"primary", Endpoint(a.primaryIp, a.primaryPort).toString()},
              {"alternate", Endpoint(a.alternateIp, a.alternatePort).toString()}});
  }
  if (bound_.http) logEvent(Level::Info, "listening", {{"transport", "http"}, {"address", bound_.http->toString()}});
  if (bound_.admin) logEvent(Level::Info, "listening", {{"transport", "admin"}, {"address", bound_.admin->toString()}});
  writeReadyFile();
  logEvent(Level::Info, "ready", {{"workers", config_.workers}});
  return std::nullopt;
}

void Daemon::writeReadyFile() const {
  if (config_.readyFile.empty()) return;
  nlohmann::json j;
  auto list = [](const std::vector<Endpoint>& eps) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : eps) a.push_back(e.toString());
    return a;
  };
  j["udp"] = list(bound_.udp);
  j["tcp"] = list(bound_.tcp);
  j["tls"] = list(bound_.tls);
  if (bound_.rfc5780)
    j["alternate"] = Endpoint(bound_.rfc5780->alternateIp, bound_.rfc5780->alternatePort).toString();
  if (bound_.http) j["http"] = bound_.http->toString();
  if (bound_.admin) j["admin"] = bound_.admin->toString();
  j["pid"] = static_cast<long>(uv_os_getpid());
  // Write then rename, so a reader never sees half a file.
  const std::string tmp = config_.readyFile + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << j.dump() << "\n";
    if (!f) {
      logEvent(Level::Error, "ready-file-failed", {{"path", config_.readyFile}});
      return;
    }
  }
  if (std::rename(tmp.c_str(), config_.readyFile.c_str()) != 0)
    logEvent(Level::Error, "ready-file-failed", {{"path", config_.readyFile}});
}

void Daemon::runUntilSignalled() {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_signal_t sigint, sigterm, sighup;
  uv_signal_init(&loop, &sigint);
  uv_signal_init(&loop, &sigterm);
  uv_signal_init(&loop, &sighup);
  sighup.data = this;
  uv_signal_start(&sighup, [](uv_signal_t* h, int) {
    logEvent(Level::Info, "reloading", {{"signal", "SIGHUP"}});
    static_cast<Daemon*>(h->data)->reload();
  }, SIGHUP);
  auto onSignal = [](uv_signal_t* h, int signum) {
    logEvent(Level::Info, "stopping", {{"signal", signum == SIGINT ? "SIGINT" : "SIGTERM"}});
    uv_stop(h->loop);
  };
  uv_signal_start(&sigint, onSignal, SIGINT);
  uv_signal_start(&sigterm, onSignal, SIGTERM);
  // main() blocked them until now (a signal during start-up waits here, pending, instead of killing).
  sigset_t stopSignals;
  sigemptyset(&stopSignals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stopSignals, s);
  pthread_sigmask(SIG_UNBLOCK, &stopSignals, nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  stop();
}

void Daemon::stop() {
  stopFleet();  // no more messages posted to the API thread
  if (admin_) admin_->stop();
  if (http_) http_->stop();
  // Each worker ends its allocations (relay::Server::endAll, metered as "shutdown") before its loop stops.
  for (auto& w : workers_) w->requestStop();
  for (auto& w : workers_) w->join();
  // Every worker has posted its last events (allocations ended at stop): write them all.
  if (ledger_) {
    ledger_->stop();
    const auto m = ledger_->metrics();
    logEvent(Level::Info, "ledger-closed",
             {{"flushes", m.flushes}, {"bytes_to_peer", m.booked.bytesToPeer}, {"bytes_to_client", m.booked.bytesToClient}});
  }
  if (kernel_ && !workers_.empty()) {
    const FastPathStats k = kernel_->stats();
    logEvent(Level::Info, "kernel-fast-path-stopped",
             {{"to_peer_packets", k.toPeerPackets}, {"to_peer_bytes", k.toPeerBytes},
              {"to_client_packets", k.toClientPackets}, {"to_client_bytes", k.toClientBytes},
              {"passed_to_user_space", k.passed}, {"over_allowance", k.overBudget}});
  }
  if (!workers_.empty()) logEvent(Level::Info, "stopped");
  workers_.clear();
  metering_.reset();
  ledger_.reset();
}

}  // namespace rdv::node
