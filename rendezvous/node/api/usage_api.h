// GET /v1/usage on the admin listener (issue 7; format in docs/operator.md "Usage API"): the usage
// ledger summed over a window of UTC days, grouped by identity, day or class, priced with the cost
// model. Runs on the admin API thread with its own read connection (WAL: reads never block the
// ledger's writes); it reads what the ledger has flushed, so live allocations count up to the last
// flush.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "rendezvous/node/api/http_server.h"
#include "rendezvous/storage/database.h"
#include "rendezvous/base/result.h"
#include "rendezvous/base/usage_totals.h"

namespace rdv::node {

struct CostModel {
  double perGbToPeer = 0.09;
  double perGbToClient = 0.09;
  double perAllocationHour = 0.0;
  std::string currency = "USD";

  double cost(uint64_t bytesToPeer, uint64_t bytesToClient, uint64_t allocationSeconds) const {
    return static_cast<double>(bytesToPeer) / 1e9 * perGbToPeer +
           static_cast<double>(bytesToClient) / 1e9 * perGbToClient +
           static_cast<double>(allocationSeconds) / 3600.0 * perAllocationHour;
  }
};

// Money as /v1/usage shows it: rounded to 6 decimals.
double roundMoney(double v);
// One /v1/usage sums object (allocations, bytes and packets each way, allocation seconds, cost), as the
// node's and the fleet's documents (fleet_usage.cpp) show it.
nlohmann::json sumsJson(const UsageTotals& s, const CostModel& prices);

struct UsageQuery {
  int64_t since = 0;  // unix seconds of the first day's 00:00 UTC
  int64_t until = 0;  // unix seconds of the last day's 00:00 UTC (inclusive)
  std::string by = "identity";
};

// Parses since/until/by (defaults: the last 30 days through today); the error names the parameter.
Result<UsageQuery, std::string> parseUsageQuery(const HttpRequest& request, int64_t nowUnix);

class UsageApi {
 public:
  using Clock = std::function<int64_t()>;

  UsageApi(std::string dbPath, CostModel prices, std::string nodeId, Clock clock = {});

  HttpResponse get(const HttpRequest& request);
  // The report document for `query` (what get() answers with), or a database error.
  Result<nlohmann::json, std::string> report(const UsageQuery& query);

 private:
  std::string dbPath_;
  CostModel prices_;
  std::string nodeId_;
  Clock clock_;
  std::optional<storage::Database> db_;  // opened on first use, on the admin thread
};

}  // namespace rdv::node
