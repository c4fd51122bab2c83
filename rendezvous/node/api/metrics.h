// Prometheus text exposition (format 0.0.4) of the node's counters, summed over the workers.
// Names follow Prometheus conventions: rendezvous_ prefix, snake_case, _total for counters.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/stats.h"
#include "rendezvous/node/ledger/ledger.h"
#include "rendezvous/node/io/stats.h"

namespace rdv::node {

// "allocationsCreated" -> "allocations_created".
std::string snakeCase(std::string_view camel);

// State owned by the HTTP API thread (signalling hub, registry), copied here by that thread a few
// times a second so the admin thread can read it without touching the owner's structures.
struct ApiGauges {
  std::atomic<uint64_t> signallingConnections{0};
  std::atomic<uint64_t> mailboxEnvelopes{0};
  std::atomic<uint64_t> mailboxBytes{0};
  std::atomic<uint64_t> registryRecords{0};
  std::atomic<uint64_t> pathReports{0};
  std::atomic<uint64_t> envelopesDelivered{0};
  std::atomic<uint64_t> envelopesStored{0};
  // What the abuse limits refused (issue 12): counted, as DESIGN principle 8 asks.
  std::atomic<uint64_t> envelopesRefused{0};
  std::atomic<uint64_t> envelopesEvicted{0};
  std::atomic<uint64_t> envelopesCongested{0};
  std::atomic<uint64_t> signallingProtocolCloses{0};
  std::atomic<uint64_t> iceServersRateLimited{0};
  std::atomic<uint64_t> iceServersReplays{0};
  std::atomic<uint64_t> registryRateLimited{0};
  std::atomic<uint64_t> registryReplays{0};
  // Topics and presence (docs/signalling.md): SignalApi::exportTopicGauges fills these.
  std::atomic<uint64_t> topics{0};
  std::atomic<uint64_t> topicHistoryBytes{0};
  std::atomic<uint64_t> topicPublished{0};
  std::atomic<uint64_t> topicDelivered{0};
  std::atomic<uint64_t> topicDropped{0};
  std::atomic<uint64_t> topicRefusedPublisherRate{0};
  std::atomic<uint64_t> topicRefusedTopicRate{0};
  std::atomic<uint64_t> topicRefusedNotMember{0};
  std::atomic<uint64_t> topicRefusedLimit{0};
  std::atomic<uint64_t> topicHistoryEvicted{0};
  std::atomic<uint64_t> presenceWatches{0};
  std::atomic<uint64_t> presenceEvents{0};
  std::atomic<uint64_t> presenceWatchRefused{0};
};

struct HttpServerStats;  // api/http_server.h
// The cost model's prices (docs/operator.md "Cost model"), exported so dashboards compute the cost rate.
struct CostPrices {
  double perGbToPeer = 0;
  double perGbToClient = 0;
  double perAllocationHour = 0;
  std::string currency;
};

struct MetricsSnapshot {
  std::vector<const NodeStats*> node;     // one per worker
  std::vector<const relay::Stats*> relay;  // one per worker
  std::optional<LedgerMetrics> ledger;     // the usage ledger (issue 7)
  const ApiGauges* api = nullptr;          // when the HTTP API runs
  const HttpServerStats* http = nullptr;   // the public HTTP API's connection limits, when it runs
  std::optional<CostPrices> prices;
  std::optional<bool> draining;  // the admin API's drain (issue 18), when the admin API runs
};
std::string renderMetrics(const MetricsSnapshot& s);

}  // namespace rdv::node
