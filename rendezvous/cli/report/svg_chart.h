// Inline SVG charts for the HTML report: columns over time (cost per day), ranked horizontal bars
// (top identities) and lines over time (relayed rate). Pure functions returning an <svg> element
// (XML well-formed, no scripts, no external references) with an accessible title; data that is empty,
// all zero or not finite gives an empty-state chart carrying `emptyText` instead of a scale.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace rdv::report {

struct ChartText {
  std::string id;         // unique within the page, [a-z0-9-]
  std::string title;      // the chart's accessible name
  std::string emptyText;  // shown when there is nothing to draw
  std::function<std::string(double)> formatValue;  // tick labels and value tooltips
};

struct ChartPoint {
  std::string label;    // x label (column chart), row label (bar chart)
  double value = 0;
  std::string tooltip;  // <title> of the mark; empty: "label: formatValue(value)"
};

struct ChartSeries {
  std::string name;
  std::vector<double> values;  // one per x position
};

// A "nice" linear axis covering [0, maxValue]: step is 1, 2, 2.5 or 5 times a power of ten and
// top = ticks * step >= maxValue. maxValue must be finite and > 0.
struct AxisScale {
  double top = 1;
  double step = 0.25;
  int ticks = 4;
};
AxisScale niceScale(double maxValue, int targetTicks = 4);

std::string columnChart(const ChartText& text, const std::vector<ChartPoint>& points);
std::string barChart(const ChartText& text, const std::vector<ChartPoint>& points);
// xLabels: one per x position (sparse labels are picked from it); every series has that many values.
std::string lineChart(const ChartText& text, const std::vector<std::string>& xLabels,
                      const std::vector<ChartSeries>& series);

// Cuts UTF-8 text to at most `columns` code points, ending with an ellipsis when cut.
std::string truncateText(const std::string& text, size_t columns);

}  // namespace rdv::report
