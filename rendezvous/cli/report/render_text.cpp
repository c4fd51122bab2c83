// The json, table and csv formats.
#include <algorithm>
#include <vector>

#include "rendezvous/cli/report/format.h"
#include "rendezvous/cli/report/render.h"

namespace rdv::report {

namespace {

// A plain-text table: columns separated by two spaces, numbers right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::pair<std::string, bool>> columns) : columns_(std::move(columns)) {}
  void add(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  std::string str(const std::string& indent) const {
    std::vector<size_t> width(columns_.size(), 0);
    for (size_t c = 0; c < columns_.size(); ++c) width[c] = displayWidth(columns_[c].first);
    for (const auto& row : rows_)
      for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], displayWidth(row[c]));
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l = indent;
      for (size_t c = 0; c < columns_.size(); ++c) {
        const std::string cell = c < cells.size() ? cells[c] : "";
        const std::string pad(width[c] - displayWidth(cell), ' ');
        l += (c ? "  " : "") + (columns_[c].second ? pad + cell : cell + (c + 1 < columns_.size() ? pad : ""));
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    };
    std::vector<std::string> header;
    for (const auto& col : columns_) header.push_back(col.first);
    line(header);
    for (const auto& row : rows_) line(row);
    return out;
  }

 private:
  std::vector<std::pair<std::string, bool>> columns_;  // name, right-aligned
  std::vector<std::vector<std::string>> rows_;
};

std::string keyColumn(GroupBy by) { return std::string(toString(by)); }

std::string sessionsLine(const UsageDocument& d) {
  const uint64_t total = d.sessionsDirect + d.sessionsRelayed;
  if (total == 0) return "no path reports from peers in this window";
  const auto t = static_cast<double>(total);
  return formatCount(total) + " reported: " + formatCount(d.sessionsRelayed) + " relayed (" +
         formatShare(share(static_cast<double>(d.sessionsRelayed), t)) + "), " + formatCount(d.sessionsDirect) +
         " direct (" + formatShare(share(static_cast<double>(d.sessionsDirect), t)) + ")";
}

std::string endReasonsLine(const UsageDocument& d) {
  if (d.endReasons.empty()) return "none";
  std::string out;
  for (const auto& [reason, n] : d.endReasons) out += (out.empty() ? "" : ", ") + printable(reason) + " " + formatCount(n);
  return out;
}

}  // namespace

std::optional<Format> parseFormat(std::string_view text) {
  if (text == "table") return Format::Table;
  if (text == "json") return Format::Json;
  if (text == "csv") return Format::Csv;
  if (text == "html") return Format::Html;
  return std::nullopt;
}

bool sharesByCost(const UsageDocument& doc) { return doc.totals.cost > 0; }

bool pricesAreZero(const UsageDocument& doc) {
  return doc.prices.perGbToPeer == 0 && doc.prices.perGbToClient == 0 && doc.prices.perAllocationHour == 0;
}

std::optional<double> rowShare(const UsageDocument& doc, const Usage& row) {
  if (sharesByCost(doc)) return share(row.cost, doc.totals.cost);
  return share(static_cast<double>(row.bytes()), static_cast<double>(doc.totals.bytes()));
}

std::string describeBasis(const UsageDocument& doc) {
  const int64_t s = std::max<int64_t>(doc.projectionBasisSeconds, 0);
  if (s > 0 && s % 3600 == 0) return std::to_string(s / 3600) + " h";
  return formatDuration(static_cast<uint64_t>(s));
}

int64_t windowDays(const UsageDocument& doc) {
  auto a = parseDay(doc.since), b = parseDay(doc.until);
  return a && b && *b >= *a ? *b - *a + 1 : 0;
}

std::string renderJson(const UsageDocument& doc) { return doc.raw.dump(2) + "\n"; }

