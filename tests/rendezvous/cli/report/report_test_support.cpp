#include "tests/rendezvous/cli/report/report_test_support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace rdv::report::test {

using Json = nlohmann::json;

Json exampleDocument() {
  return Json::parse(R"({
    "node": "3f1c9a0be55d2c7e8f00112233445566778899aabbccddeeff00112233445566", "generated": 1763776800,
    "since": "2025-10-24", "until": "2025-11-22", "by": "identity", "currency": "USD",
    "prices": {"per_gb_to_peer": 0.09, "per_gb_to_client": 0.09, "per_allocation_hour": 0.0},
    "totals": {"allocations": 3, "bytes_to_peer": 1200, "bytes_to_client": 1100, "packets_to_peer": 12,
               "packets_to_client": 11, "allocation_seconds": 240, "cost": 0.000207},
    "rows": [
      {"key": "alice", "allocations": 2, "bytes_to_peer": 1000, "bytes_to_client": 1000, "packets_to_peer": 10,
       "packets_to_client": 10, "allocation_seconds": 180, "cost": 0.00018, "class": "gold"},
      {"key": "bob", "allocations": 1, "bytes_to_peer": 200, "bytes_to_client": 100, "packets_to_peer": 2,
       "packets_to_client": 1, "allocation_seconds": 60, "cost": 0.000027, "class": "limited"}],
    "daily": [{"day": "2025-11-21", "bytes_to_peer": 1200, "bytes_to_client": 1100, "allocations": 3, "cost": 0.000207}],
    "hourly": [{"start": 1763762400, "bytes_to_peer": 1200, "bytes_to_client": 1100}],
    "top_identities": [{"identity": "alice", "class": "gold", "bytes": 2000, "cost": 0.00018},
                       {"identity": "bob", "class": "limited", "bytes": 300, "cost": 0.000027}],
    "end_reasons": {"expired": 1, "deleted": 2},
    "sessions": {"direct": 3, "relayed": 1},
    "projection": {"basis_seconds": 86400, "monthly_cost": 0.00621}
  })");
}

Json emptyDocument() {
  return Json::parse(R"({
    "node": "", "generated": 1763776800, "since": "2025-10-24", "until": "2025-11-22", "by": "identity",
    "currency": "EUR", "prices": {"per_gb_to_peer": 0.05, "per_gb_to_client": 0.0, "per_allocation_hour": 0.01},
    "totals": {"allocations": 0, "bytes_to_peer": 0, "bytes_to_client": 0, "packets_to_peer": 0,
               "packets_to_client": 0, "allocation_seconds": 0, "cost": 0.0},
    "rows": [], "daily": [], "hourly": [], "top_identities": [], "end_reasons": {},
    "sessions": {"direct": 0, "relayed": 0}, "projection": {"basis_seconds": 86400, "monthly_cost": 0.0}
  })");
}

Json documentOf(const std::vector<IdentityUsage>& ids, double pricePerGb, const std::string& since,
                const std::string& until) {
  Json doc = emptyDocument();
  doc["node"] = "aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44";
  doc["since"] = since;
  doc["until"] = until;
  doc["currency"] = "USD";
  doc["prices"] = {{"per_gb_to_peer", pricePerGb}, {"per_gb_to_client", pricePerGb}, {"per_allocation_hour", 0.0}};
  const int64_t first = *parseDay(since), last = *parseDay(until);
  doc["generated"] = last * 86400 + 12 * 3600;
  Json totals = {{"allocations", 0}, {"bytes_to_peer", 0}, {"bytes_to_client", 0}, {"packets_to_peer", 0},
                 {"packets_to_client", 0}, {"allocation_seconds", 0}, {"cost", 0.0}};
  Json rows = Json::array(), top = Json::array();
  uint64_t allocations = 0, toPeer = 0, toClient = 0, seconds = 0;
  double cost = 0;
  for (const auto& id : ids) {
    const double c = static_cast<double>(id.toPeer + id.toClient) / 1e9 * pricePerGb;
    rows.push_back({{"key", id.identity}, {"class", id.quotaClass}, {"allocations", id.allocations},
                    {"bytes_to_peer", id.toPeer}, {"bytes_to_client", id.toClient},
                    {"packets_to_peer", id.toPeer / 1000}, {"packets_to_client", id.toClient / 1000},
                    {"allocation_seconds", id.seconds}, {"cost", c}});
    if (top.size() < 10)
      top.push_back({{"identity", id.identity}, {"class", id.quotaClass}, {"bytes", id.toPeer + id.toClient}, {"cost", c}});
    allocations += id.allocations;
    toPeer += id.toPeer;
    toClient += id.toClient;
    seconds += id.seconds;
    cost += c;
  }
  totals["allocations"] = allocations;
  totals["bytes_to_peer"] = toPeer;
  totals["bytes_to_client"] = toClient;
  totals["packets_to_peer"] = toPeer / 1000;
  totals["packets_to_client"] = toClient / 1000;
  totals["allocation_seconds"] = seconds;
  totals["cost"] = cost;
  doc["totals"] = totals;
  doc["rows"] = rows;
  doc["top_identities"] = top;
  const int64_t days = last - first + 1;
  Json daily = Json::array(), hourly = Json::array();
  if (toPeer + toClient > 0) {
    for (int64_t z = first; z <= last; ++z) {
      daily.push_back({{"day", formatDay(z)}, {"bytes_to_peer", toPeer / days}, {"bytes_to_client", toClient / days},
                       {"allocations", allocations}, {"cost", cost / static_cast<double>(days)}});
      hourly.push_back({{"start", z * 86400 + 10 * 3600}, {"bytes_to_peer", toPeer / days},
                        {"bytes_to_client", toClient / days}});
    }
  }
  doc["daily"] = daily;
  doc["hourly"] = hourly;
  doc["sessions"] = {{"direct", 6}, {"relayed", 2}};
  doc["projection"] = {{"basis_seconds", 86400}, {"monthly_cost", cost / static_cast<double>(days) * 30}};
  return doc;
}

UsageDocument parsed(const Json& doc) {
  auto d = parseUsageDocument(doc.dump());
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error());
  return d.ok() ? *d : UsageDocument{};
}

ToolResult runPython(const std::string& script, const std::string& input) {
  const std::string python = std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  char dirTemplate[] = "/tmp/rdv-report-test-XXXXXX";
  const char* dir = mkdtemp(dirTemplate);
  if (dir == nullptr) return {};
  const std::string in = std::string(dir) + "/input", out = std::string(dir) + "/output";
  std::ofstream(in, std::ios::binary) << input;
  ToolResult r;
  const pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(out.c_str(), "a", stderr)) _exit(127);
    execlp(python.c_str(), python.c_str(), "-c", script.c_str(), in.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)) r.exitCode = WEXITSTATUS(status);
  std::ifstream f(out, std::ios::binary);
  r.out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  std::filesystem::remove_all(dir);
  return r;
}

}  // namespace rdv::report::test
