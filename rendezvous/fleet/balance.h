// Balancing (docs/fleet.md, "Balancing"): from the node directory, the node a full, busy or draining
// node sends its new TURN clients to (300 ALTERNATE-SERVER): the least loaded live node other than
// itself that is neither draining nor full. Pure: the directory's JSON in, the choice out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/base/address.h"

namespace rdv::fleet {

// A node is busy (sends new clients away) from this share of its bps-capacity.
inline constexpr double kBusyShare = 0.9;

struct NodeChoice {
  std::string nodeId;
  std::vector<Endpoint> turn;   // its TURN UDP/TCP addresses as clients reach them
  std::vector<Endpoint> turns;  // its TURN-over-TLS addresses
  double load = 0;              // the larger of allocations / max_allocations and bps / bps_capacity
};

// The load of a directory entry (0 when it states no capacity).
double loadOf(const nlohmann::json& entry);
// Whether a node with this usage should send new clients away: allocations at max, or bps at kBusyShare
// of the capacity (0 capacities: never).
bool fullAt(uint64_t allocations, uint64_t maxAllocations);
bool busyAt(uint64_t bps, uint64_t bpsCapacity);

std::optional<NodeChoice> leastLoadedOther(const nlohmann::json& directory, std::string_view selfHex);

}  // namespace rdv::fleet
