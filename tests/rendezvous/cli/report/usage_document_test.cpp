// parseUsageDocument: the agreed /v1/usage shape, and every way a document can be malformed.
#include <gtest/gtest.h>

#include <limits>

#include "rendezvous/cli/report/usage_document.h"
#include "tests/rendezvous/cli/report/report_test_support.h"

namespace rdv::report {
namespace {

using test::exampleDocument;
using Json = nlohmann::json;

std::string errorOf(const Json& doc) {
  auto d = parseUsageDocument(doc.dump());
  return d.ok() ? "(parsed)" : d.error();
}

TEST(UsageDocument, ParsesTheAgreedExample) {
  auto d = parseUsageDocument(exampleDocument().dump());
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->node.size(), 64u);
  EXPECT_EQ(d->generated, 1763776800);
  EXPECT_EQ(d->since, "2025-10-24");
  EXPECT_EQ(d->until, "2025-11-22");
  EXPECT_EQ(d->by, GroupBy::Identity);
  EXPECT_EQ(d->currency, "USD");
  EXPECT_DOUBLE_EQ(d->prices.perGbToPeer, 0.09);
  EXPECT_EQ(d->totals.allocations, 3u);
  EXPECT_EQ(d->totals.bytesToPeer, 1200u);
  EXPECT_EQ(d->totals.bytesToClient, 1100u);
  EXPECT_EQ(d->totals.bytes(), 2300u);
  EXPECT_EQ(d->totals.packetsToClient, 11u);
  EXPECT_EQ(d->totals.allocationSeconds, 240u);
  ASSERT_EQ(d->rows.size(), 2u);
  EXPECT_EQ(d->rows[0].key, "alice");
  EXPECT_EQ(d->rows[0].quotaClass.value_or(""), "gold");
  EXPECT_FALSE(d->rows[0].identities.has_value());
  ASSERT_EQ(d->daily.size(), 1u);
  EXPECT_EQ(d->daily[0].day, "2025-11-21");
  ASSERT_EQ(d->hourly.size(), 1u);
  EXPECT_EQ(d->hourly[0].start, 1763762400);
  ASSERT_EQ(d->topIdentities.size(), 2u);
  EXPECT_EQ(d->topIdentities[1].quotaClass, "limited");
  ASSERT_EQ(d->endReasons.size(), 2u);
  EXPECT_EQ(d->sessionsDirect, 3u);
  EXPECT_EQ(d->sessionsRelayed, 1u);
  EXPECT_EQ(d->projectionBasisSeconds, 86400);
  EXPECT_DOUBLE_EQ(d->projectedMonthlyCost, 0.00621);
  EXPECT_EQ(d->raw, exampleDocument());
}

TEST(UsageDocument, DayAndClassRowsCarryIdentities) {
  Json doc = exampleDocument();
  doc["by"] = "class";
  doc["rows"] = Json::array({{{"key", "limited"}, {"allocations", 1}, {"bytes_to_peer", 1}, {"bytes_to_client", 2},
                              {"packets_to_peer", 1}, {"packets_to_client", 1}, {"allocation_seconds", 5},
                              {"cost", 0.0}, {"identities", 4}}});
  auto d = parseUsageDocument(doc.dump());
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->by, GroupBy::Class);
  EXPECT_EQ(d->rows[0].identities.value_or(0), 4u);
}

TEST(UsageDocument, OptionalSectionsMayBeAbsent) {
  Json doc = exampleDocument();
  for (const char* k : {"daily", "hourly", "top_identities", "end_reasons", "sessions", "projection"}) doc.erase(k);
  auto d = parseUsageDocument(doc.dump());
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_TRUE(d->daily.empty());
  EXPECT_TRUE(d->hourly.empty());
  EXPECT_EQ(d->sessionsDirect + d->sessionsRelayed, 0u);
}

TEST(UsageDocument, LargestCountsSurviveExactly) {
  Json doc = exampleDocument();
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  doc["totals"]["bytes_to_peer"] = max;
  doc["totals"]["bytes_to_client"] = max;
  auto d = parseUsageDocument(doc.dump());
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->totals.bytesToPeer, max);
  EXPECT_EQ(d->totals.bytes(), max);  // saturates instead of wrapping
}

