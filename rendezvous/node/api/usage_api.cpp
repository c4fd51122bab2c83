#include "rendezvous/node/api/usage_api.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <vector>

#include "rendezvous/storage/ledger_book.h"

namespace rdv::node {

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kHour = 3600;
constexpr int64_t kMaxWindowDays = 3660;

struct Sums {
  uint64_t allocations = 0;
  uint64_t bytesToPeer = 0;
  uint64_t bytesToClient = 0;
  uint64_t packetsToPeer = 0;
  uint64_t packetsToClient = 0;
  uint64_t allocationSeconds = 0;

  void add(const Sums& o) {
    allocations += o.allocations;
    bytesToPeer += o.bytesToPeer;
    bytesToClient += o.bytesToClient;
    packetsToPeer += o.packetsToPeer;
    packetsToClient += o.packetsToClient;
    allocationSeconds += o.allocationSeconds;
  }
  bool empty() const { return allocations == 0 && bytesToPeer == 0 && bytesToClient == 0 && allocationSeconds == 0; }
};

struct DayRow {
  std::string day, identity, quotaClass;
  Sums sums;
};

nlohmann::json sumsJson(const Sums& s, const CostModel& prices) {
  return {{"allocations", s.allocations},
          {"bytes_to_peer", s.bytesToPeer},
          {"bytes_to_client", s.bytesToClient},
          {"packets_to_peer", s.packetsToPeer},
          {"packets_to_client", s.packetsToClient},
          {"allocation_seconds", s.allocationSeconds},
          {"cost", roundMoney(prices.cost(s.bytesToPeer, s.bytesToClient, s.allocationSeconds))}};
}

uint64_t u64(int64_t v) { return v < 0 ? 0 : static_cast<uint64_t>(v); }

}  // namespace

double roundMoney(double v) { return std::round(v * 1e6) / 1e6; }

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

