#include "rendezvous/node/daemon.h"

// The daemon's fleet side (docs/fleet.md): with `redis` set, the registry and the mailbox live in Redis,
// the hub routes envelopes to other nodes, and the node announces itself in the node directory.

#include <algorithm>
#include <ctime>
#include <fstream>

#include "rendezvous/fleet/balance.h"
#include "rendezvous/fleet/fleet.h"
#include "rendezvous/fleet/quota_sync.h"
#include "rendezvous/fleet/redis_mailbox_store.h"
#include "rendezvous/fleet/redis_registry.h"
#include "rendezvous/fleet/router.h"
#include "rendezvous/fleet/usage_stream.h"
#include "rendezvous/node/api/fleet_usage.h"
#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/node/api/signal_api.h"
#include "rendezvous/node/log.h"

namespace rdv::node {

namespace {

int64_t unixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The TURN addresses as clients reach them: the bound ones, with the external address of the family
// instead of the bound one (as /v1/ice-servers says); a wildcard bind without one tells a client nothing.
nlohmann::json Daemon::advertised(const std::vector<Endpoint>& bound) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& ep : bound) {
    IpAddress ip = ep.ip();
    for (const auto& e : config_.externalAddresses)
      if (e.family() == ip.family()) ip = e;
    if (std::all_of(ip.data(), ip.data() + ip.size(), [](uint8_t b) { return b == 0; })) continue;
    out.push_back(Endpoint(ip, ep.port()).toString());
  }
  return out;
}

std::optional<std::string> Daemon::startFleet() {
  if (config_.redisUrl.empty()) return std::nullopt;
  auto url = fleet::parseRedisUrl(config_.redisUrl);
  if (!url) return "configuration key 'redis': " + url.error();
  if (!config_.redisPasswordFile.empty()) {
    std::ifstream in(config_.redisPasswordFile);
    std::string line;
    if (!in || !std::getline(in, line))
      return "configuration key 'redis-password-file': cannot read '" + config_.redisPasswordFile + "'";
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    url->password = line;
  }
  fleet::FleetOptions options{*url, config_.fleet, registryApi_->nodeKey().nodeId().hex()};
  auto joined = fleet::Fleet::connect(options);
  if (!joined) return "redis: cannot join the fleet '" + config_.fleet + "' at " + url->redacted() + ": " + joined.error();
  fleet_ = std::move(*joined);
  registryApi_->useBackend(
      std::make_unique<fleet::RedisRegistry>(registryConfigOf(config_), fleet_->keys(), fleet_->apiClient()));
  adminRedis_ = fleet_->newClient();
  if (ledger_) {
    // Every ledger flush also goes to the fleet's usage stream (on the ledger thread, its own connection).
    auto publisher = std::make_shared<fleet::UsagePublisher>(*url, fleet_->keys(), options.nodeHex);
    ledger_->setFlushObserver([publisher](const storage::LedgerBatch& batch) { publisher->publish(batch); });
  }
  logEvent(Level::Info, "fleet-joined", {{"fleet", config_.fleet}, {"redis", url->redacted()}, {"node", options.nodeHex}});
  return std::nullopt;
}

std::unique_ptr<signalling::MailboxStore> Daemon::fleetMailbox() {
  if (!fleet_) return nullptr;
  return std::make_unique<fleet::RedisMailboxStore>(fleet_->keys(), fleet_->apiClient(), config_.signalMailboxPerRecipient);
}

void Daemon::attachFleet() {
  if (!fleet_) return;
  SignalApi* signal = signalApi_.get();
  fleetRouter_ = std::make_unique<fleet::FleetRouter>(
      fleet_->keys(), fleet_->options().nodeHex, fleet_->apiClient(),
      fleet::FleetRouter::Hooks{
          [signal](signalling::Envelope e, uint64_t ref) { return signal->deliverRemote(std::move(e), ref); },
          [signal](uint64_t ticket, bool written) { signal->forwarded(ticket, written); }});
  signal->setRouter(fleetRouter_.get());
  http_->every(std::chrono::seconds(1), [router = fleetRouter_.get()] { router->tick(std::chrono::steady_clock::now()); });
  // GET /v1/nodes: the live nodes of the fleet, each as it announced itself.
  http_->route("GET", "/v1/nodes", [this](const HttpRequest&) {
    auto nodes = fleet::listNodes(*fleet_->apiClient(), fleet_->keys(), unixMillisNow());
    if (!nodes) return jsonError(503, "fleet_unavailable", "the fleet's Redis is unreachable; retry later");
    return jsonResponse(200, *nodes);
  });
}

