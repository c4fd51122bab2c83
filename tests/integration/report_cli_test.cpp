// rdv report's command line: --help, usage errors (exit 2, one line, nothing sent), runtime errors
// (exit 1): an unreachable node, the wrong listener, bad answers. Answers the real node never gives
// (garbage, a 500) come from a one-shot HTTP responder in this file; the report of a real node's
// ledger is tested in report_ledger_test.cpp.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

const std::string kToken = "report-admin-token-0123456789";

// Answers every HTTP request on 127.0.0.1 with one fixed reply and remembers the requests' heads.
class CannedHttp {
 public:
  CannedHttp(int status, std::string body) : status_(status), body_(std::move(body)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedHttp() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
        pollfd q{c, POLLIN, 0};
        if (::poll(&q, 1, 5000) <= 0) break;
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        requests_.push_back(head);
      }
      const std::string reply = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Type: application/json\r\n" +
                                "Content-Length: " + std::to_string(body_.size()) + "\r\nConnection: close\r\n\r\n" +
                                body_;
      for (size_t off = 0; off < reply.size();) {
        const ssize_t n = ::write(c, reply.data() + off, reply.size() - off);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  int status_;
  std::string body_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> requests_;
};

// A loopback TCP port nobody listens on (bound, then closed).
uint16_t closedTcpPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

CommandResult report(std::vector<std::string> args) {
  args.insert(args.begin(), {binary("rdv"), "report"});
  return run(args, 30s);
}

size_t lineCount(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(ReportCli, Help) {
  auto r = report({"--help"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  for (const char* flag : {"--node", "--admin-token", "--since", "--until", "--by", "--format", "--output"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
  EXPECT_NE(r.out.find("ADMIN listener"), std::string::npos) << r.out;
}

TEST(ReportCli, UsageErrorsExitTwoWithOneLineAndSendNothing) {
  CannedHttp server(200, "{}");
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::string url = server.url();
  const std::vector<Case> cases = {
      {{"--admin-token", kToken}, "--node is required"},
      {{"--node", url}, "--admin-token is required"},
      {{"--node", url, "--admin-token", kToken, "--since", "2026-13-01"},
       "rdv report: --since: '2026-13-01' is not a day (YYYY-MM-DD)"},
      {{"--node", url, "--admin-token", kToken, "--until", "2026-02-30"},
       "rdv report: --until: '2026-02-30' is not a day (YYYY-MM-DD)"},
      {{"--node", url, "--admin-token", kToken, "--since", "yesterday"}, "--since: 'yesterday' is not a day"},
      {{"--node", url, "--admin-token", kToken, "--since", "2026-11-22", "--until", "2026-11-01"},
       "rdv report: --since 2026-11-22 is after --until 2026-11-01"},
      {{"--node", url, "--admin-token", kToken, "--by", "user"}, "rdv report: --by: 'user' is not identity, day or class"},
      {{"--node", url, "--admin-token", kToken, "--format", "pdf"},
       "rdv report: --format: 'pdf' is not table, json, csv or html"},
      {{"--node", "ftp://127.0.0.1:1", "--admin-token", kToken}, "rdv report: --node:"},
      {{"--node", url, "--admin-token", kToken, "--frobnicate"}, "frobnicate"},
      {{"--node", url, "--admin-token", kToken, "--since"}, "--since"},
  };
  for (const auto& c : cases) {
    auto r = report(c.args);
    EXPECT_EQ(r.exitCode, 2) << c.message << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(lineCount(r.err), 1u) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST(ReportCli, UnreachableNode) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closedTcpPort());
  auto r = report({"--node", url, "--admin-token", kToken});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("rdv report: cannot reach " + url + ": "), std::string::npos) << r.err;
  EXPECT_EQ(lineCount(r.err), 1u) << r.err;
}

TEST(ReportCli, BadAnswersAreRuntimeErrors) {
  struct Case {
    int status;
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {200, "<html>502 Bad Gateway</html>", "malformed /v1/usage document from URL: not JSON"},
      {200, "[]", "malformed /v1/usage document from URL: not a JSON object"},
      {200, R"({"node": ""})", "malformed /v1/usage document from URL: generated: missing"},
      {500, R"({"error": "internal", "message": "ledger\nunavailable"})", "GET /v1/usage: status 500: ledger unavailable"},
      {400, R"({"error": "bad-request", "message": "since: not a day"})", "the node refused the request (400): since: not a day"},
      {401, R"({"error": "unauthorized"})", "the node refused the admin token (401): check --admin-token"},
  };
  for (const auto& c : cases) {
    CannedHttp server(c.status, c.body);
    std::string message = c.message;
    if (auto at = message.find("URL"); at != std::string::npos) message.replace(at, 3, server.url());
    auto r = report({"--node", server.url(), "--admin-token", kToken, "--format", "html"});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("rdv report: " + message), std::string::npos) << r.err;
    EXPECT_EQ(lineCount(r.err), 1u) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
}

TEST(ReportCli, AsksForTheWindowWithTheToken) {
  CannedHttp server(200, "not json");
  report({"--node", server.url() + "/", "--admin-token", kToken, "--since", "2026-11-01", "--until", "2026-11-22",
          "--by", "day"});
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].rfind("GET /v1/usage?by=day&since=2026-11-01&until=2026-11-22 HTTP/1.1\r\n", 0), 0u)
      << requests[0];
  EXPECT_NE(requests[0].find("\r\nAuthorization: Bearer " + kToken + "\r\n"), std::string::npos) << requests[0];
}

// A minimal well-formed document (the real node's are tested in report_ledger_test.cpp).
const char* kSmallDocument = R"({"node": "ab", "generated": 1763776800, "since": "2025-11-22", "until": "2025-11-22",
  "by": "identity", "currency": "USD", "prices": {"per_gb_to_peer": 0.09, "per_gb_to_client": 0.09,
  "per_allocation_hour": 0.0}, "totals": {"allocations": 1, "bytes_to_peer": 10, "bytes_to_client": 20,
  "packets_to_peer": 1, "packets_to_client": 2, "allocation_seconds": 5, "cost": 0.000003},
  "rows": [{"key": "a,b", "class": "limited", "allocations": 1, "bytes_to_peer": 10, "bytes_to_client": 20,
  "packets_to_peer": 1, "packets_to_client": 2, "allocation_seconds": 5, "cost": 0.000003}]})";

TEST(ReportCli, OutputFile) {
  TempDir dir;
  CannedHttp server(200, kSmallDocument);
  auto r = report({"--node", server.url(), "--admin-token", kToken, "--format", "csv", "--output", dir.file("r.csv")});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  std::ifstream f(dir.file("r.csv"), std::ios::binary);
  const std::string csv((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(csv.find("\r\n\"a,b\",limited,1,10,20,1,2,5,0.000003,USD\r\n"), std::string::npos) << csv;
  EXPECT_FALSE(std::filesystem::exists(dir.file("r.csv.tmp")));

  auto bad = report({"--node", server.url(), "--admin-token", kToken, "--output", dir.file("missing/dir/r.txt")});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("rdv report: cannot write " + dir.file("missing/dir/r.txt")), std::string::npos) << bad.err;
  EXPECT_EQ(lineCount(bad.err), 1u) << bad.err;
}

// Issue 12 item 8: a symlink planted at FILE.tmp (to an existing file, or dangling) is never followed; the
// run fails naming the temporary file and the link's target is left as it was.
TEST(ReportCli, OutputNeverFollowsASymlinkAtTheTemporaryFile) {
  TempDir dir;
  CannedHttp server(200, kSmallDocument);
  std::ofstream(dir.file("victim")) << "precious";
  std::filesystem::create_symlink(dir.file("victim"), dir.file("r.csv.tmp"));
  std::filesystem::create_symlink(dir.file("nowhere"), dir.file("d.csv.tmp"));
  for (const char* name : {"r.csv", "d.csv"}) {
    auto r = report({"--node", server.url(), "--admin-token", kToken, "--format", "csv", "--output", dir.file(name)});
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("cannot write " + dir.file(name) + ".tmp"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file(name)));
    EXPECT_TRUE(std::filesystem::is_symlink(dir.file(std::string(name) + ".tmp")));
  }
  std::ifstream f(dir.file("victim"));
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()), "precious");
  EXPECT_FALSE(std::filesystem::exists(dir.file("nowhere")));
}

// The real node: the public HTTP API has no /v1/usage (it lives on the admin listener).
TEST(ReportCli, PointingAtThePublicApiSaysWhichListener) {
  Node node({"--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
             "--admin-token", kToken});
  ASSERT_TRUE(node.started()) << node.log();
  auto r = report({"--node", "http://" + node.http(), "--admin-token", kToken});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("(404): --node must be the admin listener (admin-listen)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rdv::test
