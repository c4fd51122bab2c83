// Prometheus text exposition (format 0.0.4) of the node's counters, summed over the workers.
// Names follow Prometheus conventions: rendezvous_ prefix, snake_case, _total for counters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "relay/stats.h"
#include "rendezvous/node/stats.h"

namespace rdv::node {

// "allocationsCreated" -> "allocations_created".
std::string snakeCase(std::string_view camel);

struct MetricsSnapshot {
  std::vector<const NodeStats*> node;     // one per worker
  std::vector<const relay::Stats*> relay;  // one per worker
};
std::string renderMetrics(const MetricsSnapshot& s);

}  // namespace rdv::node
