#include "rendezvous/node/api/usage_api.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <vector>

#include "rendezvous/storage/ledger_book.h"
#include "rendezvous/storage/usage_reads.h"

namespace rdv::node {

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;
constexpr int64_t kMaxWindowDays = 3660;

using Sums = UsageTotals;

}  // namespace

double roundMoney(double v) { return std::round(v * 1e6) / 1e6; }

nlohmann::json sumsJson(const UsageTotals& s, const CostModel& prices) {
  return {{"allocations", s.allocations},
          {"bytes_to_peer", s.bytesToPeer},
          {"bytes_to_client", s.bytesToClient},
          {"packets_to_peer", s.packetsToPeer},
          {"packets_to_client", s.packetsToClient},
          {"allocation_seconds", s.allocationSeconds},
          {"cost", roundMoney(prices.cost(s.bytesToPeer, s.bytesToClient, s.allocationSeconds))}};
}

Result<UsageQuery, std::string> parseUsageQuery(const HttpRequest& request, int64_t nowUnix) {
  UsageQuery q;
  const int64_t today = storage::floorTo(nowUnix, kDay);
  q.until = today;
  if (auto text = request.queryValue("until")) {
    auto day = storage::parseUtcDay(*text);
    if (!day) return unexpected("'until' must be a date YYYY-MM-DD (UTC)");
    q.until = *day;
  }
  q.since = q.until - 29 * kDay;
  if (auto text = request.queryValue("since")) {
    auto day = storage::parseUtcDay(*text);
    if (!day) return unexpected("'since' must be a date YYYY-MM-DD (UTC)");
    q.since = *day;
  }
  if (q.since > q.until) return unexpected(std::string("'since' must not be after 'until'"));
  if ((q.until - q.since) / kDay >= kMaxWindowDays)
    return unexpected("'since' to 'until' spans more than " + std::to_string(kMaxWindowDays) + " days");
  if (auto by = request.queryValue("by")) {
    if (*by != "identity" && *by != "day" && *by != "class")
      return unexpected(std::string("'by' must be identity, day or class"));
    q.by = *by;
  }
  return q;
}

UsageApi::UsageApi(std::string dbPath, CostModel prices, std::string nodeId, Clock clock)
    : dbPath_(std::move(dbPath)), prices_(std::move(prices)), nodeId_(std::move(nodeId)), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
}

HttpResponse UsageApi::get(const HttpRequest& request) {
  auto query = parseUsageQuery(request, clock_());
  if (!query) return jsonError(400, "bad-request", query.error());
  auto doc = report(*query);
  if (!doc) return jsonError(500, "storage", doc.error());
  return jsonResponse(200, *doc);
}

