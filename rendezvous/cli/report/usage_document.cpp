#include "rendezvous/cli/report/usage_document.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>

namespace rdv::report {

namespace {

using Json = nlohmann::json;

// Reads fields of one JSON object, remembering the first problem with its path; later reads after
// a problem are no-ops, so a parser reads like the document's shape and checks once at the end.
class Reader {
 public:
  explicit Reader(std::string& error) : error_(error) {}

  bool failed() const { return !error_.empty(); }

  const Json* field(const Json& obj, const std::string& path, const char* key, bool required) {
    if (failed()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) fail(path, key, "missing");
      return nullptr;
    }
    return &*it;
  }

  void count(const Json& obj, const std::string& path, const char* key, uint64_t& out, bool required = true) {
    const Json* v = field(obj, path, key, required);
    if (!v) return;
    if (v->is_number_unsigned()) {
      out = v->get<uint64_t>();
    } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
      out = static_cast<uint64_t>(v->get<int64_t>());
    } else {
      fail(path, key, "not a non-negative integer");
    }
  }

  void integer(const Json& obj, const std::string& path, const char* key, int64_t& out, bool required = true) {
    const Json* v = field(obj, path, key, required);
    if (!v) return;
    if (v->is_number_integer() && !(v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX))) {
      out = v->get<int64_t>();
    } else {
      fail(path, key, "not an integer");
    }
  }

  void money(const Json& obj, const std::string& path, const char* key, double& out, bool required = true) {
    const Json* v = field(obj, path, key, required);
    if (!v) return;
    if (v->is_number() && std::isfinite(v->get<double>()) && v->get<double>() >= 0) {
      out = v->get<double>();
    } else {
      fail(path, key, "not a non-negative number");
    }
  }

  void text(const Json& obj, const std::string& path, const char* key, std::string& out, bool required = true) {
    const Json* v = field(obj, path, key, required);
    if (!v) return;
    if (v->is_string()) {
      out = v->get<std::string>();
    } else {
      fail(path, key, "not a string");
    }
  }

  void day(const Json& obj, const std::string& path, const char* key, std::string& out) {
    text(obj, path, key, out);
    if (!failed() && !parseDay(out)) fail(path, key, "not a YYYY-MM-DD day");
  }

  // An array field whose elements are objects; absent optional arrays give nullptr.
  const Json* objects(const Json& obj, const std::string& path, const char* key, bool required) {
    const Json* v = field(obj, path, key, required);
    if (!v) return nullptr;
    if (!v->is_array()) {
      fail(path, key, "not an array");
      return nullptr;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_object()) {
        fail(path, std::string(key) + "[" + std::to_string(i) + "]", "not an object");
        return nullptr;
      }
    }
    return v;
  }

  const Json* object(const Json& obj, const std::string& path, const char* key, bool required) {
    const Json* v = field(obj, path, key, required);
    if (!v) return nullptr;
    if (!v->is_object()) {
      fail(path, key, "not an object");
      return nullptr;
    }
    return v;
  }

  void fail(const std::string& path, const std::string& key, const std::string& why) {
    if (failed()) return;
    error_ = (path.empty() ? key : path + "." + key) + ": " + why;
  }

 private:
  std::string& error_;
};

void readUsage(Reader& r, const Json& o, const std::string& path, Usage& u) {
  r.count(o, path, "allocations", u.allocations);
  r.count(o, path, "bytes_to_peer", u.bytesToPeer);
  r.count(o, path, "bytes_to_client", u.bytesToClient);
  r.count(o, path, "packets_to_peer", u.packetsToPeer);
  r.count(o, path, "packets_to_client", u.packetsToClient);
  r.count(o, path, "allocation_seconds", u.allocationSeconds);
  r.money(o, path, "cost", u.cost);
}

std::string at(const char* key, size_t i) { return std::string(key) + "[" + std::to_string(i) + "]"; }

void readRows(Reader& r, const Json& doc, UsageDocument& d) {
  const Json* rows = r.objects(doc, "", "rows", true);
  if (!rows) return;
  for (size_t i = 0; i < rows->size() && !r.failed(); ++i) {
    const Json& o = (*rows)[i];
    const std::string path = at("rows", i);
    Row row;
    r.text(o, path, "key", row.key);
    readUsage(r, o, path, row.usage);
    if (o.contains("class")) r.text(o, path, "class", row.quotaClass.emplace());
    if (o.contains("identities")) r.count(o, path, "identities", row.identities.emplace());
    d.rows.push_back(std::move(row));
  }
}

