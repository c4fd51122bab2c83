// rdv report against the real node's usage ledger (issue 7): coturn's turnutils_uclient relays known
// traffic for two REST identities (one needing CSV quoting and HTML escaping) to an echo peer of this
// test; once the ledger has flushed it, every format is checked against GET /v1/usage: json equals
// the document, the table's and the csv's totals equal the ledger's bytes, and the html page renders
// in headless Chromium, whose screenshot (kept in the build's test-artifacts/) is decoded and must
// show the charts.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

#include "rendezvous/cli/report/format.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using Json = nlohmann::json;

const std::string kToken = "report-ledger-token-0123456789";
const std::string kSecret = "report-rest-secret";
const std::string kAwkward = "carol,<dev>";  // a REST identity that needs CSV quotes and HTML escapes

// A UDP echo peer on 127.0.0.1 counting the payload bytes it received and sent back.
class EchoPeer {
 public:
  EchoPeer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot bind the echo peer";
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~EchoPeer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }
  uint64_t received() const { return received_; }
  uint64_t echoed() const { return echoed_; }

 private:
  void loop() {
    std::vector<char> buf(65536);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) continue;
      received_ += static_cast<uint64_t>(n);
      if (::sendto(fd_, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len) == n)
        echoed_ += static_cast<uint64_t>(n);
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0}, echoed_{0};
  std::thread thread_;
};

std::string python() { return std::filesystem::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

// GET /v1/usage straight from the node (Python's urllib: a client independent of rdv).
Json fetchUsage(const std::string& admin, const std::string& query = "") {
  static const char* kFetch = R"py(
import sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]})
sys.stdout.write(urllib.request.urlopen(req, timeout=10).read().decode('utf-8'))
)py";
  auto r = run({python(), "-c", kFetch, "http://" + admin + "/v1/usage" + query, kToken}, 20s);
  EXPECT_EQ(r.exitCode, 0) << r.err;
  auto j = Json::parse(r.out, nullptr, false);
  return j.is_object() ? j : Json::object();
}

uint64_t bytesOf(const Json& totals, const char* key) { return totals.value(key, uint64_t{0}); }

std::string artifactsDir() {
  std::filesystem::create_directories(RDV_TEST_ARTIFACTS_DIR);
  return RDV_TEST_ARTIFACTS_DIR;
}

CommandResult report(const std::string& admin, std::vector<std::string> args) {
  std::vector<std::string> argv{binary("rdv"), "report", "--node", "http://" + admin, "--admin-token", kToken};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 30s);
}

std::string escapeRegex(const std::string& text) {
  return std::regex_replace(text, std::regex(R"re([.^$|()\[\]{}*+?\\])re"), R"re(\$&)re");
}

uint64_t number(const std::string& withCommas) {
  std::string digits;
  for (char c : withCommas)
    if (c != ',') digits += c;
  return std::stoull(digits);
}

class ReportLedger : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(onPath("turnutils_uclient")) << "coturn's turnutils_uclient is needed (scripts/install-deps.sh --test)";
    node_ = std::make_unique<Node>(std::vector<std::string>{
        "--listen", "127.0.0.1:0", "--auth-secret", kSecret, "--allow-peer", "127.0.0.0/8", "--admin-listen",
        "127.0.0.1:0", "--admin-token", kToken, "--price-per-gb-to-peer", "1000", "--price-per-gb-to-client", "500",
        "--currency", "EUR", "--ledger-flush-interval", "100"});
    ASSERT_TRUE(node_->started()) << node_->log();
    admin_ = node_->ready()["admin"].get<std::string>();
    // alice: 2 clients x 20 messages x 200 bytes; carol: 1 x 10 x 100; channels, no RTCP stream (-c).
    relay("alice", 2, 20, 200);
    relay(kAwkward, 1, 10, 100);
    ASSERT_EQ(peer_.received(), 2u * 20 * 200 + 10 * 100);
    // The ledger flushes every 100 ms: wait until it holds exactly what the peer saw.
    ASSERT_TRUE(waitUntil(
        [&] {
          usage_ = fetchUsage(admin_);
          return bytesOf(usage_["totals"], "bytes_to_peer") == peer_.received() &&
                 bytesOf(usage_["totals"], "bytes_to_client") == peer_.echoed();
        },
        20s, 200ms))
        << usage_.dump(2) << "\npeer received " << peer_.received() << ", echoed " << peer_.echoed() << "\n"
        << node_->log();
  }

  void relay(const std::string& id, int clients, int messages, int length) {
    auto r = run({"turnutils_uclient", "-W", kSecret, "-u", id, "-c", "-p", std::to_string(node_->udpPort()), "-e",
                  "127.0.0.1", "-r", std::to_string(peer_.port()), "-n", std::to_string(messages), "-m",
                  std::to_string(clients), "-z", "5", "-l", std::to_string(length), "127.0.0.1"},
                 60s);
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
  }

  std::unique_ptr<Node> node_;
  EchoPeer peer_;
  std::string admin_;
  Json usage_;
};

