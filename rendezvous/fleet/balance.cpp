#include "rendezvous/fleet/balance.h"

#include <algorithm>

namespace rdv::fleet {

namespace {

uint64_t number(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer()) return 0;
  return it->is_number_unsigned() ? it->get<uint64_t>() : static_cast<uint64_t>(std::max<int64_t>(it->get<int64_t>(), 0));
}

bool flag(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::vector<Endpoint> endpoints(const nlohmann::json& entry, const char* key) {
  std::vector<Endpoint> out;
  const auto it = entry.find(key);
  if (it == entry.end() || !it->is_array()) return out;
  for (const auto& e : *it)
    if (e.is_string())
      if (auto ep = Endpoint::parse(e.get<std::string>())) out.push_back(*ep);
  return out;
}

}  // namespace

bool fullAt(uint64_t allocations, uint64_t maxAllocations) { return maxAllocations != 0 && allocations >= maxAllocations; }

bool busyAt(uint64_t bps, uint64_t bpsCapacity) {
  return bpsCapacity != 0 && static_cast<double>(bps) >= kBusyShare * static_cast<double>(bpsCapacity);
}

double loadOf(const nlohmann::json& entry) {
  const auto loadIt = entry.find("load");
  if (loadIt == entry.end() || !loadIt->is_object()) return 0;
  const nlohmann::json& load = *loadIt;
  double share = 0;
  if (const uint64_t max = number(load, "max_allocations"); max != 0)
    share = std::max(share, static_cast<double>(number(load, "allocations")) / static_cast<double>(max));
  if (const uint64_t cap = number(load, "bps_capacity"); cap != 0)
    share = std::max(share, static_cast<double>(number(load, "bps")) / static_cast<double>(cap));
  return share;
}

std::optional<NodeChoice> leastLoadedOther(const nlohmann::json& directory, std::string_view selfHex) {
  std::optional<NodeChoice> best;
  const auto nodes = directory.find("nodes");
  if (nodes == directory.end() || !nodes->is_array()) return best;
  for (const auto& n : *nodes) {
    if (!n.is_object() || !n.contains("node_id") || !n["node_id"].is_string()) continue;
    const std::string id = n["node_id"].get<std::string>();
    if (id == selfHex) continue;
    if (flag(n, "draining") || flag(n, "full")) continue;
    NodeChoice c{id, endpoints(n, "turn"), endpoints(n, "turns"), loadOf(n)};
    if (c.turn.empty()) continue;
    if (!best || c.load < best->load || (c.load == best->load && c.nodeId < best->nodeId)) best = std::move(c);
  }
  return best;
}

}  // namespace rdv::fleet
