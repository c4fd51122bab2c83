// The SVG charts: scales, marks inside the view box, no NaN, empty states.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>

#include "rendezvous/cli/report/format.h"
#include "rendezvous/cli/report/svg_chart.h"

namespace rdv::report {
namespace {

ChartText money(const std::string& id) {
  return {id, "Cost per day", "Nothing to show", [](double v) { return formatMoney(v, "USD"); }};
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every coordinate is a finite number inside the chart's view box.
void expectSaneGeometry(const std::string& svg) {
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex(R"re(viewBox="0 0 ([0-9.]+) ([0-9.]+)")re"))) << svg;
  const double w = std::stod(m[1]), h = std::stod(m[2]);
  std::regex attr(R"re(\b(x|y|x1|y1|x2|y2|cx|cy|width|height|r)="([^"]*)")re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), attr); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1], value = (*it)[2];
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    ASSERT_TRUE(end && *end == '\0' && std::isfinite(v)) << name << "=" << value;
    const bool vertical = name[0] == 'y' || name == "cy" || name == "height";
    EXPECT_GE(v, 0) << name << "=" << value;
    EXPECT_LE(v, vertical ? h : w) << name << "=" << value;
  }
  std::regex points(R"re(points="([^"]*)")re");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), points); it != std::sregex_iterator(); ++it) {
    std::string list = (*it)[1];
    std::regex pair(R"re((-?[0-9.]+),(-?[0-9.]+))re");
    size_t pairs = 0;
    for (auto p = std::sregex_iterator(list.begin(), list.end(), pair); p != std::sregex_iterator(); ++p, ++pairs) {
      const double x = std::stod((*p)[1]), y = std::stod((*p)[2]);
      EXPECT_TRUE(x >= 0 && x <= w && y >= 0 && y <= h) << (*p)[0];
    }
    EXPECT_GT(pairs, 0u);
  }
  std::string lower = svg;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_FALSE(std::regex_search(lower, std::regex(R"re(\bnan\b|\binf\b)re"))) << svg;
}

TEST(SvgChart, NiceScales) {
  auto s = niceScale(7);
  EXPECT_DOUBLE_EQ(s.step, 2);
  EXPECT_DOUBLE_EQ(s.top, 8);
  s = niceScale(100);
  EXPECT_DOUBLE_EQ(s.step, 25);
  EXPECT_DOUBLE_EQ(s.top, 100);
  EXPECT_EQ(s.ticks, 4);
  s = niceScale(0.000207);
  EXPECT_GE(s.top, 0.000207);
  EXPECT_LE(s.top, 0.000207 * 2);
  s = niceScale(1.8e19);
  EXPECT_TRUE(std::isfinite(s.top));
  EXPECT_GE(s.top, 1.8e19);
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    s = niceScale(bad);
    EXPECT_DOUBLE_EQ(s.top, 1);
    EXPECT_GT(s.step, 0);
  }
  for (double v = 0.001; v < 1e12; v *= 3.7) {
    s = niceScale(v);
    EXPECT_GE(s.top, v);
    EXPECT_LE(s.top, v * 2.5 + 1e-12) << v;
    EXPECT_LE(s.ticks, 8) << v;
  }
}

TEST(SvgChart, ColumnsOnePerNonZeroPoint) {
  std::vector<ChartPoint> pts{{"11-01", 0.5, ""}, {"11-02", 0, ""}, {"11-03", 2.25, ""}, {"11-04", 1, ""}};
  const std::string svg = columnChart(money("c"), pts);
  expectSaneGeometry(svg);
  EXPECT_EQ(count(svg, "<rect "), 3u);
  EXPECT_NE(svg.find("<title id=\"c-title\">Cost per day</title>"), std::string::npos);
  EXPECT_NE(svg.find("aria-labelledby=\"c-title\""), std::string::npos);
  EXPECT_NE(svg.find("11-03: USD 2.25"), std::string::npos);  // tooltip
  EXPECT_NE(svg.find(">USD 3.00</text>"), std::string::npos);  // top tick of a 0..3 axis, step 1
  EXPECT_EQ(svg.find("Nothing to show"), std::string::npos);
}

