// The html format: well-formed (parsed by Python's xml.etree), self-contained, three accessible
// SVG charts with sane scales, escaped identities, empty states.
#include <gtest/gtest.h>

#include <limits>
#include <regex>

#include "rendezvous/cli/report/render.h"
#include "tests/rendezvous/cli/report/report_test_support.h"

namespace rdv::report {
namespace {

using namespace test;
using Json = nlohmann::json;

// Parses the page as XML (it is written as polyglot markup) and summarises what a reader sees.
const char* kInspect = R"(
import json, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == 'html', root.tag
def text(e): return ''.join(e.itertext()).strip()
forbidden = [e.tag for e in root.iter() if e.tag in ('script', 'link', 'img', 'iframe', 'object', 'embed', 'image', 'use', 'foreignObject')]
linked = [k for e in root.iter() for k in e.attrib if k in ('href', 'src') or k.endswith('}href') or k.startswith('on')]
svgs = root.findall('.//svg')
print(json.dumps({
  'title': text(root.find('head/title')),
  'h1': text(root.find('.//h1')),
  'h2': [text(e) for e in root.iter('h2')],
  'cards': [[text(c.find('div[@class="label"]')), text(c.find('div[@class="value"]'))] for c in root.iter('div') if c.get('class') == 'card'],
  'svgs': len(svgs),
  'svgTitles': [text(s.find('title')) for s in svgs],
  'svgRects': [len(s.findall('.//rect')) for s in svgs],
  'svgLines': [len(s.findall('.//polyline')) for s in svgs],
  'svgTexts': [[text(t) for t in s.iter('text')] for s in svgs],
  'codes': [text(e) for e in root.iter('code')],
  'tables': [len(t.findall('tbody/tr')) for t in root.iter('table')],
  'forbidden': forbidden, 'linked': linked,
}))
)";

Json inspect(const std::string& html) {
  auto r = runPython(kInspect, html);
  EXPECT_EQ(r.exitCode, 0) << r.out << "\n" << html.substr(0, 2000);
  auto j = Json::parse(r.out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << r.out;
  return j.is_object() ? j : Json::object();
}

// textMayHoldMarkup: identities in the page's text look like markup or URLs (escaped, so harmless; the
// parsed page's elements and attributes are checked by kInspect).
void expectSelfContained(const std::string& html, bool textMayHoldMarkup = false) {
  for (const char* bad : {"<script", "<link", "<img", "<iframe", "url(", "@import", "@font-face", "xlink:"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  if (!textMayHoldMarkup) {
    for (const char* bad : {"src=", "href=", "javascript:"}) EXPECT_EQ(html.find(bad), std::string::npos) << bad;
    EXPECT_EQ(html.find("http://"), std::string::npos);
    EXPECT_EQ(html.find("https://"), std::string::npos);
  }
  std::string lower = html;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_FALSE(std::regex_search(lower, std::regex(R"re(\bnan\b|\binf\b|infinity)re")));
}

TEST(ReportHtml, ExampleIsAWellFormedSelfContainedPage) {
  const std::string html = renderHtml(parsed(exampleDocument()));
  expectSelfContained(html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\"/>"), std::string::npos);
  const Json j = inspect(html);
  EXPECT_EQ(j["title"], "Relay usage, node 3f1c9a0be55d2c7\xE2\x80\xA6, 2025-10-24 to 2025-11-22");
  EXPECT_EQ(j["h1"], "Relay usage report");
  EXPECT_EQ(j["forbidden"], Json::array());
  EXPECT_EQ(j["linked"], Json::array());
  EXPECT_EQ(j["cards"], Json::parse(R"([["Relayed", "2.30 kB"], ["Cost", "USD 0.000207"],
                                        ["Projected monthly cost", "USD 0.00621"], ["Sessions relayed", "25.0%"]])"));
  EXPECT_EQ(j["svgTitles"], Json({"Cost per day", "Top identities by cost", "Relayed rate per hour"}));
  // Cost per day: one column, for the one day with usage; top identities: two bars; rate: two lines.
  EXPECT_EQ(j["svgRects"], Json({1, 2, 0}));
  EXPECT_EQ(j["svgLines"], Json({0, 0, 2}));
  EXPECT_NE(j["codes"].dump().find("3f1c9a0be55d2c7e8f00112233445566778899aabbccddeeff00112233445566"),
            std::string::npos);
  EXPECT_EQ(j["h2"], Json({"Cost per day", "Top identities by cost", "Relayed rate per hour", "By identity",
                           "Per day", "Allocations ended, by reason"}));
  // Tables: top identities (2), rows (2 + total), per day (1), end reasons (2).
  EXPECT_EQ(j["tables"], Json({2, 3, 1, 2}));
}

TEST(ReportHtml, EmptyWindowShowsEmptyStates) {
  const std::string html = renderHtml(parsed(emptyDocument()));
  expectSelfContained(html);
  const Json j = inspect(html);
  EXPECT_EQ(j["svgs"], 3);
  EXPECT_EQ(j["svgRects"], Json({1, 1, 1}));  // frames only
  EXPECT_EQ(j["svgLines"], Json({0, 0, 0}));
  size_t empties = 0;
  for (const auto& texts : j["svgTexts"])
    for (const auto& t : texts) empties += t.get<std::string>().find("No ") == 0;
  EXPECT_EQ(empties, 3u);
  EXPECT_NE(html.find("No usage in this window."), std::string::npos);
  EXPECT_NE(html.find("no path reports from peers"), std::string::npos);
  EXPECT_EQ(j["cards"][3], Json({"Sessions relayed", "n/a"}));
  EXPECT_EQ(j["title"], "Relay usage, node (no node id), 2025-10-24 to 2025-11-22");
}

TEST(ReportHtml, ManyIdentitiesAndDays) {
  std::vector<IdentityUsage> ids;
  for (int i = 0; i < 40; ++i)
    ids.push_back({"identity-" + std::to_string(i), "gold", 1000000000ull * static_cast<uint64_t>(i + 1), 5000000});
  const std::string html = renderHtml(parsed(documentOf(ids, 0.09)));
  expectSelfContained(html);
  const Json j = inspect(html);
  // 22 days with cost, the top ten identities, 517 hours up to the generation time (noon of the last day).
  EXPECT_EQ(j["svgRects"], Json({22, 10, 0}));
  EXPECT_EQ(j["svgLines"], Json({0, 0, 2}));
  EXPECT_EQ(j["tables"][1], 41);  // 40 rows and the total
  const size_t points = static_cast<size_t>(std::count(html.begin(), html.end(), ','));  // loose upper bound
  EXPECT_GT(points, 2 * 517u);
  EXPECT_EQ(j["cards"][0], Json({"Relayed", "820 GB"}));
  EXPECT_EQ(j["cards"][3], Json({"Sessions relayed", "25.0%"}));
}

TEST(ReportHtml, ZeroPricesChartBytes) {
  const std::string html = renderHtml(parsed(documentOf({{"a", "gold", 3000, 1000}, {"b", "gold", 10, 0}}, 0.0)));
  expectSelfContained(html);
  const Json j = inspect(html);
  EXPECT_EQ(j["svgTitles"], Json({"Relayed bytes per day (all prices are zero)", "Top identities by relayed bytes",
                                  "Relayed rate per hour"}));
  EXPECT_EQ(j["svgRects"], Json({22, 2, 0}));
  EXPECT_NE(html.find("byte share"), std::string::npos);
}

TEST(ReportHtml, HostileIdentitiesAreEscaped) {
  const std::vector<std::string> hostile = {"<script>alert(1)</script>", "\"quoted\" & 'single'",
                                            "</code></td></tr></table><img src=x onerror=alert(1)>",
                                            "ctl\x01" "char", "http://evil.example/a?b=c", "\xC3\xBC" "ber"};
  std::vector<IdentityUsage> ids;
  for (const auto& h : hostile) ids.push_back({h, "<b>class</b>", 1000, 1000});
  const std::string html = renderHtml(parsed(documentOf(ids, 0.09)));
  expectSelfContained(html, /*textMayHoldMarkup=*/true);
  const Json j = inspect(html);
  EXPECT_EQ(j["forbidden"], Json::array());
  EXPECT_EQ(j["linked"], Json::array());
  std::vector<std::string> codes = j["codes"].get<std::vector<std::string>>();
  for (std::string h : hostile) {
    if (h == "ctl\x01" "char") h = "ctl\xEF\xBF\xBD" "char";
    EXPECT_NE(std::find(codes.begin(), codes.end(), h), codes.end()) << h;
  }
}

TEST(ReportHtml, ByDayRowsAndNoDuplicateDailyTable) {
  Json doc = exampleDocument();
  doc["by"] = "day";
  doc["rows"] = Json::array({{{"key", "2025-11-21"}, {"allocations", 3}, {"bytes_to_peer", 1200},
                              {"bytes_to_client", 1100}, {"packets_to_peer", 12}, {"packets_to_client", 11},
                              {"allocation_seconds", 240}, {"cost", 0.000207}, {"identities", 2}}});
  const Json j = inspect(renderHtml(parsed(doc)));
  EXPECT_EQ(j["h2"], Json({"Cost per day", "Top identities by cost", "Relayed rate per hour", "By day",
                           "Allocations ended, by reason"}));
}

TEST(ReportHtml, AbsurdTimesAndLongWindowsDoNotBreakThePage) {
  Json doc = exampleDocument();
  doc["since"] = "1970-01-01";  // too long to chart every day and hour: the listed ones are charted
  doc["until"] = "9999-12-31";
  doc["generated"] = std::numeric_limits<int64_t>::max();
  doc["hourly"] = Json::array({{{"start", std::numeric_limits<int64_t>::max()}, {"bytes_to_peer", 5}, {"bytes_to_client", 1}},
                               {{"start", std::numeric_limits<int64_t>::min()}, {"bytes_to_peer", 7}, {"bytes_to_client", 0}},
                               {{"start", 0}, {"bytes_to_peer", 1}, {"bytes_to_client", 1}}});
  const std::string html = renderHtml(parsed(doc));
  expectSelfContained(html);
  const Json j = inspect(html);
  EXPECT_EQ(j["svgRects"], Json({1, 2, 0}));
  EXPECT_EQ(j["svgLines"], Json({0, 0, 2}));
}

}  // namespace
}  // namespace rdv::report
