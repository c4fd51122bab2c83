#include "rendezvous/cli/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rendezvous/cli/report/format.h"

namespace rdv::report {

namespace {

// Okabe-Ito palette: distinguishable with the common colour-vision deficiencies; both reach 3:1
// against white, WCAG's minimum for graphical objects. Series also differ by dash pattern.
constexpr const char* kBlue = "#0072B2";
constexpr const char* kVermillion = "#D55E00";
constexpr const char* kGrid = "#d0d0d0";
constexpr const char* kInk = "#222222";
constexpr const char* kMuted = "#555555";

constexpr double kWidth = 940;  // the page's content width; narrower screens scale it down
constexpr double kLeft = 118;  // room for tick labels such as "USD 1,000,000.00"
constexpr double kRight = 16;
constexpr double kTop = 14;

std::string num(double v) {
  if (!std::isfinite(v)) v = 0;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string open(const ChartText& t, double height) {
  return "<svg class=\"chart\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) + "\" width=\"" + num(kWidth) +
         "\" height=\"" + num(height) + "\" role=\"img\" aria-labelledby=\"" + t.id + "-title\">\n<title id=\"" + t.id +
         "-title\">" + htmlEscape(t.title) + "</title>\n<g font-family=\"sans-serif\" font-size=\"12\" fill=\"" + kInk +
         "\">\n";
}

std::string close() { return "</g>\n</svg>\n"; }

std::string text(double x, double y, const std::string& content, const char* anchor = "start",
                 const char* fill = nullptr) {
  std::string out = "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\"";
  if (fill) out += std::string(" fill=\"") + fill + "\"";
  return out + ">" + htmlEscape(content) + "</text>\n";
}

std::string emptyChart(const ChartText& t) {
  const double height = 120;
  return open(t, height) + "<rect x=\"0.5\" y=\"0.5\" width=\"" + num(kWidth - 1) + "\" height=\"" +
         num(height - 1) + "\" fill=\"#f7f7f7\" stroke=\"" + kGrid + "\"/>\n" +
         text(kWidth / 2, height / 2 + 4, t.emptyText, "middle", kMuted) + close();
}

bool drawable(const std::vector<double>& values) {
  bool any = false;
  for (double v : values) {
    if (!std::isfinite(v) || v < 0) return false;
    any = any || v > 0;
  }
  return any;
}

double clean(double v) { return std::isfinite(v) && v > 0 ? v : 0; }

// Horizontal grid lines with value labels on the left, for a plot area from `top` to `bottom`.
std::string valueAxis(const ChartText& t, const AxisScale& s, double top, double bottom, double right) {
  std::string out;
  for (int i = 0; i <= s.ticks; ++i) {
    const double y = bottom - (bottom - top) * i / s.ticks;
    out += "<line x1=\"" + num(kLeft) + "\" y1=\"" + num(y) + "\" x2=\"" + num(right) + "\" y2=\"" + num(y) +
           "\" stroke=\"" + (i == 0 ? kMuted : kGrid) + "\" stroke-width=\"1\"/>\n";
    out += text(kLeft - 6, y + 4, t.formatValue(s.step * i), "end", kMuted);
  }
  return out;
}

// At most `maxLabels` evenly spaced indices of n positions, always including the first.
std::vector<size_t> labelIndices(size_t n, size_t maxLabels) {
  std::vector<size_t> out;
  if (n == 0) return out;
  const size_t every = (n + maxLabels - 1) / maxLabels;
  for (size_t i = 0; i < n; i += every) out.push_back(i);
  return out;
}

std::string tooltip(const ChartText& t, const ChartPoint& p) {
  return p.tooltip.empty() ? p.label + ": " + t.formatValue(p.value) : p.tooltip;
}

}  // namespace

AxisScale niceScale(double maxValue, int targetTicks) {
  AxisScale s;
  if (!std::isfinite(maxValue) || maxValue <= 0 || targetTicks < 1) return s;
  const double raw = maxValue / targetTicks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude * 10;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (magnitude * m >= raw * (1 - 1e-12)) {
      step = magnitude * m;
      break;
    }
  }
  s.step = step;
  s.ticks = std::max(1, static_cast<int>(std::ceil(maxValue / step - 1e-9)));
  s.top = s.step * s.ticks;
  return s;
}

std::string truncateText(const std::string& text, size_t columns) {
  if (displayWidth(text) <= columns || columns == 0) return text;
  size_t count = 0;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xc0) != 0x80) {
      if (count == columns - 1) break;
      ++count;
    }
  }
  return text.substr(0, i) + "\xE2\x80\xA6";  // U+2026
}

