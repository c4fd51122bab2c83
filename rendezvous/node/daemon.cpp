#include "rendezvous/node/daemon.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <uv.h>

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "rendezvous/node/data_dir.h"
#include "rendezvous/node/ice_servers.h"
#include "rendezvous/node/ledger.h"
#include "rendezvous/node/ledger_metering.h"
#include "rendezvous/node/usage_api.h"
#include "rendezvous/node/log.h"
#include "rendezvous/node/signal_api.h"
#include "rendezvous/node/metrics.h"
#include "rendezvous/node/sockets.h"

namespace rdv::node {

Daemon::Daemon(Config config)
    : config_(std::move(config)),
      quota_(std::make_shared<relay::QuotaBook>(config_.quota)),
      liveRelays_(std::make_shared<relay::LiveRelayPorts>()),
      connectionsPerSource_(std::make_shared<ConnectionsPerSource>(config_.tcpMaxConnectionsPerIp)) {
  if (config_.maxConnectionsPerWorker == 0) config_.maxConnectionsPerWorker = defaultMaxConnectionsPerWorker(config_.workers);
}

void Daemon::setReloader(nlohmann::json current, ConfigLoader loader) {
  currentJson_ = std::move(current);
  loader_ = std::move(loader);
}

void Daemon::reload() {
  if (!loader_) {
    logEvent(Level::Warn, "config-reload-failed", {{"reason", "no configuration loader"}});
    return;
  }
  auto loaded = loader_();
  if (!loaded) {
    logEvent(Level::Error, "config-reload-failed", {{"reason", loaded.error()}, {"kept", "the running configuration"}});
    return;
  }
  auto& [json, config] = *loaded;
  std::vector<std::string> restart;
  nlohmann::json keys = currentJson_;
  mergeConfig(keys, json);
  for (const auto& [key, value] : keys.items()) {
    const bool changed = !json.contains(key) || !currentJson_.contains(key) || json[key] != currentJson_[key];
    if (!changed) continue;
    if (isReloadableKey(key)) {
      if (json.contains(key)) currentJson_[key] = json[key];
      else currentJson_.erase(key);
    } else {
      restart.push_back(key);
    }
  }
  quota_->apply(config.quota);
  config_.quota = config.quota;
  logEvent(Level::Info, "config-reloaded",
           {{"quota_classes", config.quota.classes.size()},
            {"quota_members", config.quota.members.size()},
            {"bps_capacity", config.quota.bpsCapacity},
            {"max_allocations", config.quota.maxAllocations}});
  if (!restart.empty()) logEvent(Level::Warn, "config-reload-needs-restart", {{"keys", restart}});
}

Daemon::~Daemon() { stop(); }

std::optional<std::string> Daemon::bindSockets(std::vector<WorkerSockets>& perWorker) {
  const unsigned n = config_.workers;
  for (const auto& ep : config_.listen) {
    auto set = bindForWorkers(ep, {SocketType::Udp, SocketType::Tcp}, n);
    if (!set) return "listen " + ep.toString() + " (STUN/TURN over UDP and TCP): " + set.error();
    for (unsigned w = 0; w < n; ++w) {
      perWorker[w].udp.push_back({set->fds[w][0], set->endpoint});
      perWorker[w].stream.push_back({set->fds[w][1], set->endpoint, false});
    }
    bound_.udp.push_back(set->endpoint);
    bound_.tcp.push_back(set->endpoint);
  }
  for (const auto& ep : config_.tlsListen) {
    auto set = bindForWorkers(ep, {SocketType::Tcp}, n);
    if (!set) return "tls-listen " + ep.toString() + " (TURN over TLS): " + set.error();
    for (unsigned w = 0; w < n; ++w) perWorker[w].stream.push_back({set->fds[w][0], set->endpoint, true});
    bound_.tls.push_back(set->endpoint);
  }
  return bindAlternates(perWorker);
}

// RFC 5780 §6: the node answers on the four combinations of two IPs and two ports. The first listen
// address is (primary IP, primary port); this binds the other three, UDP only.
std::optional<std::string> Daemon::bindAlternates(std::vector<WorkerSockets>& perWorker) {
  if (!config_.altIp || bound_.udp.empty()) return std::nullopt;
  const Endpoint primary = bound_.udp.front();
  const unsigned n = config_.workers;
  std::string lastError;
  for (int attempt = 0; attempt < 20; ++attempt) {
    uint16_t altPort = config_.altPort;
    if (altPort == 0 && config_.listen.front().port() != 0) altPort = static_cast<uint16_t>(primary.port() + 1);
    std::vector<BoundSet> sets;
    auto bindOne = [&](const Endpoint& ep) -> bool {
      auto set = bindForWorkers(ep, {SocketType::Udp}, n);
      if (!set) {
        lastError = set.error();
        return false;
      }
      sets.push_back(std::move(*set));
      return true;
    };
    bool ok = bindOne(Endpoint(primary.ip(), altPort));
    if (ok) altPort = sets.back().endpoint.port();
    ok = ok && bindOne(Endpoint(*config_.altIp, primary.port())) && bindOne(Endpoint(*config_.altIp, altPort));
    if (ok) {
      for (auto& set : sets)
        for (unsigned w = 0; w < n; ++w) perWorker[w].udp.push_back({set.fds[w][0], set.endpoint});
      bound_.rfc5780 = stun::AlternateAddresses{primary.ip(), *config_.altIp, primary.port(), altPort};
      return std::nullopt;
    }
    for (auto& set : sets)
      for (auto& row : set.fds)
        for (int fd : row) closeSocket(fd);
    if (config_.altPort != 0 || config_.listen.front().port() != 0) break;  // fixed ports: no retry
  }
  return "alt-address: " + lastError;
}

std::optional<std::string> Daemon::start() {
  // One daemon per data directory: lock it before anything opens its files.
  if (auto made = ensureDataDir(dataDirOf(config_)); !made) return made.error();
  auto lock = lockDataDir(dataDirOf(config_));
  if (!lock) return lock.error();
  dataDirLock_ = std::move(*lock);
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
  const auto relay = relayConfig();
  if (auto err = startLedger()) {
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
    workers_.push_back(std::make_unique<Worker>(w, config_, binding, std::move(workerRelay), tls,
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

std::shared_ptr<const relay::Config> Daemon::relayConfig() const {
  auto rc = std::make_shared<relay::Config>();
  rc->realm = config_.realm;
  rc->software = config_.software;
  rc->users = config_.users;
  rc->authSecrets = config_.authSecrets;
  rc->nonceKey.resize(32);
  if (RAND_bytes(rc->nonceKey.data(), static_cast<int>(rc->nonceKey.size())) != 1) std::abort();  // no CSPRNG: no node
  rc->maxLifetime = relay::Seconds(config_.maxLifetimeSeconds);
  rc->relayPorts = config_.relayPorts;
  rc->maxAllocationsPerUser = config_.allocationsPerUser;
  rc->quota = quota_;  // node-wide: one book for every worker
  if (config_.workers > 1) rc->sharedReservations = std::make_shared<relay::ReservationBook>();

  // Relay addresses: as configured, else the first specific listen address of each family.
  auto relayIp = [&](Family f) -> std::optional<IpAddress> {
    for (const auto& ip : config_.relayAddresses)
      if (ip.family() == f) return ip;
    for (const auto& ep : bound_.udp) {
      const bool wildcard = ep.ip() == *IpAddress::parse(f == Family::V4 ? "0.0.0.0" : "::");
      if (ep.family() == f && !wildcard) return ep.ip();
    }
    return std::nullopt;
  };
  // The node's own addresses (DESIGN principle 6): every interface address of the host, whatever the
  // listen addresses, plus the configured ones (relay, external, listen, alternate).
  std::vector<IpAddress> own = interfaceAddresses();
  std::vector<IpAddress> relayReachable;  // where relay sockets are reachable: the policy's relay-to-relay rule
  for (Family f : {Family::V4, Family::V6}) {
    auto ip = relayIp(f);
    if (!ip) continue;
    relay::RelayAddress ra{*ip, std::nullopt};
    for (const auto& ext : config_.externalAddresses)
      if (ext.family() == f) ra.external = ext;
    (f == Family::V4 ? rc->relayV4 : rc->relayV6) = ra;
    own.push_back(*ip);
    if (ra.external) own.push_back(*ra.external);
    const bool wildcard = *ip == *IpAddress::parse(f == Family::V4 ? "0.0.0.0" : "::");
    if (!wildcard) relayReachable.push_back(*ip);
    if (ra.external) relayReachable.push_back(*ra.external);
  }
  for (const auto& ep : bound_.udp) own.push_back(ep.ip());
  for (const auto& ep : bound_.tls) own.push_back(ep.ip());
  if (bound_.rfc5780) own.push_back(bound_.rfc5780->alternateIp);
  for (const auto& ip : config_.externalAddresses) own.push_back(ip);
  // A wildcard relay address: its sockets are reachable at every own address of that family.
  for (const auto& ra : {rc->relayV4, rc->relayV6}) {
    if (!ra || !(ra->local == *IpAddress::parse(ra->local.isV4() ? "0.0.0.0" : "::"))) continue;
    for (const auto& ip : own)
      if (ip.family() == ra->local.family()) relayReachable.push_back(ip);
  }
  rc->policy = relay::PeerPolicy(config_.allowPeers, config_.denyPeers, own, relayReachable);
  rc->liveRelays = liveRelays_;  // node-wide: one set for every worker

  if (!rc->relayV4 && !rc->relayV6)
    logEvent(Level::Warn, "turn-no-relay-address",
             {{"reason", "listening on a wildcard address only: set relay-address (and external-address)"}});
  if (rc->users.empty() && rc->authSecrets.empty())
    logEvent(Level::Info, "turn-no-credentials", {{"reason", "no user or auth-secret configured: TURN requests get 401"}});
  return rc;
}

std::optional<std::string> Daemon::startApi() {
  if (!config_.httpListen) return std::nullopt;
  HttpServerConfig hc;
  hc.listen = *config_.httpListen;
  http_ = std::make_unique<HttpServer>(hc);
  http_->route("GET", "/healthz", [](const HttpRequest&) { return jsonResponse(200, {{"status", "ok"}}); });
  auto registry = RegistryApi::open(config_);
  if (!registry) return registry.error();
  registryApi_ = std::move(*registry);
  registryApi_->addRoutes(*http_);
  http_->every(std::chrono::seconds(1), [api = registryApi_.get()] { api->purgeExpired(); });
  auto signal = SignalApi::open(registryApi_->database(), signalHubConfig(config_, registryApi_->nodeKey().nodeId()),
                                ledger_.get());
  if (!signal) return signal.error();
  signalApi_ = std::move(*signal);
  signalApi_->attach(*http_);
  IceServersConfig ice;
  ice.authSecrets = config_.authSecrets;
  ice.nodeId = registryApi_->nodeKey().nodeId();
  ice.udp = bound_.udp;
  ice.tls = bound_.tls;
  ice.externalAddresses = config_.externalAddresses;
  apiGauges_ = std::make_unique<ApiGauges>();
  http_->every(std::chrono::milliseconds(250), [this] {
    auto set = [](std::atomic<uint64_t>& a, uint64_t v) { a.store(v, std::memory_order_relaxed); };
    set(apiGauges_->signallingConnections, signalApi_->connections());
    set(apiGauges_->mailboxEnvelopes, signalApi_->mailboxEnvelopes());
    set(apiGauges_->mailboxBytes, signalApi_->mailboxBytes());
    set(apiGauges_->pathReports, signalApi_->stats().pathReports);
    set(apiGauges_->envelopesDelivered, signalApi_->stats().delivered);
    set(apiGauges_->envelopesStored, signalApi_->stats().stored);
    set(apiGauges_->registryRecords, registryApi_->records());
  });
  iceServers_ = std::make_unique<IceServersApi>(ice, [] { return static_cast<int64_t>(std::time(nullptr)); });
  http_->route("GET", "/v1/ice-servers", [api = iceServers_.get()](const HttpRequest& r) { return api->get(r); });
  if (auto err = http_->start()) return "http-listen: " + *err;
  bound_.http = http_->boundEndpoint();
  return registryApi_->advertise({bound_.udp, bound_.tls, bound_.http, config_.externalAddresses});
}

// The usage ledger (docs/ledger.md): its own connection to the node's database and its own thread.
std::optional<std::string> Daemon::startLedger() {
  if (auto made = ensureDataDir(dataDirOf(config_)); !made) return made.error();
  auto ledger = Ledger::open(databasePathOf(config_), std::chrono::milliseconds(config_.ledgerFlushIntervalMs));
  if (!ledger) return ledger.error();
  ledger_ = std::move(*ledger);
  // Daily budgets survive a restart: each identity starts today with what the ledger booked today.
  const auto unixNow = static_cast<int64_t>(std::time(nullptr));
  for (const auto& [identity, bytes] : ledger_->bytesToday()) quota_->seedDailyUsage(identity, bytes, unixNow);
  if (!ledger_->bytesToday().empty())
    logEvent(Level::Info, "quota-seeded-from-ledger", {{"identities", ledger_->bytesToday().size()}});
  metering_ = std::make_shared<LedgerMetering>(*ledger_);
  return std::nullopt;
}

// The admin API: its own listener (loopback by default), every request needs the bearer token.
std::optional<std::string> Daemon::startAdmin() {
  if (!config_.adminListen) return std::nullopt;
  HttpServerConfig hc;
  hc.listen = *config_.adminListen;
  hc.name = "admin";
  admin_ = std::make_unique<HttpServer>(hc);
  const std::string expected = "Bearer " + config_.adminToken;
  auto authorized = [expected](const HttpRequest& r) {
    return r.authorization.size() == expected.size() &&
           CRYPTO_memcmp(r.authorization.data(), expected.data(), expected.size()) == 0;
  };
  admin_->route("GET", "/metrics", [this, authorized](const HttpRequest& r) {
    if (!authorized(r)) return jsonError(401, "unauthorized", "the admin API needs 'Authorization: Bearer <admin-token>'");
    MetricsSnapshot snap;
    for (const auto& w : workers_) {
      snap.node.push_back(&w->stats());
      snap.relay.push_back(&w->relayStats());
    }
    if (ledger_) snap.ledger = ledger_->metrics();
    snap.api = apiGauges_.get();
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", renderMetrics(snap)};
  });
  CostModel prices{config_.pricePerGbToPeer, config_.pricePerGbToClient, config_.pricePerAllocationHour,
                   config_.currency};
  usageApi_ = std::make_unique<UsageApi>(databasePathOf(config_), prices,
                                         registryApi_ ? registryApi_->nodeKey().nodeId().hex() : std::string());
  admin_->route("GET", "/v1/usage", [this, authorized](const HttpRequest& r) {
    if (!authorized(r)) return jsonError(401, "unauthorized", "the admin API needs 'Authorization: Bearer <admin-token>'");
    return usageApi_->get(r);
  });
  if (auto err = admin_->start()) return "admin-listen: " + *err;
  bound_.admin = admin_->boundEndpoint();
  const IpAddress& ip = config_.adminListen->ip();
  const bool loopback = ip.isV4() ? (ip.v4HostOrder() >> 24) == 127 : ip == *IpAddress::parse("::1");
  if (!loopback)
    logEvent(Level::Warn, "admin-not-loopback", {{"address", bound_.admin->toString()}});
  return std::nullopt;
}

void Daemon::stop() {
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
  if (!workers_.empty()) logEvent(Level::Info, "stopped");
  workers_.clear();
  metering_.reset();
  ledger_.reset();
}

}  // namespace rdv::node