// Allocations uclient leaves open keep accruing allocation seconds at every flush, so two requests a moment
// apart may differ there (and in the generation time), and nowhere else. Checks before <= mid <= after for
// the allocation seconds of the totals and of every row, then removes them.
void expectAllocationSecondsBetween(Json& before, Json& mid, Json& after) {
  auto check = [](Json& b, Json& m, Json& a, const std::string& where) {
    const uint64_t lo = b.value("allocation_seconds", uint64_t{0});
    const uint64_t at = m.value("allocation_seconds", uint64_t{0});
    const uint64_t hi = a.value("allocation_seconds", uint64_t{0});
    EXPECT_TRUE(lo <= at && at <= hi) << where << ": " << lo << " <= " << at << " <= " << hi;
    b.erase("allocation_seconds");
    m.erase("allocation_seconds");
    a.erase("allocation_seconds");
  };
  check(before["totals"], mid["totals"], after["totals"], "totals");
  ASSERT_EQ(before["rows"].size(), mid["rows"].size());
  ASSERT_EQ(after["rows"].size(), mid["rows"].size());
  for (size_t i = 0; i < mid["rows"].size(); ++i) {
    check(before["rows"][i], mid["rows"][i], after["rows"][i], "row " + std::to_string(i));
  }
  for (Json* j : {&before, &mid, &after}) j->erase("generated");
}