void Daemon::runFleet() {
  if (!fleet_) return;
  fleet::FleetHooks hooks;
  hooks.onMessage = [this, router = fleetRouter_.get()](std::string text) {
    http_->post([router, text = std::move(text)] { router->onMessage(text); });
  };
  // Load for the directory: allocations now and relayed bytes per second since the last announcement.
  hooks.announce = [this, lastBytes = uint64_t{0}, lastAt = std::chrono::steady_clock::now()]() mutable {
    uint64_t allocations = 0, bytes = 0;
    for (const auto& w : workers_) {
      allocations += w->relayStats().allocationsActive.get();
      bytes += w->relayStats().bytesClientToPeer.get() + w->relayStats().bytesPeerToClient.get();
    }
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - lastAt).count();
    const uint64_t bps = seconds > 0 && bytes >= lastBytes ? static_cast<uint64_t>((bytes - lastBytes) / seconds) : 0;
    lastBytes = bytes;
    lastAt = now;
    const relay::QuotaPolicy policy = quota_->policy();
    const bool full = fleet::fullAt(allocations, policy.maxAllocations);
    const bool busy = fleet::busyAt(bps, policy.bpsCapacity);
    admission_->setBusy(busy);  // over its byte capacity: new clients go to the fleet's alternate
    nlohmann::json j{{"fleet", config_.fleet},
                     {"load", {{"allocations", allocations}, {"bps", bps}, {"max_allocations", policy.maxAllocations},
                               {"bps_capacity", policy.bpsCapacity}}},
                     {"draining", admission_->draining()},
                     {"full", full || busy}};
    if (auto record = registryApi_->nodeRecord()) j["enr"] = record->toText();
    if (bound_.http) j["http"] = bound_.http->toString();
    nlohmann::json udp = nlohmann::json::array();
    for (const auto& ep : bound_.udp) udp.push_back(ep.toString());
    j["udp"] = udp;
    j["turn"] = advertised(bound_.udp);
    j["turns"] = advertised(bound_.tls);
    return j;
  };
  // Balancing (docs/fleet.md): the least loaded other node is where a full, busy or draining node sends
  // new TURN clients (300 ALTERNATE-SERVER); none: the alternate-server key, then 508.
  hooks.directory = [this, self = fleet_->options().nodeHex](const nlohmann::json& nodes) {
    auto choice = fleet::leastLoadedOther(nodes, self);
    if (!choice) {
      admission_->setFleetAlternate(nullptr);
      return;
    }
    admission_->setFleetAlternate(std::make_shared<const relay::FleetAlternate>(
        relay::FleetAlternate{choice->nodeId, std::move(choice->turn), std::move(choice->turns)}));
  };
  hooks.log = [](bool warn, const char* event, nlohmann::json fields) {
    logEvent(warn ? Level::Warn : Level::Info, event, fields);
  };
  fleet_->start(std::move(hooks));
  startFleetQuotas();
}

// Fleet-wide quotas (docs/fleet.md, "Quotas"): the QuotaBook's per-identity usage goes to Redis every
// tick and the other nodes' comes back into it, on a thread of its own; the workers only read it.
void Daemon::startFleetQuotas() {
  std::shared_ptr<relay::QuotaBook> book = quota_;
  fleet::QuotaSync::Hooks hooks;
  hooks.local = [book](int64_t unixNow) {
    std::vector<fleet::QuotaLocal> out;
    for (auto& u : book->localUsage(unixNow)) out.push_back({std::move(u.key), u.allocations, u.bytesToday});
    return out;
  };
  hooks.apply = [this, book](const std::vector<fleet::QuotaOthers>& others, int64_t unixNow) {
    std::vector<relay::FleetQuotaUsage> usage;
    usage.reserve(others.size());
    for (const auto& o : others) usage.push_back({o.key, o.allocations, o.bytesToday});
    if (book->setFleetUsage(usage, unixNow)) refreshKernelAllowances();
  };
  hooks.localOnly = [book] { book->clearFleetUsage(); };
  hooks.log = [](bool warn, const char* event, nlohmann::json fields) {
    logEvent(warn ? Level::Warn : Level::Info, event, fields);
  };
  const auto& o = fleet_->options();
  quotaSync_ = std::make_unique<fleet::QuotaSync>(o.url, o.timeout, fleet_->keys(), o.nodeHex, std::move(hooks));
  quotaSync_->start();
}

void Daemon::stopFleet() {
  if (quotaSync_) quotaSync_->stop();
  if (fleet_) fleet_->stop();
}

HttpResponse Daemon::fleetUsage(const HttpRequest& request, const std::string& scope) {
  if (scope != "fleet") return jsonError(400, "bad-request", "'scope' must be node or fleet");
  if (!fleet_) return jsonError(400, "bad-request", "scope=fleet needs a fleet: this node has no 'redis' key");
  const auto now = static_cast<int64_t>(std::time(nullptr));
  auto query = parseUsageQuery(request, now);
  if (!query) return jsonError(400, "bad-request", query.error());
  auto entries = fleet::readUsage(*adminRedis_, fleet_->keys(), storage::utcDay(query->since), storage::utcDay(query->until));
  if (!entries) return jsonError(503, "fleet_unavailable", "the fleet's Redis is unreachable; retry later");
  const CostModel prices{config_.pricePerGbToPeer, config_.pricePerGbToClient, config_.pricePerAllocationHour,
                         config_.currency};
  return jsonResponse(200, fleetUsageDocument(*query, now, prices, config_.fleet, *entries));
}

std::string Daemon::fleetMetrics() const {
  if (!fleet_) return {};
  const auto alternate = admission_->fleetAlternate();
  return fleet_->metricsText() + (quotaSync_ ? quotaSync_->metricsText() : std::string()) +
         "# HELP rendezvous_fleet_alternate_known 1 when the directory names a node to send new TURN clients to "
         "(300) when this one is full, busy or draining\n# TYPE rendezvous_fleet_alternate_known gauge\n"
         "rendezvous_fleet_alternate_known " + (alternate ? "1" : "0") + "\n" +
         "# HELP rendezvous_fleet_busy 1 while relayed bytes/s are at 90% of bps-capacity or more (new clients go "
         "to the alternate)\n# TYPE rendezvous_fleet_busy gauge\nrendezvous_fleet_busy " +
         (admission_->busy() ? "1" : "0") + "\n";
}

}  // namespace rdv::node