void readSeries(Reader& r, const Json& doc, UsageDocument& d) {
  if (const Json* daily = r.objects(doc, "", "daily", false)) {
    for (size_t i = 0; i < daily->size() && !r.failed(); ++i) {
      const Json& o = (*daily)[i];
      const std::string path = at("daily", i);
      Day day;
      r.day(o, path, "day", day.day);
      r.count(o, path, "bytes_to_peer", day.bytesToPeer);
      r.count(o, path, "bytes_to_client", day.bytesToClient);
      r.count(o, path, "allocations", day.allocations, false);
      r.money(o, path, "cost", day.cost);
      d.daily.push_back(std::move(day));
    }
  }
  if (const Json* hourly = r.objects(doc, "", "hourly", false)) {
    for (size_t i = 0; i < hourly->size() && !r.failed(); ++i) {
      const Json& o = (*hourly)[i];
      const std::string path = at("hourly", i);
      Hour h;
      r.integer(o, path, "start", h.start);
      r.count(o, path, "bytes_to_peer", h.bytesToPeer);
      r.count(o, path, "bytes_to_client", h.bytesToClient);
      d.hourly.push_back(h);
    }
  }
  if (const Json* top = r.objects(doc, "", "top_identities", false)) {
    for (size_t i = 0; i < top->size() && !r.failed(); ++i) {
      const Json& o = (*top)[i];
      const std::string path = at("top_identities", i);
      TopIdentity t;
      r.text(o, path, "identity", t.identity);
      r.text(o, path, "class", t.quotaClass, false);
      r.count(o, path, "bytes", t.bytes);
      r.money(o, path, "cost", t.cost);
      d.topIdentities.push_back(std::move(t));
    }
  }
}

void readSummaries(Reader& r, const Json& doc, UsageDocument& d) {
  if (const Json* reasons = r.object(doc, "", "end_reasons", false)) {
    for (const auto& [name, value] : reasons->items()) {
      uint64_t n = 0;
      r.count(*reasons, "end_reasons", name.c_str(), n);
      d.endReasons.emplace_back(name, n);
    }
    std::stable_sort(d.endReasons.begin(), d.endReasons.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  }
  if (const Json* sessions = r.object(doc, "", "sessions", false)) {
    r.count(*sessions, "sessions", "direct", d.sessionsDirect);
    r.count(*sessions, "sessions", "relayed", d.sessionsRelayed);
  }
  if (const Json* projection = r.object(doc, "", "projection", false)) {
    r.integer(*projection, "projection", "basis_seconds", d.projectionBasisSeconds);
    r.money(*projection, "projection", "monthly_cost", d.projectedMonthlyCost);
  }
}

}  // namespace

std::optional<GroupBy> parseGroupBy(std::string_view text) {
  if (text == "identity") return GroupBy::Identity;
  if (text == "day") return GroupBy::Day;
  if (text == "class") return GroupBy::Class;
  return std::nullopt;
}

std::string_view toString(GroupBy by) {
  switch (by) {
    case GroupBy::Identity:
      return "identity";
    case GroupBy::Day:
      return "day";
    case GroupBy::Class:
      return "class";
  }
  return "identity";
}

Result<UsageDocument, std::string> parseUsageDocument(std::string_view body) {
  Json doc = Json::parse(body, nullptr, false);
  if (doc.is_discarded()) return unexpected(std::string("not JSON"));
  if (!doc.is_object()) return unexpected(std::string("not a JSON object"));
  std::string error;
  Reader r(error);
  UsageDocument d;
  r.text(doc, "", "node", d.node);
  r.integer(doc, "", "generated", d.generated);
  r.day(doc, "", "since", d.since);
  r.day(doc, "", "until", d.until);
  std::string by;
  r.text(doc, "", "by", by);
  if (!r.failed()) {
    if (auto g = parseGroupBy(by)) {
      d.by = *g;
    } else {
      r.fail("", "by", "not identity, day or class");
    }
  }
  r.text(doc, "", "currency", d.currency);
  if (const Json* prices = r.object(doc, "", "prices", true)) {
    r.money(*prices, "prices", "per_gb_to_peer", d.prices.perGbToPeer);
    r.money(*prices, "prices", "per_gb_to_client", d.prices.perGbToClient);
    r.money(*prices, "prices", "per_allocation_hour", d.prices.perAllocationHour);
  }
  if (const Json* totals = r.object(doc, "", "totals", true)) readUsage(r, *totals, "totals", d.totals);
  readRows(r, doc, d);
  readSeries(r, doc, d);
  readSummaries(r, doc, d);
  if (r.failed()) return unexpected(error);
  d.raw = std::move(doc);
  return d;
}

// Days go through the C library's UTC calendar (timegm/gmtime_r): a date is valid when it survives
// the round trip (so 2026-02-30 is refused).
std::optional<int64_t> parseDay(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  auto digits = [&](size_t from, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = from; i < from + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  auto y = digits(0, 4), m = digits(5, 2), d = digits(8, 2);
  if (!y || !m || !d || *y < 1970) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *m - 1;
  tm.tm_mday = *d;
  tm.tm_hour = 12;
  const time_t t0 = timegm(&tm);
  std::tm back{};
  if (t0 == static_cast<time_t>(-1) || !gmtime_r(&t0, &back)) return std::nullopt;
  if (back.tm_year != *y - 1900 || back.tm_mon != *m - 1 || back.tm_mday != *d) return std::nullopt;
  return static_cast<int64_t>(t0) / 86400;
}

std::string formatDay(int64_t daysSinceEpoch) {
  const time_t t0 = static_cast<time_t>(daysSinceEpoch * 86400 + 43200);
  std::tm tm{};
  if (!gmtime_r(&t0, &tm)) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace rdv::report