std::string renderTable(const UsageDocument& d) {
  const std::string& cur = d.currency;
  std::string out = "Relay usage report, node " + (d.node.empty() ? std::string("(no node id)") : printable(d.node)) + "\n";
  out += "window       " + d.since + " to " + d.until + " (" + std::to_string(windowDays(d)) +
         " days, UTC), generated " + formatTimestamp(d.generated) + "\n";
  out += "prices       " + formatMoney(d.prices.perGbToPeer, cur) + " per GB to peer, " +
         formatMoney(d.prices.perGbToClient, cur) + " per GB to client, " +
         formatMoney(d.prices.perAllocationHour, cur) + " per allocation-hour\n\n";
  const Usage& t = d.totals;
  out += "relayed      " + formatBytes(t.bytes()) + " (" + formatCount(t.bytes()) + " bytes: to peer " +
         formatCount(t.bytesToPeer) + ", to client " + formatCount(t.bytesToClient) + ")\n";
  out += "packets      " + formatCount(t.packetsToPeer + t.packetsToClient) + " (to peer " +
         formatCount(t.packetsToPeer) + ", to client " + formatCount(t.packetsToClient) + ")\n";
  out += "allocations  " + formatCount(t.allocations) + " (" + formatDuration(t.allocationSeconds) + " allocated)\n";
  out += "cost         " + formatMoney(t.cost, cur) + "\n";
  out += "projected    " + formatMoney(d.projectedMonthlyCost, cur) + " per 30 days at the rate of the last " +
         describeBasis(d) + "\n";
  out += "sessions     " + sessionsLine(d) + "\n";
  out += "end reasons  " + endReasonsLine(d) + "\n";

  if (!d.topIdentities.empty()) {
    TextTable top({{"#", true}, {"identity", false}, {"class", false}, {"relayed", true}, {"cost", true}});
    for (size_t i = 0; i < d.topIdentities.size(); ++i) {
      const auto& ti = d.topIdentities[i];
      top.add({std::to_string(i + 1), printable(ti.identity), printable(ti.quotaClass), formatBytes(ti.bytes),
               formatMoney(ti.cost, cur)});
    }
    out += "\ntop identities\n" + top.str("  ");
  }

  out += "\nby " + keyColumn(d.by) + " (" + formatCount(d.rows.size()) + " rows)\n";
  if (d.rows.empty()) return out + "  no usage in this window\n";
  std::vector<std::pair<std::string, bool>> columns{{keyColumn(d.by), false}};
  if (d.by == GroupBy::Identity) {
    columns.emplace_back("class", false);
  } else {
    columns.emplace_back("identities", true);
  }
  for (const char* c : {"allocations", "to peer", "to client", "allocated", "cost"}) columns.emplace_back(c, true);
  columns.emplace_back(sharesByCost(d) ? "cost share" : "byte share", true);
  TextTable rows(std::move(columns));
  for (const auto& r : d.rows) {
    rows.add({printable(r.key),
              d.by == GroupBy::Identity ? printable(r.quotaClass.value_or(""))
                                        : (r.identities ? formatCount(*r.identities) : std::string()),
              formatCount(r.usage.allocations), formatBytes(r.usage.bytesToPeer), formatBytes(r.usage.bytesToClient),
              formatDuration(r.usage.allocationSeconds), formatMoney(r.usage.cost, cur),
              formatShare(rowShare(d, r.usage))});
  }
  rows.add({"total", "", formatCount(t.allocations), formatBytes(t.bytesToPeer), formatBytes(t.bytesToClient),
            formatDuration(t.allocationSeconds), formatMoney(t.cost, cur), ""});
  return out + rows.str("  ");
}

std::string renderCsv(const UsageDocument& d) {
  const std::string crlf = "\r\n";
  std::string out = csvField(keyColumn(d.by)) + (d.by == GroupBy::Identity ? ",class" : ",identities") +
                    ",allocations,bytes_to_peer,bytes_to_client,packets_to_peer,packets_to_client,"
                    "allocation_seconds,cost,currency" +
                    crlf;
  for (const auto& r : d.rows) {
    const Usage& u = r.usage;
    out += csvField(r.key) + "," +
           (d.by == GroupBy::Identity ? csvField(r.quotaClass.value_or(""))
                                      : (r.identities ? std::to_string(*r.identities) : std::string())) +
           "," + std::to_string(u.allocations) + "," + std::to_string(u.bytesToPeer) + "," +
           std::to_string(u.bytesToClient) + "," + std::to_string(u.packetsToPeer) + "," +
           std::to_string(u.packetsToClient) + "," + std::to_string(u.allocationSeconds) + "," +
           formatDecimal(u.cost) + "," + csvField(d.currency) + crlf;
  }
  return out;
}

std::string render(const UsageDocument& doc, Format format) {
  switch (format) {
    case Format::Table:
      return renderTable(doc);
    case Format::Json:
      return renderJson(doc);
    case Format::Csv:
      return renderCsv(doc);
    case Format::Html:
      return renderHtml(doc);
  }
  return renderTable(doc);
}

}  // namespace rdv::report
