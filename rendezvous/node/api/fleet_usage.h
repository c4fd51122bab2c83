// GET /v1/usage?scope=fleet on the admin listener (docs/fleet.md, "Usage"): the fleet's usage stream summed
// over the window, in the /v1/usage document's shape (docs/operator.md "Usage API": totals, rows by identity,
// day or class, daily, top_identities), so rdv report --scope fleet renders it like a node's. Fields a
// stream of day totals cannot give (hourly, end_reasons, sessions, projection) are left out; "scope" is
// "fleet" and "nodes" lists the nodes that booked usage in the window.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/fleet/usage_stream.h"
#include "rendezvous/node/api/usage_api.h"

namespace rdv::node {

nlohmann::json fleetUsageDocument(const UsageQuery& query, int64_t nowUnix, const CostModel& prices,
                                  const std::string& fleet, const std::vector<fleet::UsageEntry>& entries);

}  // namespace rdv::node