Result<nlohmann::json, std::string> UsageApi::report(const UsageQuery& q) {
  if (!db_) {
    auto db = storage::Database::open(dbPath_);
    if (!db) return unexpected("cannot open the ledger: " + db.error().message);
    db_.emplace(std::move(*db));
  }
  auto& db = *db_;
  const int64_t now = clock_();
  const std::string since = storage::utcDay(q.since);
  const std::string until = storage::utcDay(q.until);
  const int64_t windowEnd = q.until + kDay;  // exclusive
  auto fail = [](const storage::DbError& e) { return unexpected("ledger query failed: " + e.message); };
  // One read transaction: every part of the document sees the same flushes.
  if (auto s = db.exec("BEGIN"); !s) return fail(s.error());
  struct EndRead {
    storage::Database& db;
    ~EndRead() { (void)db.exec("COMMIT"); }
  } endRead{db};

  // Per (day, identity, class) rows of the window: everything but hourly, reasons and sessions.
  std::vector<DayRow> dayRows;
  {
    auto st = db.prepare(
        "SELECT day, identity, class, allocations, bytes_to_peer, bytes_to_client, packets_to_peer, "
        "packets_to_client, allocation_seconds FROM identity_days WHERE day >= ?1 AND day <= ?2 ORDER BY day");
    if (!st) return fail(st.error());
    if (auto s = st->bindText(1, since); !s) return fail(s.error());
    if (auto s = st->bindText(2, until); !s) return fail(s.error());
    for (;;) {
      auto row = st->step();
      if (!row) return fail(row.error());
      if (!*row) break;
      DayRow r{st->columnText(0), st->columnText(1), st->columnText(2),
               Sums{u64(st->columnInt64(3)), u64(st->columnInt64(4)), u64(st->columnInt64(5)),
                    u64(st->columnInt64(6)), u64(st->columnInt64(7)), u64(st->columnInt64(8))}};
      dayRows.push_back(std::move(r));
    }
  }

  Sums totals;
  std::map<std::string, Sums> byDay, byIdentity, byClass;
  std::map<std::string, std::set<std::string>> identitiesByDay, identitiesByClass;
  std::map<std::string, std::pair<std::string, std::string>> classOfIdentity;  // identity -> (day, class): latest
  for (const auto& r : dayRows) {
    totals.add(r.sums);
    byDay[r.day].add(r.sums);
    byIdentity[r.identity].add(r.sums);
    byClass[r.quotaClass].add(r.sums);
    identitiesByDay[r.day].insert(r.identity);
    identitiesByClass[r.quotaClass].insert(r.identity);
    auto& latest = classOfIdentity[r.identity];
    if (r.day >= latest.first) latest = {r.day, r.quotaClass};
  }
  auto costOf = [&](const Sums& s) { return prices_.cost(s.bytesToPeer, s.bytesToClient, s.allocationSeconds); };

  struct Keyed {
    std::string key;
    const Sums* sums;
  };
  std::vector<Keyed> ordered;
  const auto& groups = q.by == "day" ? byDay : q.by == "class" ? byClass : byIdentity;
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
    row.update(sumsJson(*k.sums, prices_));
    if (q.by == "identity") row["class"] = classOfIdentity[k.key].second;
    if (q.by == "day") row["identities"] = identitiesByDay[k.key].size();
    if (q.by == "class") row["identities"] = identitiesByClass[k.key].size();
    rows.push_back(std::move(row));
  }

  nlohmann::json daily = nlohmann::json::array();
  for (const auto& [day, s] : byDay) {
    if (s.empty()) continue;
    daily.push_back({{"day", day},
                     {"bytes_to_peer", s.bytesToPeer},
                     {"bytes_to_client", s.bytesToClient},
                     {"allocations", s.allocations},
                     {"cost", roundMoney(costOf(s))}});
  }

  std::vector<Keyed> top;
  for (const auto& [identity, sums] : byIdentity) top.push_back({identity, &sums});
  std::stable_sort(top.begin(), top.end(), [&](const Keyed& a, const Keyed& b) {
    const double ca = costOf(*a.sums), cb = costOf(*b.sums);
    if (ca != cb) return ca > cb;
    return a.sums->bytesToPeer + a.sums->bytesToClient > b.sums->bytesToPeer + b.sums->bytesToClient;
  });
  nlohmann::json topIdentities = nlohmann::json::array();
  for (size_t i = 0; i < top.size() && i < 10; ++i) {
    topIdentities.push_back({{"identity", top[i].key},
                             {"class", classOfIdentity[top[i].key].second},
                             {"bytes", top[i].sums->bytesToPeer + top[i].sums->bytesToClient},
                             {"cost", roundMoney(costOf(*top[i].sums))}});
  }

  nlohmann::json hourly = nlohmann::json::array();
  {
    auto st = db.prepare(
        "SELECT hour_start, bytes_to_peer, bytes_to_client FROM node_hours WHERE hour_start >= ?1 AND hour_start < ?2 "
        "AND (bytes_to_peer > 0 OR bytes_to_client > 0) ORDER BY hour_start");
    if (!st) return fail(st.error());
    if (auto s = st->bind(1, q.since); !s) return fail(s.error());
    if (auto s = st->bind(2, windowEnd); !s) return fail(s.error());
    for (;;) {
      auto row = st->step();
      if (!row) return fail(row.error());
      if (!*row) break;
      hourly.push_back({{"start", st->columnInt64(0)},
                        {"bytes_to_peer", u64(st->columnInt64(1))},
                        {"bytes_to_client", u64(st->columnInt64(2))}});
    }
  }

  nlohmann::json reasons = nlohmann::json::object();
  {
    auto st = db.prepare(
        "SELECT end_reason, count(*) FROM allocations WHERE ended >= ?1 AND ended < ?2 GROUP BY end_reason "
        "ORDER BY end_reason");
    if (!st) return fail(st.error());
    if (auto s = st->bind(1, q.since); !s) return fail(s.error());
    if (auto s = st->bind(2, windowEnd); !s) return fail(s.error());
    for (;;) {
      auto row = st->step();
      if (!row) return fail(row.error());
      if (!*row) break;
      reasons[st->columnText(0)] = u64(st->columnInt64(1));
    }
  }

  nlohmann::json sessions = {{"direct", 0}, {"relayed", 0}};
  {
    auto st = db.prepare("SELECT path, sum(count) FROM sessions WHERE day >= ?1 AND day <= ?2 GROUP BY path");
    if (!st) return fail(st.error());
    if (auto s = st->bindText(1, since); !s) return fail(s.error());
    if (auto s = st->bindText(2, until); !s) return fail(s.error());
    for (;;) {
      auto row = st->step();
      if (!row) return fail(row.error());
      if (!*row) break;
      sessions[st->columnText(0)] = u64(st->columnInt64(1));
    }
  }

  // Projection: the last 24 hourly buckets (the current, partial one included) scaled to 30 days.
  double lastDayCost = 0;
  {
    auto st = db.prepare(
        "SELECT coalesce(sum(bytes_to_peer), 0), coalesce(sum(bytes_to_client), 0), "
        "coalesce(sum(allocation_seconds), 0) FROM node_hours WHERE hour_start > ?1");
    if (!st) return fail(st.error());
    if (auto s = st->bind(1, storage::floorTo(now, kHour) - 24 * kHour); !s) return fail(s.error());
    auto row = st->step();
    if (!row) return fail(row.error());
    lastDayCost = prices_.cost(u64(st->columnInt64(0)), u64(st->columnInt64(1)), u64(st->columnInt64(2)));
  }

  return nlohmann::json{
      {"node", nodeId_},
      {"generated", now},
      {"since", since},
      {"until", until},
      {"by", q.by},
      {"currency", prices_.currency},
      {"prices",
       {{"per_gb_to_peer", prices_.perGbToPeer},
        {"per_gb_to_client", prices_.perGbToClient},
        {"per_allocation_hour", prices_.perAllocationHour}}},
      {"totals", sumsJson(totals, prices_)},
      {"rows", std::move(rows)},
      {"daily", std::move(daily)},
      {"hourly", std::move(hourly)},
      {"top_identities", std::move(topIdentities)},
      {"end_reasons", std::move(reasons)},
      {"sessions", std::move(sessions)},
      {"projection", {{"basis_seconds", 86400}, {"monthly_cost", roundMoney(lastDayCost * 30)}}},
  };
}

}  // namespace rdv::node
