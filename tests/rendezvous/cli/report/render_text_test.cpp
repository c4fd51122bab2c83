// The table, csv and json formats on hand-built documents.
#include <gtest/gtest.h>

#include <regex>

#include "rendezvous/cli/report/render.h"
#include "tests/rendezvous/cli/report/report_test_support.h"

namespace rdv::report {
namespace {

using namespace test;
using Json = nlohmann::json;

size_t lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST(ReportTable, HeadlineOfTheExample) {
  const std::string t = renderTable(parsed(exampleDocument()));
  EXPECT_NE(t.find("node 3f1c9a0be55d2c7e"), std::string::npos) << t;
  EXPECT_NE(t.find("2025-10-24 to 2025-11-22 (30 days, UTC)"), std::string::npos) << t;
  EXPECT_NE(t.find("relayed      2.30 kB (2,300 bytes: to peer 1,200, to client 1,100)"), std::string::npos) << t;
  EXPECT_NE(t.find("allocations  3 (4m 0s allocated)"), std::string::npos) << t;
  EXPECT_NE(t.find("cost         USD 0.000207"), std::string::npos) << t;
  EXPECT_NE(t.find("projected    USD 0.00621 per 30 days at the rate of the last 24 h"), std::string::npos) << t;
  EXPECT_NE(t.find("sessions     4 reported: 1 relayed (25.0%), 3 direct (75.0%)"), std::string::npos) << t;
  EXPECT_NE(t.find("end reasons  deleted 2, expired 1"), std::string::npos) << t;
  // Rows: cost share of the total, aligned columns, a total line.
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  alice +gold +2 +1.00 kB +1.00 kB +3m 0s +USD 0.00018 +87.0%\n)re")))
      << t;
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  bob +limited +1 .* +13.0%\n)re"))) << t;
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  total +3 +1.20 kB +1.10 kB +4m 0s +USD 0.000207\n)re"))) << t;
  EXPECT_NE(t.find("top identities"), std::string::npos);
}

TEST(ReportTable, EmptyWindow) {
  const std::string t = renderTable(parsed(emptyDocument()));
  EXPECT_NE(t.find("node (no node id)"), std::string::npos) << t;
  EXPECT_NE(t.find("relayed      0 B (0 bytes"), std::string::npos) << t;
  EXPECT_NE(t.find("cost         EUR 0.00"), std::string::npos) << t;
  EXPECT_NE(t.find("no path reports"), std::string::npos) << t;
  EXPECT_NE(t.find("end reasons  none"), std::string::npos) << t;
  EXPECT_NE(t.find("no usage in this window"), std::string::npos) << t;
  EXPECT_EQ(t.find("top identities"), std::string::npos) << t;
  EXPECT_EQ(t.find("nan"), std::string::npos) << t;
}

TEST(ReportTable, ZeroPricesShareByBytes) {
  const std::string t = renderTable(parsed(documentOf({{"a", "gold", 3000, 1000}, {"b", "limited", 1000, 0}}, 0.0)));
  EXPECT_NE(t.find("byte share"), std::string::npos) << t;
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  a +gold .* +USD 0.00 +80.0%\n)re"))) << t;
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  b +limited .* +20.0%\n)re"))) << t;
}

TEST(ReportTable, ManyIdentitiesAndLargeNumbers) {
  std::vector<IdentityUsage> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back({"id-" + std::to_string(i), i % 2 ? "gold" : "limited", 400000000000000000ull + static_cast<uint64_t>(i), 7, 1, 86400});
  const std::string t = renderTable(parsed(documentOf(ids, 0.09)));
  EXPECT_NE(t.find("by identity (40 rows)"), std::string::npos) << t;
  EXPECT_NE(t.find("relayed      16.0 EB (16,000,000,000,000,001,060 bytes"), std::string::npos) << t;
  EXPECT_NE(t.find("cost         USD 1,440,000,000.00"), std::string::npos) << t;  // 1.6e19 B at 0.09/GB
  EXPECT_EQ(t.find("nan"), std::string::npos);
  EXPECT_EQ(t.find("inf"), std::string::npos);
}

TEST(ReportTable, ControlCharactersCannotReachTheTerminal) {
  const std::string t = renderTable(parsed(documentOf({{"evil\x1b[2J\x07", "gold", 10, 10}}, 0.09)));
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
  EXPECT_EQ(t.find('\x07'), std::string::npos);
  EXPECT_NE(t.find("evil\\x1b[2J\\x07"), std::string::npos) << t;
}

TEST(ReportTable, DayAndClassRows) {
  Json doc = exampleDocument();
  doc["by"] = "day";
  doc["rows"] = Json::array({{{"key", "2025-11-21"}, {"allocations", 3}, {"bytes_to_peer", 1200},
                              {"bytes_to_client", 1100}, {"packets_to_peer", 12}, {"packets_to_client", 11},
                              {"allocation_seconds", 240}, {"cost", 0.000207}, {"identities", 2}}});
  const std::string t = renderTable(parsed(doc));
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  day +identities +allocations)re"))) << t;
  EXPECT_TRUE(std::regex_search(t, std::regex(R"re(\n  2025-11-21 +2 +3 +1.20 kB)re"))) << t;
}