std::string columnChart(const ChartText& t, const std::vector<ChartPoint>& points) {
  std::vector<double> values;
  for (const auto& p : points) values.push_back(p.value);
  if (!drawable(values)) return emptyChart(t);
  const double height = 260, bottom = height - 34, right = kWidth - kRight;
  const AxisScale s = niceScale(*std::max_element(values.begin(), values.end()));
  std::string out = open(t, height) + valueAxis(t, s, kTop, bottom, right);
  const double band = (right - kLeft) / static_cast<double>(points.size());
  const double barWidth = std::max(1.0, band * 0.8);
  for (size_t i = 0; i < points.size(); ++i) {
    const double h = (bottom - kTop) * clean(points[i].value) / s.top;
    if (h <= 0) continue;
    const double x = kLeft + band * static_cast<double>(i) + (band - barWidth) / 2;
    out += "<rect x=\"" + num(x) + "\" y=\"" + num(bottom - h) + "\" width=\"" + num(barWidth) + "\" height=\"" +
           num(h) + "\" fill=\"" + kBlue + "\"><title>" + htmlEscape(tooltip(t, points[i])) + "</title></rect>\n";
  }
  for (size_t i : labelIndices(points.size(), 8)) {
    out += text(kLeft + band * (static_cast<double>(i) + 0.5), bottom + 18, points[i].label, "middle", kMuted);
  }
  return out + close();
}

std::string barChart(const ChartText& t, const std::vector<ChartPoint>& points) {
  std::vector<double> values;
  for (const auto& p : points) values.push_back(p.value);
  if (!drawable(values)) return emptyChart(t);
  constexpr double kLabelWidth = 250, kRowHeight = 26, kValueRoom = 130;
  const double height = kTop + kRowHeight * static_cast<double>(points.size()) + 8;
  const double left = kLabelWidth, right = kWidth - kValueRoom;
  const double top = *std::max_element(values.begin(), values.end());
  std::string out = open(t, height);
  for (size_t i = 0; i < points.size(); ++i) {
    const double y = kTop + kRowHeight * static_cast<double>(i);
    const double w = (right - left) * clean(points[i].value) / top;
    out += "<g><title>" + htmlEscape(tooltip(t, points[i])) + "</title>\n";
    out += text(left - 8, y + 16, truncateText(points[i].label, 28), "end");
    out += "<rect x=\"" + num(left) + "\" y=\"" + num(y + 3) + "\" width=\"" + num(std::max(w, 1.0)) +
           "\" height=\"" + num(kRowHeight - 8) + "\" fill=\"" + kBlue + "\"/>\n";
    out += text(left + std::max(w, 1.0) + 6, y + 16, t.formatValue(points[i].value), "start", kMuted) + "</g>\n";
  }
  out += "<line x1=\"" + num(left) + "\" y1=\"" + num(kTop) + "\" x2=\"" + num(left) + "\" y2=\"" +
         num(height - 8) + "\" stroke=\"" + kMuted + "\"/>\n";
  return out + close();
}

std::string lineChart(const ChartText& t, const std::vector<std::string>& xLabels,
                      const std::vector<ChartSeries>& series) {
  std::vector<double> all;
  for (const auto& s : series) all.insert(all.end(), s.values.begin(), s.values.end());
  const size_t n = xLabels.size();
  bool shapesAgree = n > 0;
  for (const auto& s : series) shapesAgree = shapesAgree && s.values.size() == n;
  if (!shapesAgree || !drawable(all)) return emptyChart(t);
  const double height = 280, legendY = 16, top = 34, bottom = height - 34, right = kWidth - kRight;
  const AxisScale scale = niceScale(*std::max_element(all.begin(), all.end()));
  std::string out = open(t, height) + valueAxis(t, scale, top, bottom, right);
  auto xAt = [&](size_t i) {
    return n == 1 ? (kLeft + right) / 2 : kLeft + (right - kLeft) * static_cast<double>(i) / static_cast<double>(n - 1);
  };
  static constexpr const char* kColours[] = {kBlue, kVermillion};
  static constexpr const char* kDashes[] = {"", "6 4"};
  double legendX = kLeft;
  for (size_t k = 0; k < series.size(); ++k) {
    const char* colour = kColours[k % 2];
    const std::string dash = kDashes[k % 2][0] ? std::string(" stroke-dasharray=\"") + kDashes[k % 2] + "\"" : "";
    std::string pts;
    for (size_t i = 0; i < n; ++i) {
      const double y = bottom - (bottom - top) * clean(series[k].values[i]) / scale.top;
      pts += (i ? " " : "") + num(xAt(i)) + "," + num(y);
    }
    out += "<g><title>" + htmlEscape(series[k].name) + "</title>\n";
    if (n == 1) {
      const double y = bottom - (bottom - top) * clean(series[k].values[0]) / scale.top;
      out += "<circle cx=\"" + num(xAt(0)) + "\" cy=\"" + num(y) + "\" r=\"4\" fill=\"" + colour + "\"/>\n";
    } else {
      out += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" + dash +
             " stroke-linejoin=\"round\"/>\n";
    }
    out += "</g>\n";
    out += "<line x1=\"" + num(legendX) + "\" y1=\"" + num(legendY - 4) + "\" x2=\"" + num(legendX + 26) + "\" y2=\"" +
           num(legendY - 4) + "\" stroke=\"" + colour + "\" stroke-width=\"2\"" + dash + "/>\n";
    out += text(legendX + 32, legendY, series[k].name);
    legendX += 40 + 8 * static_cast<double>(displayWidth(series[k].name)) + 24;
  }
  for (size_t i : labelIndices(n, 7)) out += text(xAt(i), bottom + 18, xLabels[i], "middle", kMuted);
  return out + close();
}

}  // namespace rdv::report
