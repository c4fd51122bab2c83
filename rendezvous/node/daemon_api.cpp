#include "rendezvous/node/daemon.h"

// The daemon's API side: the public HTTP/WebSocket API, the usage ledger and the admin API.

#include <openssl/rand.h>
#include <sys/resource.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <ctime>
#include <fstream>
#include <thread>

#include "rendezvous/base/constant_time.h"
#include "rendezvous/node/data_dir.h"
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

std::pair<size_t, size_t> httpConnectionCaps(const Config& c) {
  rlimit rl{};
  uint64_t fds = 1024;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) fds = rl.rlim_cur;
  // A quarter of the descriptors: the rest serve relay sockets, TURN-TCP/TLS, SQLite and the admin API.
  const size_t total = c.httpMaxConnections != 0 ? c.httpMaxConnections : std::clamp<uint64_t>(fds / 4, 64, 65536);
  const size_t perIp = c.httpMaxConnectionsPerIp != 0 ? c.httpMaxConnectionsPerIp : std::clamp<size_t>(total / 16, 8, 256);
  return {total, perIp};
}

std::optional<std::string> Daemon::startApi() {
  if (!config_.httpListen) return std::nullopt;
  HttpServerConfig hc;
  hc.listen = *config_.httpListen;
  std::tie(hc.maxConnections, hc.maxConnectionsPerIp) = httpConnectionCaps(config_);
  hc.requestTimeoutSeconds = config_.httpIdleTimeoutSeconds;
  hc.wsFirstMessageSeconds = config_.httpIdleTimeoutSeconds;
  hc.wsPingIntervalSeconds = config_.signalPingIntervalSeconds;
  logEvent(Level::Info, "http-limits", {{"max-connections", hc.maxConnections},
                                        {"max-connections-per-ip", hc.maxConnectionsPerIp}});
  hc.cors.origins = config_.httpCorsOrigins;
  hc.tlsCertFile = config_.httpCertFile;
  hc.tlsKeyFile = config_.httpKeyFile;
  http_ = std::make_unique<HttpServer>(hc);
  http_->route("GET", "/healthz", [](const HttpRequest&) { return jsonResponse(200, {{"status", "ok"}}); });
  auto registry = RegistryApi::open(config_);
  if (!registry) return registry.error();
  registryApi_ = std::move(*registry);
  if (auto err = startFleet()) return err;
  registryApi_->addRoutes(*http_);
  registryApi_->setBanCheck([admission = admission_](const std::string& id) {  // admin API bans (issue 18)
    return admission->banned(id, id, static_cast<int64_t>(std::time(nullptr)));
  });
  http_->every(std::chrono::seconds(1), [api = registryApi_.get()] { api->purgeExpired(); });
  auto signal = SignalApi::open(registryApi_->database(), signalHubConfig(config_, registryApi_->nodeKey().nodeId()),
                                ledger_.get(), fleetMailbox());
  if (!signal) return signal.error();
  signalApi_ = std::move(*signal);
  signalApi_->setNodeKey(registryApi_->nodeKey());
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  signalApi_->attach(*http_, config_.signalVerifyThreads.value_or(std::min(2u, cores)));
  signalApi_->setBanCheck([admission = admission_](const identity::NodeId& id) {  // admin API bans (issue 18)
    return admission->banned(id.hex(), id.hex(), static_cast<int64_t>(std::time(nullptr)));
  });
  signalApi_->setKnownCheck([api = registryApi_.get()](const identity::NodeId& id) { return api->isRegistered(id); });
  signalApi_->setNamespaceLookup(  // presence by namespace (docs/signalling.md, "Presence")
      [api = registryApi_.get()](const identity::NodeId& id) { return api->namespacesOf(id); },
      [api = registryApi_.get()](const std::string& ns) {
        return api->membersOf(ns, signalling::Presence::kMaxNamespaceMembers);
      });
  IceServersConfig ice;
  ice.authSecrets = config_.authSecrets;
  ice.nodeId = registryApi_->nodeKey().nodeId();
  ice.udp = bound_.udp;
  ice.tls = bound_.tls;
  ice.externalAddresses = config_.externalAddresses;
  ice.maxClockSkewSeconds = config_.apiClockSkewSeconds;
  ice.perIpPerMinute = config_.iceServersPerMinute;
  ice.perIpBurst = config_.iceServersBurst;
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
    set(apiGauges_->envelopesRefused, signalApi_->stats().refused);
    set(apiGauges_->envelopesEvicted, signalApi_->stats().evicted);
    set(apiGauges_->envelopesCongested, signalApi_->stats().congested);
    set(apiGauges_->signallingProtocolCloses, signalApi_->stats().protocolCloses);
    set(apiGauges_->registryRateLimited, registryApi_->rateLimited());
    set(apiGauges_->registryReplays, registryApi_->replaysRefused());
    signalApi_->exportTopicGauges(*apiGauges_);
    if (iceServers_) {
      set(apiGauges_->iceServersRateLimited, iceServers_->rateLimited());
      set(apiGauges_->iceServersReplays, iceServers_->replaysRefused());
    }
  });
  iceServers_ = std::make_unique<IceServersApi>(ice, [] { return static_cast<int64_t>(std::time(nullptr)); });
  http_->route("GET", "/v1/ice-servers", [api = iceServers_.get()](const HttpRequest& r) { return api->get(r); });
  attachFleet();
  if (auto err = http_->start()) return "http-listen: " + *err;
  bound_.http = http_->boundEndpoint();
  if (auto err = registryApi_->advertise({bound_.udp, bound_.tls, bound_.http, config_.externalAddresses, !hc.tlsCertFile.empty()}))
    return err;
  runFleet();
  return std::nullopt;
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
  ledger_->setRetentionDays(config_.ledgerRetentionDays);
  const auto mode = config_.ledgerClientAddress == "none"     ? ClientAddressMode::None
                    : config_.ledgerClientAddress == "prefix" ? ClientAddressMode::Prefix
                                                              : ClientAddressMode::Full;
  metering_ = std::make_shared<LedgerMetering>(*ledger_, mode);
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
    return constantTimeEqual(asBytes(r.authorization), asBytes(expected));
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
    if (http_) snap.http = &http_->stats();
    snap.draining = admission_->draining();
    snap.prices = CostPrices{config_.pricePerGbToPeer, config_.pricePerGbToClient, config_.pricePerAllocationHour,
                             config_.currency};
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", renderMetrics(snap) + fleetMetrics() + fastPathMetrics()};
  });
  CostModel prices{config_.pricePerGbToPeer, config_.pricePerGbToClient, config_.pricePerAllocationHour,
                   config_.currency};
  usageApi_ = std::make_unique<UsageApi>(databasePathOf(config_), prices,
                                         registryApi_ ? registryApi_->nodeKey().nodeId().hex() : std::string());
  admin_->route("GET", "/v1/usage", [this, authorized](const HttpRequest& r) {
    if (!authorized(r)) return jsonError(401, "unauthorized", "the admin API needs 'Authorization: Bearer <admin-token>'");
    if (auto scope = r.queryValue("scope"); scope && *scope != "node") return fleetUsage(r, *scope);
    return usageApi_->get(r);
  });
  if (adminApi_) adminApi_->addRoutes(*admin_, authorized);
  if (auto err = admin_->start()) return "admin-listen: " + *err;
  bound_.admin = admin_->boundEndpoint();
  const IpAddress& ip = config_.adminListen->ip();
  const bool loopback = ip.isV4() ? (ip.v4HostOrder() >> 24) == 127 : ip == *IpAddress::parse("::1");
  if (!loopback)
    logEvent(Level::Warn, "admin-not-loopback", {{"address", bound_.admin->toString()}});
  return std::nullopt;
}

}  // namespace rdv::node
