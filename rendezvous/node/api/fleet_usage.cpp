#include "rendezvous/node/api/fleet_usage.h"

#include <algorithm>
#include <map>
#include <set>

#include "rendezvous/storage/ledger_book.h"

namespace rdv::node {

nlohmann::json fleetUsageDocument(const UsageQuery& q, int64_t nowUnix, const CostModel& prices,
                                  const std::string& fleet, const std::vector<fleet::UsageEntry>& entries) {
  UsageTotals totals;
  std::map<std::string, UsageTotals> byIdentity, byDay, byClass;
  std::map<std::string, std::string> classOf;  // identity -> its latest class in the window
  std::map<std::string, std::set<std::string>> identitiesByDay, identitiesByClass;
  std::set<std::string> nodes;
  for (const auto& e : entries) {
    totals += e.totals;
    byIdentity[e.identity] += e.totals;
    byDay[e.day] += e.totals;
    byClass[e.quotaClass] += e.totals;
    classOf[e.identity] = e.quotaClass;
    identitiesByDay[e.day].insert(e.identity);
    identitiesByClass[e.quotaClass].insert(e.identity);
    nodes.insert(e.node);
  }
  auto costOf = [&](const UsageTotals& s) { return prices.cost(s.bytesToPeer, s.bytesToClient, s.allocationSeconds); };
  using Keyed = std::pair<std::string, const UsageTotals*>;
  auto ordered = [&](const std::map<std::string, UsageTotals>& groups, bool byCost) {
    std::vector<Keyed> out;
    for (const auto& [k, s] : groups) out.emplace_back(k, &s);
    if (byCost)
      std::stable_sort(out.begin(), out.end(), [&](const Keyed& a, const Keyed& b) {
        if (costOf(*a.second) != costOf(*b.second)) return costOf(*a.second) > costOf(*b.second);
        return a.second->bytes() > b.second->bytes();
      });
    return out;
  };
  const auto& groups = q.by == "day" ? byDay : q.by == "class" ? byClass : byIdentity;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [key, sums] : ordered(groups, q.by != "day")) {
    nlohmann::json row = {{"key", key}};
    row.update(sumsJson(*sums, prices));
    if (q.by == "identity") row["class"] = classOf[key];
    if (q.by == "day") row["identities"] = identitiesByDay[key].size();
    if (q.by == "class") row["identities"] = identitiesByClass[key].size();
    rows.push_back(std::move(row));
  }
  nlohmann::json daily = nlohmann::json::array();
  for (const auto& [day, s] : byDay)
    daily.push_back({{"day", day}, {"bytes_to_peer", s.bytesToPeer}, {"bytes_to_client", s.bytesToClient},
                     {"allocations", s.allocations}, {"cost", roundMoney(costOf(s))}});
  nlohmann::json top = nlohmann::json::array();
  for (const auto& [identity, s] : ordered(byIdentity, true)) {
    if (top.size() == 10) break;
    top.push_back({{"identity", identity}, {"class", classOf[identity]}, {"bytes", s->bytes()},
                   {"cost", roundMoney(costOf(*s))}});
  }
  return nlohmann::json{
      {"node", "fleet:" + fleet},
      {"scope", "fleet"},
      {"nodes", nodes},
      {"generated", nowUnix},
      {"since", storage::utcDay(q.since)},
      {"until", storage::utcDay(q.until)},
      {"by", q.by},
      {"currency", prices.currency},
      {"prices",
       {{"per_gb_to_peer", prices.perGbToPeer},
        {"per_gb_to_client", prices.perGbToClient},
        {"per_allocation_hour", prices.perAllocationHour}}},
      {"totals", sumsJson(totals, prices)},
      {"rows", std::move(rows)},
      {"daily", std::move(daily)},
      {"top_identities", std::move(top)},
  };
}

}  // namespace rdv::node