namespace {

// The window summed for the document: totals, groups and who was in which class.
struct Aggregate {
  Sums totals;
  std::map<std::string, Sums> byDay, byIdentity, byClass;
  std::map<std::string, std::set<std::string>> identitiesByDay, identitiesByClass;
  std::map<std::string, std::pair<std::string, std::string>> classOfIdentity;  // identity -> (day, class): latest
};

Aggregate aggregate(const std::vector<storage::UsageDayRow>& days) {
  Aggregate g;
  for (const auto& r : days) {
    g.totals += r.totals;
    g.byDay[r.day] += r.totals;
    g.byIdentity[r.identity] += r.totals;
    g.byClass[r.quotaClass] += r.totals;
    g.identitiesByDay[r.day].insert(r.identity);
    g.identitiesByClass[r.quotaClass].insert(r.identity);
    auto& latest = g.classOfIdentity[r.identity];
    if (r.day >= latest.first) latest = {r.day, r.quotaClass};
  }
  return g;
}

struct Keyed {
  std::string key;
  const Sums* sums;
};

// The /v1/usage document (docs/operator.md "Usage API").
nlohmann::json render(const UsageQuery& q, int64_t now, const CostModel& prices, const std::string& nodeId, Aggregate g,
                      const storage::UsageWindow& w) {
  auto costOf = [&](const Sums& s) { return prices.cost(s.bytesToPeer, s.bytesToClient, s.allocationSeconds); };
  std::vector<Keyed> ordered;
  const auto& groups = q.by == "day" ? g.byDay : q.by == "class" ? g.byClass : g.byIdentity;
  for (const auto& [key, sums] : groups) ordered.push_back({key, &sums});
  if (q.by != "day") {
    std::stable_sort(ordered.begin(), ordered.end(), [&](const Keyed& a, const Keyed& b) {
      const double ca = costOf(*a.sums), cb = costOf(*b.sums);
      if (ca != cb) return ca > cb;
      const uint64_t ba = a.sums->bytesToPeer + a.sums->bytesToClient, bb = b.sums->bytesToPeer + b.sums->bytesToClient;
      if (ba != bb) return ba > bb;
      return a.key < b.key;
    });
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& k : ordered) {
    nlohmann::json row = {{"key", k.key}};
    row.update(sumsJson(*k.sums, prices));
    if (q.by == "identity") row["class"] = g.classOfIdentity[k.key].second;
    if (q.by == "day") row["identities"] = g.identitiesByDay[k.key].size();
    if (q.by == "class") row["identities"] = g.identitiesByClass[k.key].size();
    rows.push_back(std::move(row));
  }

  nlohmann::json daily = nlohmann::json::array();
  for (const auto& [day, s] : g.byDay) {
    if (s.empty()) continue;
    daily.push_back({{"day", day},
                     {"bytes_to_peer", s.bytesToPeer},
                     {"bytes_to_client", s.bytesToClient},
                     {"allocations", s.allocations},
                     {"cost", roundMoney(costOf(s))}});
  }

  std::vector<Keyed> top;
  for (const auto& [identity, sums] : g.byIdentity) top.push_back({identity, &sums});
  std::stable_sort(top.begin(), top.end(), [&](const Keyed& a, const Keyed& b) {
    const double ca = costOf(*a.sums), cb = costOf(*b.sums);
    if (ca != cb) return ca > cb;
    return a.sums->bytesToPeer + a.sums->bytesToClient > b.sums->bytesToPeer + b.sums->bytesToClient;
  });
  nlohmann::json topIdentities = nlohmann::json::array();
  for (size_t i = 0; i < top.size() && i < 10; ++i) {
    topIdentities.push_back({{"identity", top[i].key},
                             {"class", g.classOfIdentity[top[i].key].second},
                             {"bytes", top[i].sums->bytesToPeer + top[i].sums->bytesToClient},
                             {"cost", roundMoney(costOf(*top[i].sums))}});
  }

  nlohmann::json hourly = nlohmann::json::array();
  for (const auto& h : w.hours)
    hourly.push_back({{"start", h.start}, {"bytes_to_peer", h.bytesToPeer}, {"bytes_to_client", h.bytesToClient}});
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [reason, count] : w.endReasons) reasons[reason] = count;
  nlohmann::json sessions = {{"direct", 0}, {"relayed", 0}};
  for (const auto& [path, count] : w.sessions) sessions[path] = count;
  // Projection: the last 24 hourly buckets (the current, partial one included) scaled to 30 days.
  const double lastDayCost = costOf(w.lastDay);

  return nlohmann::json{
      {"node", nodeId},
      {"generated", now},
      {"since", storage::utcDay(q.since)},
      {"until", storage::utcDay(q.until)},
      {"by", q.by},
      {"currency", prices.currency},
      {"prices",
       {{"per_gb_to_peer", prices.perGbToPeer},
        {"per_gb_to_client", prices.perGbToClient},
        {"per_allocation_hour", prices.perAllocationHour}}},
      {"totals", sumsJson(g.totals, prices)},
      {"rows", std::move(rows)},
      {"daily", std::move(daily)},
      {"hourly", std::move(hourly)},
      {"top_identities", std::move(topIdentities)},
      {"end_reasons", std::move(reasons)},
      {"sessions", std::move(sessions)},
      {"projection", {{"basis_seconds", 86400}, {"monthly_cost", roundMoney(lastDayCost * 30)}}},
  };
}

}  // namespace

Result<nlohmann::json, std::string> UsageApi::report(const UsageQuery& q) {
  if (!db_) {
    auto db = storage::Database::open(dbPath_);
    if (!db) return unexpected("cannot open the ledger: " + db.error().message);
    db_.emplace(std::move(*db));
  }
  const int64_t now = clock_();
  auto window = storage::readUsageWindow(*db_, q.since, q.until, storage::floorTo(now, kHour) - 24 * kHour);
  if (!window) return unexpected("ledger query failed: " + window.error().message);
  return render(q, now, prices_, nodeId_, aggregate(window->days), *window);
}

}  // namespace rdv::node