TEST(UsageDocument, MalformedDocumentsNameTheField) {
  EXPECT_EQ(parseUsageDocument("").error(), "not JSON");
  EXPECT_EQ(parseUsageDocument("{\"node\": ").error(), "not JSON");
  EXPECT_EQ(parseUsageDocument("<html>502 Bad Gateway</html>").error(), "not JSON");
  EXPECT_EQ(parseUsageDocument("[1,2]").error(), "not a JSON object");

  struct Case {
    std::function<void(Json&)> mutate;
    std::string error;
  };
  const std::vector<Case> cases = {
      {[](Json& j) { j.erase("node"); }, "node: missing"},
      {[](Json& j) { j["node"] = 7; }, "node: not a string"},
      {[](Json& j) { j["generated"] = "now"; }, "generated: not an integer"},
      {[](Json& j) { j["since"] = "2025-02-30"; }, "since: not a YYYY-MM-DD day"},
      {[](Json& j) { j["until"] = "22/11/2025"; }, "until: not a YYYY-MM-DD day"},
      {[](Json& j) { j["by"] = "user"; }, "by: not identity, day or class"},
      {[](Json& j) { j.erase("currency"); }, "currency: missing"},
      {[](Json& j) { j["prices"] = 0.09; }, "prices: not an object"},
      {[](Json& j) { j["prices"]["per_gb_to_peer"] = -1; }, "prices.per_gb_to_peer: not a non-negative number"},
      {[](Json& j) { j.erase("totals"); }, "totals: missing"},
      {[](Json& j) { j["totals"].erase("bytes_to_peer"); }, "totals.bytes_to_peer: missing"},
      {[](Json& j) { j["totals"]["bytes_to_client"] = -5; }, "totals.bytes_to_client: not a non-negative integer"},
      {[](Json& j) { j["totals"]["packets_to_peer"] = 1.5; }, "totals.packets_to_peer: not a non-negative integer"},
      {[](Json& j) { j["totals"]["cost"] = "0.1"; }, "totals.cost: not a non-negative number"},
      {[](Json& j) { j["rows"] = Json::object(); }, "rows: not an array"},
      {[](Json& j) { j["rows"][1] = "bob"; }, "rows[1]: not an object"},
      {[](Json& j) { j["rows"][1]["key"] = nullptr; }, "rows[1].key: not a string"},
      {[](Json& j) { j["rows"][0]["allocation_seconds"] = true; }, "rows[0].allocation_seconds: not a non-negative integer"},
      {[](Json& j) { j["rows"][0]["class"] = 3; }, "rows[0].class: not a string"},
      {[](Json& j) { j["daily"][0]["day"] = "yesterday"; }, "daily[0].day: not a YYYY-MM-DD day"},
      {[](Json& j) { j["hourly"][0].erase("start"); }, "hourly[0].start: missing"},
      {[](Json& j) { j["top_identities"][0]["bytes"] = -1; }, "top_identities[0].bytes: not a non-negative integer"},
      {[](Json& j) { j["end_reasons"]["expired"] = "one"; }, "end_reasons.expired: not a non-negative integer"},
      {[](Json& j) { j["sessions"] = Json::array(); }, "sessions: not an object"},
      {[](Json& j) { j["projection"]["monthly_cost"] = nullptr; }, "projection.monthly_cost: not a non-negative number"},
  };
  for (const auto& c : cases) {
    Json doc = exampleDocument();
    c.mutate(doc);
    EXPECT_EQ(errorOf(doc), c.error);
  }
}

TEST(UsageDocument, Days) {
  EXPECT_EQ(parseDay("1970-01-01").value_or(-1), 0);
  EXPECT_EQ(parseDay("2026-11-22").value_or(-1), 20779);
  EXPECT_TRUE(parseDay("2024-02-29"));
  EXPECT_FALSE(parseDay("2023-02-29"));
  EXPECT_FALSE(parseDay("2026-13-01"));
  EXPECT_FALSE(parseDay("2026-00-10"));
  EXPECT_FALSE(parseDay("2026-04-31"));
  EXPECT_FALSE(parseDay("2026-1-01"));
  EXPECT_FALSE(parseDay("2026-01-01T00"));
  EXPECT_FALSE(parseDay("1969-12-31"));
  EXPECT_FALSE(parseDay("+026-01-01"));
  EXPECT_FALSE(parseDay(""));
  for (int64_t z : {0, 59, 20779, 2932896}) EXPECT_EQ(parseDay(formatDay(z)).value_or(-1), z) << formatDay(z);
  EXPECT_EQ(formatDay(20779), "2026-11-22");
}

}  // namespace
}  // namespace rdv::report