// CSV through Python's csv module (a real RFC 4180 reader): fields come back exactly.
const char* kCsvToJson = R"(
import csv, json, sys
raw = open(sys.argv[1], 'rb').read()
assert raw.endswith(b'\r\n'), 'last line must end with CRLF'
text = raw.decode('utf-8')
# Every record ends with CRLF (RFC 4180 2.1); quoted fields may hold bare LF.
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))
print(json.dumps(rows))
)";

Json csvRows(const std::string& csv) {
  auto r = runPython(kCsvToJson, csv);
  EXPECT_EQ(r.exitCode, 0) << r.out;
  auto j = Json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_array()) << r.out;
  return j;
}

TEST(ReportCsv, HeaderAndOneLinePerRow) {
  const std::string csv = renderCsv(parsed(exampleDocument()));
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")),
            "identity,class,allocations,bytes_to_peer,bytes_to_client,packets_to_peer,packets_to_client,"
            "allocation_seconds,cost,currency");
  EXPECT_EQ(lines(csv), 3u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\r'), 3);  // CRLF everywhere
  const Json rows = csvRows(csv);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], Json({"alice", "gold", "2", "1000", "1000", "10", "10", "180", "0.000180", "USD"}));
  EXPECT_EQ(rows[2], Json({"bob", "limited", "1", "200", "100", "2", "1", "60", "0.000027", "USD"}));
}

TEST(ReportCsv, EmptyWindowIsTheHeaderOnly) {
  const Json rows = csvRows(renderCsv(parsed(emptyDocument())));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "identity");
}

TEST(ReportCsv, IdentitiesNeedingQuotesComeBackExactly) {
  const std::vector<std::string> awkward = {"a,b", "say \"hi\"", "two\r\nlines", "trailing\n", " spaced ",
                                            "\xC3\xBC" "ber", "=cmd()", "'quoted'"};
  std::vector<IdentityUsage> ids;
  for (const auto& a : awkward) ids.push_back({a, "class,\"x\"", 5, 6});
  const Json rows = csvRows(renderCsv(parsed(documentOf(ids, 0.09))));
  ASSERT_EQ(rows.size(), awkward.size() + 1);
  for (size_t i = 0; i < awkward.size(); ++i) {
    EXPECT_EQ(rows[i + 1][0], awkward[i][0] == '=' ? "'" + awkward[i] : awkward[i]);
    EXPECT_EQ(rows[i + 1][1], "class,\"x\"");
    EXPECT_EQ(rows[i + 1].size(), 10u);
  }
}

// Formula injection: a text cell a spreadsheet would evaluate (= + - @ TAB CR first) reads back as the text
// behind a single quote; numbers stay numbers.
TEST(ReportCsv, FormulaCellsAreNeutralised) {
  const std::vector<std::string> formulas = {"=HYPERLINK(\"http://198.51.100.1\",\"x\")", "+1+1", "-2+3",
                                             "@SUM(A1:A9)", "\tx", "\r=1"};
  std::vector<IdentityUsage> ids;
  for (const auto& f : formulas) ids.push_back({f, "=evil()", 5, 6});
  const std::string csv = renderCsv(parsed(documentOf(ids, 0.09)));
  const Json rows = csvRows(csv);
  ASSERT_EQ(rows.size(), formulas.size() + 1);
  for (size_t i = 0; i < formulas.size(); ++i) {
    EXPECT_EQ(rows[i + 1][0], "'" + formulas[i]);
    EXPECT_EQ(rows[i + 1][1], "'=evil()");
    EXPECT_EQ(rows[i + 1][3], "5");
  }
  EXPECT_EQ(csv.find("\r\n="), std::string::npos);
  EXPECT_EQ(csv.find(",="), std::string::npos);
}

TEST(ReportCsv, ByDayAndClassHaveIdentitiesColumn) {
  Json doc = exampleDocument();
  doc["by"] = "class";
  doc["rows"] = Json::array({{{"key", "gold"}, {"allocations", 2}, {"bytes_to_peer", 1000}, {"bytes_to_client", 1000},
                              {"packets_to_peer", 10}, {"packets_to_client", 10}, {"allocation_seconds", 180},
                              {"cost", 0.00018}, {"identities", 1}}});
  const Json rows = csvRows(renderCsv(parsed(doc)));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "class");
  EXPECT_EQ(rows[0][1], "identities");
  EXPECT_EQ(rows[1][1], "1");
}

TEST(ReportCsv, LargeNumbersAreExact) {
  const Json rows = csvRows(renderCsv(parsed(documentOf({{"big", "gold", 18446744073709551615ull, 0}}, 0.0))));
  EXPECT_EQ(rows[1][3], "18446744073709551615");
}

TEST(ReportJson, IsTheDocumentAsReceived) {
  for (const Json& doc : {exampleDocument(), emptyDocument(), documentOf({{"a\"b", "gold", 1, 2}}, 0.5)}) {
    const std::string out = renderJson(parsed(doc));
    EXPECT_EQ(Json::parse(out), doc);
    EXPECT_NE(out.find("\n  \"by\""), std::string::npos);  // pretty
  }
}

TEST(ReportFormats, Names) {
  EXPECT_EQ(parseFormat("table"), Format::Table);
  EXPECT_EQ(parseFormat("json"), Format::Json);
  EXPECT_EQ(parseFormat("csv"), Format::Csv);
  EXPECT_EQ(parseFormat("html"), Format::Html);
  EXPECT_FALSE(parseFormat("pdf"));
  EXPECT_FALSE(parseFormat("HTML"));
}

}  // namespace
}  // namespace rdv::report