TEST(SvgChart, EmptyDataGivesAnEmptyState) {
  for (const auto& pts : std::vector<std::vector<ChartPoint>>{
           {}, {{"a", 0, ""}, {"b", 0, ""}}, {{"a", std::numeric_limits<double>::quiet_NaN(), ""}}}) {
    const std::string col = columnChart(money("e"), pts);
    const std::string bar = barChart(money("e"), pts);
    for (const auto& svg : {col, bar}) {
      expectSaneGeometry(svg);
      EXPECT_NE(svg.find("Nothing to show"), std::string::npos);
      EXPECT_EQ(count(svg, "<rect "), 1u);  // the frame only
    }
  }
  const std::string line = lineChart(money("l"), {}, {{"to peer", {}}});
  expectSaneGeometry(line);
  EXPECT_NE(line.find("Nothing to show"), std::string::npos);
  EXPECT_EQ(line.find("<polyline"), std::string::npos);
}

TEST(SvgChart, ManyColumnsStayInsideAndLabelsAreSparse) {
  std::vector<ChartPoint> pts;
  for (int i = 0; i < 366; ++i) pts.push_back({"d" + std::to_string(i), static_cast<double>(i % 7) * 1e12, ""});
  const std::string svg = columnChart(money("m"), pts);
  expectSaneGeometry(svg);
  const std::regex label(R"re(>d[0-9]+</text>)re");
  const auto labels = std::distance(std::sregex_iterator(svg.begin(), svg.end(), label), std::sregex_iterator());
  EXPECT_GE(labels, 6);  // x labels: a few, not 366
  EXPECT_LE(labels, 9);
}

TEST(SvgChart, BarsAreRankedLabelledAndEscaped) {
  std::vector<ChartPoint> pts{{"<script>alert(1)</script>", 3, ""},
                              {"a-very-long-identity-name-that-does-not-fit-the-label-column", 2, ""},
                              {"\xC3\xBC" "ber", 1, ""}};
  const std::string svg = barChart(money("b"), pts);
  expectSaneGeometry(svg);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a-very-long-identity-name-t\xE2\x80\xA6"), std::string::npos);
  EXPECT_NE(svg.find("\xC3\xBC" "ber"), std::string::npos);
  EXPECT_EQ(count(svg, "<rect "), 3u);
}

TEST(SvgChart, LinesHaveOnePointPerPositionAndALegend) {
  std::vector<std::string> labels;
  ChartSeries a{"to peer", {}}, b{"to client", {}};
  for (int i = 0; i < 48; ++i) {
    labels.push_back("h" + std::to_string(i));
    a.values.push_back(i * 1000.0);
    b.values.push_back(i % 2 ? 5e5 : 0);
  }
  const std::string svg = lineChart({"r", "Rate", "none", [](double v) { return formatRate(v); }}, labels, {a, b});
  expectSaneGeometry(svg);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  std::smatch m;
  const std::string first = svg.substr(svg.find("points=\""));
  ASSERT_TRUE(std::regex_search(first, m, std::regex(R"re(points="([^"]*)")re")));
  EXPECT_EQ(count(m[1], ","), 48u);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);  // series differ by more than colour
  EXPECT_NE(svg.find(">to peer<"), std::string::npos);
  EXPECT_NE(svg.find(">to client<"), std::string::npos);

  const std::string single = lineChart({"s", "Rate", "none", [](double v) { return formatRate(v); }}, {"h0"},
                                       {{"to peer", {8000}}});
  expectSaneGeometry(single);
  EXPECT_NE(single.find("<circle"), std::string::npos);

  EXPECT_NE(lineChart({"x", "Rate", "none", nullptr}, {"h0", "h1"}, {{"to peer", {1}}}).find("none"),
            std::string::npos);  // series shorter than the labels: empty state, not a crash
}

TEST(SvgChart, TruncateKeepsUtf8Whole) {
  EXPECT_EQ(truncateText("short", 10), "short");
  EXPECT_EQ(truncateText("abcdefghij", 5), "abcd\xE2\x80\xA6");
  EXPECT_EQ(truncateText("\xC3\xBC\xC3\xBC\xC3\xBC\xC3\xBC", 3), "\xC3\xBC\xC3\xBC\xE2\x80\xA6");
}

}  // namespace
}  // namespace rdv::report