TEST_F(ReportLedger, JsonIsTheUsageDocument) {
  Json before = fetchUsage(admin_);
  auto r = report(admin_, {"--format", "json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  Json fromRdv = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(fromRdv.is_object()) << r.out;
  Json after = fetchUsage(admin_);
  expectAllocationSecondsBetween(before, fromRdv, after);
  EXPECT_EQ(fromRdv, after);
  EXPECT_EQ(fromRdv["rows"].size(), 2u) << fromRdv.dump(2);
  EXPECT_NE(r.out.find("\n  \"totals\": {"), std::string::npos);  // pretty-printed
}

TEST_F(ReportLedger, TableTotalsAreTheLedgersBytes) {
  auto r = report(admin_, {});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const Json& t = usage_["totals"];
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m, std::regex(R"re(\nrelayed +[0-9.]+ [kMGT]?B \(([0-9,]+) bytes: to peer ([0-9,]+), to client ([0-9,]+)\))re")))
      << r.out;
  EXPECT_EQ(number(m[1]), bytesOf(t, "bytes_to_peer") + bytesOf(t, "bytes_to_client"));
  EXPECT_EQ(number(m[2]), bytesOf(t, "bytes_to_peer"));
  EXPECT_EQ(number(m[3]), bytesOf(t, "bytes_to_client"));
  EXPECT_NE(r.out.find("cost         " + report::formatMoney(t["cost"].get<double>(), "EUR") + "\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("allocations  " + std::to_string(t["allocations"].get<uint64_t>()) + " "), std::string::npos);
  for (const auto& row : usage_["rows"]) {  // every row, with its allocation count
    const std::string key = row["key"];
    const std::regex line("\n  " + escapeRegex(key) + " +[a-z]+ +" + std::to_string(row["allocations"].get<uint64_t>()) + " ");
    EXPECT_TRUE(std::regex_search(r.out, line)) << key << "\n" << r.out;
  }
}

TEST_F(ReportLedger, CsvRowsAddUpToTheLedger) {
  static const char* kSum = R"py(
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], newline='', encoding='utf-8'), strict=True))
header, body = rows[0], rows[1:]
col = {name: i for i, name in enumerate(header)}
print(json.dumps({'header': header, 'keys': sorted(r[0] for r in body),
                  'to_peer': sum(int(r[col['bytes_to_peer']]) for r in body),
                  'to_client': sum(int(r[col['bytes_to_client']]) for r in body),
                  'allocations': sum(int(r[col['allocations']]) for r in body)}))
)py";
  TempDir dir;
  for (const char* by : {"identity", "day", "class"}) {
    const std::string file = dir.file(std::string(by) + ".csv");
    auto r = report(admin_, {"--format", "csv", "--by", by, "--output", file});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto sum = run({python(), "-c", kSum, file});
    ASSERT_EQ(sum.exitCode, 0) << sum.err;
    const Json s = Json::parse(sum.out);
    const Json& t = usage_["totals"];
    EXPECT_EQ(s["header"][0], by);
    EXPECT_EQ(s["to_peer"], bytesOf(t, "bytes_to_peer")) << by;
    EXPECT_EQ(s["to_client"], bytesOf(t, "bytes_to_client")) << by;
    EXPECT_EQ(s["allocations"], t["allocations"]) << by;
    if (std::string(by) == "identity") {
      EXPECT_EQ(s["keys"], Json({"alice", kAwkward}));
    }
  }
}

TEST_F(ReportLedger, HtmlRendersInChromium) {
  ASSERT_TRUE(onPath("chromium")) << "chromium is not installed (scripts/install-deps.sh --test installs it)";
  const std::string dir = artifactsDir();
  const std::string html = dir + "/report.html", png = dir + "/report.png";
  std::filesystem::remove(png);
  auto r = report(admin_, {"--format", "html", "--output", html});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::ifstream in(html, std::ios::binary);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("carol,&lt;dev&gt;"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);

  TempDir profile;
  auto shot = run({"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
                   "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
                   "--user-data-dir=" + profile.file("profile"), "--window-size=1100,2000", "--screenshot=" + png,
                   "file://" + html},
                  120s);
  ASSERT_EQ(shot.exitCode, 0) << shot.err;
  ASSERT_TRUE(std::filesystem::exists(png)) << shot.err;
  std::cout << "report screenshot: " << png << "\nreport page: " << html << std::endl;

  // Decode the screenshot: its size, and pixels of the charts' blue (Okabe-Ito #0072B2) and of the
  // dashed vermillion rate series: a blank or broken page has neither.
  const std::string checker = std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/png_check.py";
  auto check = run({python(), checker, png, "0072b2", "d55e00"}, 60s);
  ASSERT_EQ(check.exitCode, 0) << check.out << check.err;
  const Json j = Json::parse(check.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << check.out;
  EXPECT_EQ(j["width"], 1100);
  EXPECT_EQ(j["height"], 2000);
  EXPECT_GT(j["colours"].get<int>(), 50) << check.out;        // text antialiasing, cards, charts
  EXPECT_GT(j["foreground"].get<double>(), 0.03) << check.out;  // not a white page
  EXPECT_GT(j["wanted"]["0072b2"].get<int>(), 2000) << check.out;  // bars and card edges
  EXPECT_GT(j["wanted"]["d55e00"].get<int>(), 20) << check.out;    // the to-client rate line
}

TEST_F(ReportLedger, WrongTokenIsRefused) {
  auto r = run({binary("rdv"), "report", "--node", "http://" + admin_, "--admin-token", "not-the-admin-token-at-all"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("rdv report: the node refused the admin token (401): check --admin-token"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

}  // namespace
}  // namespace rdv::test
