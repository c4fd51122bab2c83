// The /v1/usage document of the admin API (docs/operator.md, "Reports"), parsed into plain structs
// for the report renderers. Pure: text in, a document or an error naming the offending field out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/base/result.h"
#include "rendezvous/base/usage_totals.h"

namespace rdv::report {

struct Prices {
  double perGbToPeer = 0;
  double perGbToClient = 0;
  double perAllocationHour = 0;
};

// What a row, the totals and a day have in common.
struct Usage : UsageTotals {
  double cost = 0;
};

struct Row {
  std::string key;  // identity, YYYY-MM-DD or class, as the document's "by" says
  Usage usage;
  std::optional<std::string> quotaClass;  // identity rows
  std::optional<uint64_t> identities;     // day and class rows
};

struct Day {
  std::string day;  // YYYY-MM-DD
  uint64_t bytesToPeer = 0;
  uint64_t bytesToClient = 0;
  uint64_t allocations = 0;
  double cost = 0;
};

struct Hour {
  int64_t start = 0;  // unix seconds, a multiple of 3600
  uint64_t bytesToPeer = 0;
  uint64_t bytesToClient = 0;
};

struct TopIdentity {
  std::string identity;
  std::string quotaClass;
  uint64_t bytes = 0;
  double cost = 0;
};

enum class GroupBy { Identity, Day, Class };
std::optional<GroupBy> parseGroupBy(std::string_view text);
std::string_view toString(GroupBy by);

struct UsageDocument {
  std::string node;  // hex node id, may be empty
  int64_t generated = 0;
  std::string since, until;  // YYYY-MM-DD, inclusive UTC days
  GroupBy by = GroupBy::Identity;
  std::string currency;
  Prices prices;
  Usage totals;
  std::vector<Row> rows;
  std::vector<Day> daily;
  std::vector<Hour> hourly;
  std::vector<TopIdentity> topIdentities;
  std::vector<std::pair<std::string, uint64_t>> endReasons;  // most frequent first
  uint64_t sessionsDirect = 0;
  uint64_t sessionsRelayed = 0;
  int64_t projectionBasisSeconds = 0;
  double projectedMonthlyCost = 0;
  nlohmann::json raw;  // the document as received (the json format prints it)
};

// Parses and checks a /v1/usage body: every byte count a non-negative integer, money a finite
// number, dates real YYYY-MM-DD days. "daily", "hourly", "top_identities", "end_reasons",
// "sessions" and "projection" may be absent (empty). The error names the field, e.g.
// "rows[2].bytes_to_peer: not a non-negative integer".
Result<UsageDocument, std::string> parseUsageDocument(std::string_view body);

// A calendar day "YYYY-MM-DD" (proleptic Gregorian, year 1970-9999) as days since 1970-01-01.
std::optional<int64_t> parseDay(std::string_view text);
std::string formatDay(int64_t daysSinceEpoch);

}  // namespace rdv::report
