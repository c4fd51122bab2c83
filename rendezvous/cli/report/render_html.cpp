// The html format: one self-contained page an operator can open or mail. Polyglot markup (every
// element closed, only XML's predefined entities) so it is well-formed XML as well as HTML; inline
// CSS and SVG; no scripts, fonts, images or links to anything outside the page.
#include <algorithm>
#include <map>
#include <vector>

#include "rendezvous/cli/report/format.h"
#include "rendezvous/cli/report/render.h"
#include "rendezvous/cli/report/svg_chart.h"

namespace rdv::report {

namespace {

constexpr int64_t kMaxChartDays = 3660;     // a window longer than this charts only the days with usage
constexpr int64_t kMaxChartHours = 24 * 93;  // longer: only the hours the document lists

constexpr const char* kStyle = R"(
body { margin: 0; background: #ffffff; color: #1a1a1a; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
main { max-width: 940px; margin: 0 auto; padding: 24px 20px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 2px solid #0072B2; padding-bottom: 4px; }
.sub { color: #444444; margin: 0; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; word-break: break-all; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 20px 0 8px; }
.card { flex: 1 1 160px; border: 1px solid #c8d3dc; border-left: 6px solid #0072B2; border-radius: 6px; padding: 10px 14px; background: #f5f8fa; }
.card .label { color: #444444; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; }
.card .value { font-size: 24px; font-weight: 700; margin: 2px 0; }
.card .note { color: #444444; font-size: 13px; }
svg.chart { width: 100%; max-width: 940px; height: auto; display: block; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 14px; }
th, td { border-bottom: 1px solid #dddddd; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #eef3f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid #888888; }
caption { caption-side: bottom; text-align: left; color: #444444; font-size: 13px; padding-top: 4px; }
.empty { color: #444444; font-style: italic; }
footer { margin-top: 36px; color: #444444; font-size: 13px; }
@media print { main { max-width: none; } h2 { break-after: avoid; } svg.chart, table { break-inside: avoid; } }
)";

std::string esc(std::string_view s) { return htmlEscape(s); }

std::string card(const std::string& label, const std::string& value, const std::string& note) {
  return "<div class=\"card\"><div class=\"label\">" + esc(label) + "</div><div class=\"value\">" + esc(value) +
         "</div><div class=\"note\">" + esc(note) + "</div></div>\n";
}

// One table: header cells (name, numeric), body rows of already-escaped cells.
std::string table(const std::string& caption, const std::vector<std::pair<std::string, bool>>& columns,
                  const std::vector<std::vector<std::string>>& rows, const std::vector<std::string>& total = {}) {
  std::string out = "<table>\n<caption>" + esc(caption) + "</caption>\n<thead><tr>";
  for (const auto& [name, numeric] : columns)
    out += std::string("<th scope=\"col\"") + (numeric ? " class=\"num\"" : "") + ">" + esc(name) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  auto line = [&](const std::vector<std::string>& cells, const char* cls) {
    out += std::string("<tr") + cls + ">";
    for (size_t c = 0; c < columns.size(); ++c)
      out += std::string("<td") + (columns[c].second ? " class=\"num\"" : "") + ">" +
             (c < cells.size() ? cells[c] : "") + "</td>";
    out += "</tr>\n";
  };
  for (const auto& r : rows) line(r, "");
  if (!total.empty()) line(total, " class=\"total\"");
  return out + "</tbody>\n</table>\n";
}

std::string headline(const UsageDocument& d) {
  const Usage& t = d.totals;
  const uint64_t sessions = d.sessionsDirect + d.sessionsRelayed;
  std::string out = "<section class=\"cards\" aria-label=\"Headline numbers\">\n";
  out += card("Relayed", formatBytes(t.bytes()),
              formatCount(t.bytes()) + " bytes: to peer " + formatBytes(t.bytesToPeer) + ", to client " +
                  formatBytes(t.bytesToClient));
  out += card("Cost", formatMoney(t.cost, d.currency),
              formatCount(t.allocations) + " allocations, " + formatDuration(t.allocationSeconds) + " allocated");
  out += card("Projected monthly cost", formatMoney(d.projectedMonthlyCost, d.currency),
              "the last " + describeBasis(d) +
                  " scaled to 30 days");
  out += card("Sessions relayed",
              sessions ? formatShare(share(static_cast<double>(d.sessionsRelayed), static_cast<double>(sessions)))
                       : "n/a",
              sessions ? formatCount(d.sessionsRelayed) + " relayed, " + formatCount(d.sessionsDirect) +
                             " direct (peers' path reports)"
                       : "no path reports from peers");
  return out + "</section>\n";
}

// Cost per day over the whole window (days without usage are zero); relayed bytes when every price is zero.
std::string dailyChart(const UsageDocument& d) {
  const bool byCost = !pricesAreZero(d);
  std::map<std::string, const Day*> byDay;
  for (const auto& day : d.daily) byDay[day.day] = &day;
  std::vector<std::string> days;
  const auto first = parseDay(d.since), last = parseDay(d.until);
  if (first && last && *last >= *first && *last - *first < kMaxChartDays) {
    for (int64_t z = *first; z <= *last; ++z) days.push_back(formatDay(z));
  } else {
    for (const auto& [day, _] : byDay) days.push_back(day);
  }
  std::vector<ChartPoint> points;
  for (const auto& day : days) {
    auto it = byDay.find(day);
    double v = 0;
    if (it != byDay.end())
      v = byCost ? it->second->cost : static_cast<double>(it->second->bytesToPeer + it->second->bytesToClient);
    const std::string text = byCost ? formatMoney(v, d.currency) : formatBytes(static_cast<uint64_t>(v));
    points.push_back({day.substr(5), v, day + ": " + text});
  }
  ChartText t{"chart-daily", byCost ? "Cost per day" : "Relayed bytes per day (all prices are zero)",
              "No relayed traffic in this window", nullptr};
  if (byCost) {
    t.formatValue = [cur = d.currency](double v) { return formatMoney(v, cur); };
  } else {
    t.formatValue = [](double v) { return formatBytes(static_cast<uint64_t>(v)); };
  }
  return "<h2>" + esc(t.title) + "</h2>\n" + columnChart(t, points);
}

std::string topIdentitiesSection(const UsageDocument& d) {
  const bool byCost = !pricesAreZero(d);
  std::vector<ChartPoint> points;
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < d.topIdentities.size(); ++i) {
    const auto& ti = d.topIdentities[i];
    const double v = byCost ? ti.cost : static_cast<double>(ti.bytes);
    points.push_back({ti.identity, v,
                      ti.identity + " (" + ti.quotaClass + "): " + formatBytes(ti.bytes) + ", " +
                          formatMoney(ti.cost, d.currency)});
    rows.push_back({std::to_string(i + 1), "<code>" + esc(ti.identity) + "</code>", esc(ti.quotaClass),
                    esc(formatBytes(ti.bytes)), esc(formatMoney(ti.cost, d.currency))});
  }
  ChartText t{"chart-top", byCost ? "Top identities by cost" : "Top identities by relayed bytes",
              "No identity relayed anything in this window", nullptr};
  if (byCost) {
    t.formatValue = [cur = d.currency](double v) { return formatMoney(v, cur); };
  } else {
    t.formatValue = [](double v) { return formatBytes(static_cast<uint64_t>(v)); };
  }
  std::string out = "<h2>" + esc(t.title) + "</h2>\n" + barChart(t, points);
  if (!rows.empty())
    out += table("Up to ten identities with the highest cost in the window.",
                 {{"#", true}, {"identity", false}, {"class", false}, {"relayed", true}, {"cost", true}}, rows);
  return out;
}

// Relayed rate per hour (bits per second averaged over the hour), to peer and to client.
std::string rateChart(const UsageDocument& d) {
  std::map<int64_t, const Hour*> byStart;
  for (const auto& h : d.hourly) byStart[h.start] = &h;
  std::vector<int64_t> starts;
  const auto first = parseDay(d.since), last = parseDay(d.until);
  if (first && last && *last >= *first && (*last - *first + 1) * 24 <= kMaxChartHours) {
    // The window's hours up to the document's generation time (later hours have not happened yet).
    for (int64_t s = *first * 86400; s < (*last + 1) * 86400 && s <= std::max(d.generated, *first * 86400); s += 3600)
      starts.push_back(s);
  } else {
    for (const auto& [s, _] : byStart) starts.push_back(s);
  }
  std::vector<std::string> labels;
  ChartSeries toPeer{"to peer", {}}, toClient{"to client", {}};
  for (int64_t s : starts) {
    const std::string stamp = formatTimestamp(s);  // "YYYY-MM-DD HH:MM UTC", or "?" for absurd times
    labels.push_back(stamp.size() >= 16 ? stamp.substr(5, 11) : stamp);  // "MM-DD HH:MM"
    auto it = byStart.find(s);
    toPeer.values.push_back(it == byStart.end() ? 0 : static_cast<double>(it->second->bytesToPeer) * 8 / 3600);
    toClient.values.push_back(it == byStart.end() ? 0 : static_cast<double>(it->second->bytesToClient) * 8 / 3600);
  }
  ChartText t{"chart-rate", "Relayed rate per hour", "No relayed traffic in this window",
              [](double v) { return formatRate(v); }};
  return "<h2>" + esc(t.title) + "</h2>\n" + lineChart(t, labels, {toPeer, toClient}) +
         "<p class=\"sub\">Average over each UTC hour, in bits per second.</p>\n";
}

std::string rowsSection(const UsageDocument& d) {
  const std::string by(toString(d.by));
  std::string out = "<h2>By " + esc(by) + "</h2>\n";
  if (d.rows.empty()) return out + "<p class=\"empty\">No usage in this window.</p>\n";
  std::vector<std::pair<std::string, bool>> columns{{by, false},
                                                    {d.by == GroupBy::Identity ? "class" : "identities",
                                                     d.by != GroupBy::Identity},
                                                    {"allocations", true},
                                                    {"to peer", true},
                                                    {"to client", true},
                                                    {"allocated", true},
                                                    {"cost", true},
                                                    {sharesByCost(d) ? "cost share" : "byte share", true}};
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : d.rows) {
    const Usage& u = r.usage;
    rows.push_back({d.by == GroupBy::Identity ? "<code>" + esc(r.key) + "</code>" : esc(r.key),
                    d.by == GroupBy::Identity ? esc(r.quotaClass.value_or(""))
                                              : (r.identities ? formatCount(*r.identities) : ""),
                    formatCount(u.allocations), esc(formatBytes(u.bytesToPeer)), esc(formatBytes(u.bytesToClient)),
                    esc(formatDuration(u.allocationSeconds)), esc(formatMoney(u.cost, d.currency)),
                    esc(formatShare(rowShare(d, u)))});
  }
  const Usage& t = d.totals;
  return out + table("Bytes in SI units (1 GB = 10^9 bytes). Allocated: allocation time.", columns, rows,
                     {"total", "", formatCount(t.allocations), esc(formatBytes(t.bytesToPeer)),
                      esc(formatBytes(t.bytesToClient)), esc(formatDuration(t.allocationSeconds)),
                      esc(formatMoney(t.cost, d.currency)), ""});
}

std::string detailsSection(const UsageDocument& d) {
  std::string out;
  if (d.by != GroupBy::Day && !d.daily.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& day : d.daily)
      rows.push_back({esc(day.day), formatCount(day.allocations), esc(formatBytes(day.bytesToPeer)),
                      esc(formatBytes(day.bytesToClient)), esc(formatMoney(day.cost, d.currency))});
    out += "<h2>Per day</h2>\n" + table("Days of the window with usage.",
                                        {{"day", false},
                                         {"allocations", true},
                                         {"to peer", true},
                                         {"to client", true},
                                         {"cost", true}},
                                        rows);
  }
  out += "<h2>Allocations ended, by reason</h2>\n";
  if (d.endReasons.empty()) return out + "<p class=\"empty\">No allocation ended in this window.</p>\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& [reason, n] : d.endReasons) rows.push_back({esc(reason), formatCount(n)});
  return out + table("Why allocations ended.", {{"reason", false}, {"allocations", true}}, rows);
}

}  // namespace

std::string renderHtml(const UsageDocument& d) {
  const std::string node = d.node.empty() ? std::string("(no node id)") : d.node;
  const std::string shortNode = truncateText(node, 16);
  const std::string window = d.since + " to " + d.until;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  out += "<title>Relay usage, node " + esc(shortNode) + ", " + esc(window) + "</title>\n";
  out += std::string("<style>") + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  out += "<header>\n<h1>Relay usage report</h1>\n<p class=\"sub\">Node <code>" + esc(node) + "</code></p>\n";
  out += "<p class=\"sub\">" + esc(window) + " (" + std::to_string(windowDays(d)) + " days, UTC), generated " +
         esc(formatTimestamp(d.generated)) + "</p>\n</header>\n";
  out += headline(d);
  out += dailyChart(d);
  out += topIdentitiesSection(d);
  out += rateChart(d);
  out += rowsSection(d);
  out += detailsSection(d);
  out += "<footer>\n<p>Prices: " + esc(formatMoney(d.prices.perGbToPeer, d.currency)) + " per GB to peer, " +
         esc(formatMoney(d.prices.perGbToClient, d.currency)) + " per GB to client, " +
         esc(formatMoney(d.prices.perAllocationHour, d.currency)) +
         " per allocation-hour. 1 GB = 10^9 bytes. Projected monthly cost: the cost of the last " +
         esc(describeBasis(d)) +
         " scaled to 30 days.</p>\n<p>Made by rdv report from the node's usage ledger (GET /v1/usage).</p>\n</footer>\n";
  return out + "</main>\n</body>\n</html>\n";
}

}  // namespace rdv::report
