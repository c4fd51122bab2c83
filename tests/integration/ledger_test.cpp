// The usage ledger against the real daemon (issue 7): clients send known byte counts through the relay
// (coturn's turnutils_uclient and a small TURN client of ours built from the stun codec) to an echo
// peer of the test that counts payload bytes; the ledger's totals (GET /v1/usage and the SQLite file)
// equal what the peer received and sent back, exactly. kill -9 during load then restart: the ledger
// opens and holds whole flushes only; SIGTERM: exact. /metrics parses with the Prometheus reference
// parser and matches the ledger. path-report frames from authenticated peers are counted.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <regex>
#include <thread>

#include "rendezvous/identity/private_key.h"
#include "rendezvous/storage/database.h"
#include "rendezvous/client/http_client.h"
#include "rendezvous/client/ws_client.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"
#include "stun/channel_data.h"
#include "stun/integrity.h"
#include "stun/message.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

const std::string kToken = "ledger-admin-token-0123456789";

int udpSocket() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  int size = 4 * 1024 * 1024;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  return fd;
}

uint16_t localPort(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  return ntohs(sin.sin_port);
}

// A UDP echo peer that counts payload bytes it received and sent back (the relay's "peer side").
class CountingEchoPeer {
 public:
  CountingEchoPeer() : fd_(udpSocket()) {
    if (fd_ >= 0) thread_ = std::thread([this] { loop(); });
  }
  ~CountingEchoPeer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) close(fd_);
  }
  uint16_t port() const { return localPort(fd_); }
  uint64_t received() const { return received_; }
  uint64_t echoed() const { return echoed_; }
  uint64_t packets() const { return packets_; }
  void setEcho(bool on) { echo_ = on; }

 private:
  void loop() {
    std::vector<char> buf(65536);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      const ssize_t n = recvfrom(fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) continue;
      received_ += static_cast<uint64_t>(n);
      ++packets_;
      if (echo_ && sendto(fd_, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len) == n)
        echoed_ += static_cast<uint64_t>(n);
    }
  }
  int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> echo_{true};
  std::atomic<uint64_t> received_{0}, echoed_{0}, packets_{0};
  std::thread thread_;
};

// A minimal TURN client over UDP from our own stun codec: Allocate (401, then long-term credentials),
// CreatePermission / ChannelBind, Send indications and ChannelData, Refresh lifetime 0. Counts the
// payload bytes relayed back to it (Data indications and ChannelData).
class MiniTurnClient {
 public:
  MiniTurnClient(uint16_t serverPort, std::string user, std::string password)
      : fd_(udpSocket()), user_(std::move(user)), password_(std::move(password)) {
    server_.sin_family = AF_INET;
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_.sin_port = htons(serverPort);
  }
  ~MiniTurnClient() {
    if (fd_ >= 0) close(fd_);
  }

  bool allocate() {
    auto first = request(stun::Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }, false);
    if (!first || first->errorCode != 401) return false;
    auto ok = request(stun::Method::Allocate, [](stun::MessageBuilder& b) { b.addRequestedTransport(17); }, true);
    return ok && ok->success;
  }
  bool channelBind(uint16_t peerPort, uint16_t channel) {
    const Endpoint peer = loopback(peerPort);
    auto r = request(stun::Method::ChannelBind, [&](stun::MessageBuilder& b) {
      b.addChannelNumber(channel);
      b.addXorAddress(stun::attr::XorPeerAddress, peer);
    }, true);
    return r && r->success;
  }
  bool permit(uint16_t peerPort) {
    const Endpoint peer = loopback(peerPort);
    auto r = request(stun::Method::CreatePermission,
                     [&](stun::MessageBuilder& b) { b.addXorAddress(stun::attr::XorPeerAddress, peer); }, true);
    return r && r->success;
  }
  bool release() {
    auto r = request(stun::Method::Refresh, [](stun::MessageBuilder& b) { b.addU32(stun::attr::Lifetime, 0); }, true);
    return r && r->success;
  }
  void sendIndication(uint16_t peerPort, size_t length) {
    stun::TransactionId tid = nextTid();
    Bytes payload(length, 0x5a);
    stun::MessageBuilder b(stun::Method::Send, stun::Class::Indication, tid);
    b.addXorAddress(stun::attr::XorPeerAddress, loopback(peerPort)).add(stun::attr::Data, payload);
    Bytes msg = std::move(b).finish();
    send(msg);
  }
  void sendChannel(uint16_t channel, size_t length) {
    Bytes payload(length, 0xa5), msg;
    stun::appendChannelData(msg, channel, payload, false);
    send(msg);
  }
  // Reads whatever arrives until `deadline`, counting relayed payload.
  void pump(std::chrono::steady_clock::time_point deadline) {
    while (std::chrono::steady_clock::now() < deadline) {
      if (!readOne(deadline)) break;
    }
  }
  uint64_t receivedPayload() const { return received_; }

 private:
  struct Answer {
    bool success = false;
    int errorCode = 0;
  };

  static Endpoint loopback(uint16_t port) { return *Endpoint::parse("127.0.0.1:" + std::to_string(port)); }

  stun::TransactionId nextTid() {
    stun::TransactionId t;
    const uint64_t n = ++counter_ + static_cast<uint64_t>(getpid()) * 1000003ULL;
    for (size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<uint8_t>(n >> ((i % 8) * 8)) ^ static_cast<uint8_t>(i * 37);
    return t;
  }
  void send(const Bytes& msg) {
    sendto(fd_, msg.data(), msg.size(), 0, reinterpret_cast<const sockaddr*>(&server_), sizeof(server_));
  }

  // One datagram: a STUN response (returned through lastResponse_) or relayed data (counted).
  bool readOne(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) <= 0) return false;
    uint8_t buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return true;
    const ByteSpan bytes(buf, static_cast<size_t>(n));
    if (stun::classify(bytes) == stun::PacketKind::ChannelData) {
      if (auto cd = stun::parseChannelData(bytes)) received_ += cd->data.size();
      return true;
    }
    auto msg = stun::MessageView::parse(bytes);
    if (!msg) return true;
    if (msg->is(stun::Method::Data, stun::Class::Indication)) {
      if (auto d = msg->data()) received_ += d->size();
      return true;
    }
    if (msg->transactionId() == pending_) {
      Answer a;
      a.success = msg->cls() == stun::Class::Success;
      if (auto e = msg->errorCode()) a.errorCode = e->code;
      if (auto realm = msg->string(stun::attr::Realm)) realm_ = std::string(*realm);
      if (auto nonce = msg->string(stun::attr::Nonce)) nonce_ = std::string(*nonce);
      answer_ = a;
    }
    return true;
  }

  template <class Fill>
  std::optional<Answer> request(stun::Method m, Fill fill, bool authenticate) {
    for (int staleRetry = 0; staleRetry < 2; ++staleRetry) {
      pending_ = nextTid();
      stun::MessageBuilder b(m, stun::Class::Request, pending_);
      fill(b);
      if (authenticate) {
        b.addString(stun::attr::Username, user_).addString(stun::attr::Realm, realm_).addString(stun::attr::Nonce, nonce_);
        b.addMessageIntegrity(stun::longTermKey(user_, realm_, password_));
      }
      const Bytes msg = std::move(b).finish();
      answer_.reset();
      for (int attempt = 0; attempt < 5 && !answer_; ++attempt) {
        send(msg);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500 << attempt);
        while (!answer_ && readOne(deadline)) {
        }
      }
      if (!answer_ || answer_->errorCode != 438) return answer_;
    }
    return answer_;
  }

  int fd_;
  sockaddr_in server_{};
  std::string user_, password_, realm_, nonce_;
  stun::TransactionId pending_;
  std::optional<Answer> answer_;
  uint64_t counter_ = 0;
  uint64_t received_ = 0;
};

std::string adminUrl(const Node& node) { return "http://" + node.ready()["admin"].get<std::string>(); }

Result<cli::HttpReply, std::string> adminGet(const Node& node, const std::string& target,
                                             const std::string& token = kToken) {
  auto url = cli::parseHttpUrl(adminUrl(node));
  if (!url) return unexpected(url.error());
  cli::HttpCall call;
  call.target = target;
  call.authorization = "Bearer " + token;
  return cli::httpRequest(*url, call);
}

nlohmann::json usage(const Node& node, const std::string& query = "") {
  auto reply = adminGet(node, "/v1/usage" + query);
  if (!reply || reply->status != 200) return nullptr;
  return nlohmann::json::parse(reply->body, nullptr, false);
}

uint64_t totalOf(const nlohmann::json& doc, const char* key) {
  if (!doc.is_object() || !doc.contains("totals")) return 0;
  return doc["totals"].value(key, uint64_t{0});
}

struct DbTotals {
  int64_t toPeer = 0, toClient = 0, rows = 0, open = 0;
};
DbTotals readDb(const std::string& dataDir) {
  DbTotals t;
  auto db = storage::Database::open(dataDir + "/rendezvous.db");
  if (!db) return t;
  auto s = db->prepare("SELECT coalesce(sum(bytes_to_peer), 0), coalesce(sum(bytes_to_client), 0) FROM identity_days");
  if (auto row = s ? s->step() : Result<bool, storage::DbError>(false); row && *row) {
    t.toPeer = s->columnInt64(0);
    t.toClient = s->columnInt64(1);
  }
  auto r = db->prepare("SELECT count(*), coalesce(sum(ended IS NULL), 0) FROM allocations");
  if (auto row = r ? r->step() : Result<bool, storage::DbError>(false); row && *row) {
    t.rows = r->columnInt64(0);
    t.open = r->columnInt64(1);
  }
  return t;
}

std::string scraper() { return std::string(RDV_SOURCE_DIR_FOR_TESTS) + "/tests/integration/prometheus_scrape.py"; }

std::vector<std::string> nodeArgs(const std::string& dataDir, const std::string& workers = "2") {
  return {"--listen", "127.0.0.1:0", "--workers", workers, "--user", "alice:wonderland", "--user", "bob:builder",
          "--allow-peer", "127.0.0.0/8", "--admin-listen", "127.0.0.1:0", "--admin-token", kToken,
          "--ledger-flush-interval", "100", "--data-dir", dataDir};
}

TEST(LedgerUsage, CostModelKeysAreValidatedByName) {
  auto ok = run({binary("rendezvousd"), "--price-per-gb-to-peer", "0.05", "--price-per-allocation-hour", "0.002",
                 "--currency", "EUR", "--ledger-flush-interval", "250", "--print-config"});
  ASSERT_EQ(ok.exitCode, 0) << ok.err;
  auto j = nlohmann::json::parse(ok.out, nullptr, false);
  EXPECT_EQ(j["price-per-gb-to-peer"], 0.05);
  EXPECT_EQ(j["currency"], "EUR");
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"price-per-gb-to-peer", "cheap"},
           {"price-per-gb-to-client", "-1"},
           {"price-per-allocation-hour", "nan"},
           {"currency", ""},
           {"ledger-flush-interval", "5000"}}) {
    auto r = run({binary("rendezvousd"), "--" + flag, value, "--check-config"});
    EXPECT_EQ(r.exitCode, 2) << flag;
    EXPECT_NE(r.err.find("'" + flag + "'"), std::string::npos) << r.err;
  }
}

TEST(LedgerUsage, AdminApiNeedsTokenAndNamesBadParameters) {
  TempDir dir;
  Node node(nodeArgs(dir.file("data")));
  ASSERT_TRUE(node.started()) << node.log();
  auto refused = adminGet(node, "/v1/usage", "not-the-token-at-all");
  ASSERT_TRUE(refused.ok()) << refused.error();
  EXPECT_EQ(refused->status, 401);
  for (const auto& [query, param] : std::vector<std::pair<std::string, std::string>>{
           {"?by=country", "'by'"},
           {"?since=2026-13-01", "'since'"},
           {"?until=yesterday", "'until'"},
           {"?since=2026-11-22&until=2026-11-01", "'since'"}}) {
    auto r = adminGet(node, "/v1/usage" + query);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->status, 400) << query;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    EXPECT_EQ(j.value("error", ""), "bad-request") << r->body;
    EXPECT_NE(j.value("message", "").find(param), std::string::npos) << r->body;
  }
  auto doc = usage(node, "?since=2026-11-01&until=2026-11-22&by=class");
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["since"], "2026-11-01");
  EXPECT_EQ(doc["until"], "2026-11-22");
  EXPECT_EQ(doc["by"], "class");
  EXPECT_EQ(doc["currency"], "USD");
  EXPECT_EQ(doc["prices"]["per_gb_to_peer"], 0.09);
  EXPECT_EQ(doc["totals"]["allocations"], 0);
  EXPECT_TRUE(doc["rows"].is_array());
  EXPECT_EQ(doc["sessions"], (nlohmann::json{{"direct", 0}, {"relayed", 0}}));
  EXPECT_EQ(doc["projection"]["basis_seconds"], 86400);
  const auto todayUtc = [] {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
  };
  const std::string before = todayUtc();
  auto defaults = usage(node);
  const std::string after = todayUtc();  // the request may straddle midnight UTC
  ASSERT_TRUE(defaults.is_object());
  EXPECT_EQ(defaults["by"], "identity");
  const std::string until = defaults.value("until", "");
  EXPECT_TRUE(until == before || until == after) << "until " << until << ", today (UTC) " << before;
}

// coturn's client and ours through one node; the peer counts. Then SIGTERM: the ledger is exact.
TEST(LedgerUsage, TotalsEqualWhatThePeerSawWithCoturnAndOurClient) {
  ASSERT_TRUE(onPath("turnutils_uclient")) << "coturn's turnutils are needed (scripts/install-deps.sh --test)";
  TempDir dir;
  const std::string data = dir.file("data");
  Node node(nodeArgs(data));
  ASSERT_TRUE(node.started()) << node.log();
  CountingEchoPeer peer;

  // coturn: 2 clients x 10 messages of 120 bytes over channels, no RTCP stream (-c).
  auto uc = run({"turnutils_uclient", "-u", "alice", "-w", "wonderland", "-c", "-p", std::to_string(node.udpPort()),
                 "-e", "127.0.0.1", "-r", std::to_string(peer.port()), "-n", "10", "-m", "2", "-z", "5", "-l", "120",
                 "127.0.0.1"},
                40s);
  const std::string ucText = uc.out + uc.err;
  ASSERT_EQ(uc.exitCode, 0) << ucText;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(ucText, m, std::regex(R"(start_mclient: tot_send_bytes ~ ([0-9]+), tot_recv_bytes ~ ([0-9]+))")))
      << ucText;
  EXPECT_EQ(std::stoull(m[1]), 2400u);
  EXPECT_EQ(peer.received(), 2400u);

  // Ours: bob, channel data and Send indications of known sizes, echoed back.
  MiniTurnClient ours(node.udpPort(), "bob", "builder");
  ASSERT_TRUE(ours.allocate());
  ASSERT_TRUE(ours.channelBind(peer.port(), 0x4001));
  uint64_t sent = 0;
  for (size_t i = 1; i <= 40; ++i) {
    ours.sendChannel(0x4001, 10 * i);
    ours.sendIndication(peer.port(), 7 * i);
    sent += 17 * i;
  }
  ASSERT_TRUE(waitUntil([&] { return peer.received() == 2400 + sent; }, 10s)) << peer.received();
  ASSERT_TRUE(waitUntil([&] {
    ours.pump(std::chrono::steady_clock::now() + 20ms);
    return ours.receivedPayload() == sent;
  }, 10s)) << ours.receivedPayload() << " of " << sent;
  ASSERT_TRUE(ours.release());

  // The ledger (flushing every 100 ms) catches up with the peer's counts, exactly.
  const uint64_t toPeer = peer.received(), toClient = peer.echoed();
  ASSERT_TRUE(waitUntil([&] {
    auto doc = usage(node);
    return totalOf(doc, "bytes_to_peer") == toPeer && totalOf(doc, "bytes_to_client") == toClient;
  }, 10s)) << usage(node).dump(2);
  auto doc = usage(node);
  EXPECT_EQ(doc["rows"].size(), 2u) << doc.dump(2);  // alice and bob
  std::map<std::string, nlohmann::json> rows;
  for (const auto& r : doc["rows"]) rows[r["key"]] = r;
  ASSERT_TRUE(rows.count("alice") && rows.count("bob")) << doc.dump(2) << node.log();
  EXPECT_EQ(rows["bob"]["bytes_to_peer"], sent);
  EXPECT_EQ(rows["bob"]["bytes_to_client"], sent);
  EXPECT_EQ(rows["bob"]["packets_to_peer"], 80);
  EXPECT_EQ(rows["bob"]["class"], "unlimited");  // a static user: the operator made the account
  EXPECT_EQ(rows["alice"]["bytes_to_peer"], 2400);
  EXPECT_GE(rows["alice"]["allocations"].get<int>(), 2);
  const double expectedCost = static_cast<double>(toPeer + toClient) / 1e9 * 0.09;
  EXPECT_NEAR(doc["totals"]["cost"].get<double>(), expectedCost, 1e-6);
  EXPECT_GE(doc["end_reasons"].value("deleted", 0), 1) << doc.dump(2);

  // /metrics: parses with the reference parser; relay counters, ledger counters and /v1/usage agree.
  auto scrape = run({"/usr/bin/python3", scraper(), adminUrl(node) + "/metrics", kToken});
  ASSERT_EQ(scrape.exitCode, 0) << scrape.err;
  auto metrics = nlohmann::json::parse(scrape.out, nullptr, false);
  ASSERT_TRUE(metrics.is_object()) << scrape.out;
  EXPECT_EQ(metrics.value(R"(rendezvous_relay_bytes_total{direction="to_peer"})", -1.0), static_cast<double>(toPeer))
      << scrape.out;
  EXPECT_EQ(metrics.value(R"(rendezvous_relay_bytes_total{direction="to_client"})", -1.0),
            static_cast<double>(toClient));
  EXPECT_EQ(metrics.value(R"(rendezvous_ledger_bytes_total{direction="to_peer"})", -1.0), static_cast<double>(toPeer));
  EXPECT_EQ(metrics.value(R"(rendezvous_ledger_bytes_total{direction="to_client"})", -1.0),
            static_cast<double>(toClient));
  EXPECT_GE(metrics.value("rendezvous_ledger_flushes_total", -1.0), 1.0);
  // alice and bob are static users (class "unlimited"); nothing was refused by quota or dropped.
  EXPECT_EQ(metrics.value(R"(rendezvous_relay_allocations_active{class="limited"})", -1.0), 0.0) << scrape.out;
  EXPECT_EQ(metrics.value(R"(rendezvous_relay_quota_rejections_total{code="486"})", -1.0), 0.0) << scrape.out;
  EXPECT_EQ(metrics.value(R"(rendezvous_relay_drops_total{reason="no_permission"})", -1.0), 0.0) << scrape.out;
  EXPECT_GE(metrics.value(R"(rendezvous_relay_allocations_ended_total{reason="deleted"})", -1.0), 1.0) << scrape.out;

  // SIGTERM: every allocation ends and the ledger writes it all; the file agrees exactly.
  auto status = node.process().stop(SIGTERM);
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << node.log();
  auto db = readDb(data);
  EXPECT_EQ(db.toPeer, static_cast<int64_t>(toPeer));
  EXPECT_EQ(db.toClient, static_cast<int64_t>(toClient));
  EXPECT_GE(db.rows, 3);
  EXPECT_EQ(db.open, 0);  // every allocation ended ("deleted", or "shutdown" at SIGTERM)
  if (HasFailure()) ADD_FAILURE() << "node log:\n" << node.log();
}

// kill -9 in the middle of relaying: the database opens (WAL), the rows a crash left open are closed
// as "interrupted", and the totals lag the peer's count by at most what the last flush interval carried.
TEST(LedgerUsage, Kill9DuringLoadLosesAtMostTheLastFlush) {
  TempDir dir;
  const std::string data = dir.file("data");
  CountingEchoPeer peer;
  peer.setEcho(false);
  uint64_t sentBeforeKill = 0;
  {
    Node node(nodeArgs(data, "1"));
    ASSERT_TRUE(node.started()) << node.log();
    MiniTurnClient ours(node.udpPort(), "bob", "builder");
    ASSERT_TRUE(ours.allocate());
    ASSERT_TRUE(ours.channelBind(peer.port(), 0x4002));
    // Load for a while; the ledger flushes every 100 ms meanwhile.
    for (int round = 0; round < 30; ++round) {
      for (int i = 0; i < 20; ++i) ours.sendChannel(0x4002, 500);
      ASSERT_TRUE(waitUntil([&] { return peer.received() == static_cast<uint64_t>(round + 1) * 20 * 500; }, 5s));
      std::this_thread::sleep_for(10ms);  // pacing, not a readiness wait
    }
    sentBeforeKill = peer.received();
    // The engine's usage deltas (every second) book live traffic: the ledger catches up with the load,
    // then one more burst and kill -9 right after it (within the same usage/flush interval).
    ASSERT_TRUE(waitUntil([&] { return totalOf(usage(node), "bytes_to_peer") == sentBeforeKill; }, 10s))
        << usage(node).dump(2);
    for (int i = 0; i < 20; ++i) ours.sendChannel(0x4002, 500);
    ASSERT_TRUE(node.process().stop(SIGKILL).has_value());
  }
  const uint64_t relayed = peer.received();
  EXPECT_GE(relayed, sentBeforeKill);
  auto before = readDb(data);
  EXPECT_LE(static_cast<uint64_t>(before.toPeer), relayed);
  EXPECT_EQ(before.open, 1);  // the live allocation: no end was written

  // Restart on the same data: the ledger opens, closes the interrupted row, and carries on.
  Node again(nodeArgs(data, "1"));
  ASSERT_TRUE(again.started()) << again.log();
  auto doc = usage(again);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["end_reasons"].value("interrupted", 0), 1) << doc.dump(2);
  const uint64_t booked = totalOf(doc, "bytes_to_peer");
  EXPECT_EQ(static_cast<int64_t>(booked), before.toPeer);
  EXPECT_LE(booked, relayed);
  // At most the last interval is missing: everything booked before the last burst is there, the burst
  // (10 kB, sent just before the kill) may be missing in part or whole; never a partial flush.
  EXPECT_GE(booked, sentBeforeKill) << "booked " << booked << " relayed " << relayed;
  auto after = readDb(data);
  EXPECT_EQ(after.open, 0);
  // Today's booked bytes seed the daily budgets of the quota engine.
  EXPECT_NE(again.log().find("quota-seeded-from-ledger"), std::string::npos) << again.log();

  // SIGTERM right after a burst on a live allocation, before any usage tick could book it: the node
  // ends the allocation ("shutdown") and the ledger writes it all before exiting. Exact.
  MiniTurnClient late(again.udpPort(), "alice", "wonderland");
  ASSERT_TRUE(late.allocate());
  ASSERT_TRUE(late.channelBind(peer.port(), 0x4003));
  const uint64_t base = peer.received();
  for (int i = 0; i < 50; ++i) late.sendChannel(0x4003, 321);
  ASSERT_TRUE(waitUntil([&] { return peer.received() == base + 50 * 321; }, 5s));
  auto status = again.process().stop(SIGTERM);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << again.log();
  auto final = readDb(data);
  EXPECT_EQ(final.toPeer, static_cast<int64_t>(booked + 50 * 321));
  EXPECT_EQ(final.open, 0);
}

// path-report frames from an authenticated signalling peer are counted per day, by path.
TEST(LedgerUsage, PathReportsAreCountedInSessions) {
  TempDir dir;
  std::vector<std::string> args = nodeArgs(dir.file("data"), "1");
  args.insert(args.end(), {"--http-listen", "127.0.0.1:0"});
  Node node(args);
  ASSERT_TRUE(node.started()) << node.log();
  auto ws = cli::WebSocketClient::connect("http://" + node.http(), "/v1/signal", 5s);
  ASSERT_TRUE(ws.ok()) << ws.error();
  auto& client = **ws;
  const auto deadline = [] { return std::chrono::steady_clock::now() + 5s; };
  auto challengeText = client.receive(deadline());
  ASSERT_TRUE(challengeText);
  auto challenge = signalling::decodeFrame(*challengeText);
  ASSERT_TRUE(challenge.ok());
  const auto& c = std::get<signalling::ChallengeFrame>(*challenge);
  auto key = identity::PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  auto sig = signalling::signChallenge(*key, c.hub, c.nonce);
  ASSERT_TRUE(sig.ok());
  ASSERT_TRUE(client.sendText(signalling::encodeFrame(signalling::AuthFrame{key->nodeId(), *sig})));
  auto welcome = client.receive(deadline());
  ASSERT_TRUE(welcome && welcome->find("welcome") != std::string::npos) << welcome.value_or("<none>");
  for (const auto& [path, local] : {std::pair{"relayed", "relay"}, {"direct", "host"}, {"direct", "srflx"}})
    ASSERT_TRUE(client.sendText(signalling::encodeFrame(signalling::PathReportFrame{path, local, "srflx"})));
  ASSERT_TRUE(client.sendText(R"({"type":"path-report","path":"sideways","local":"host","remote":"host"})"));
  auto error = client.receive(deadline());
  ASSERT_TRUE(error && error->find("bad-frame") != std::string::npos) << error.value_or("<none>");
  ASSERT_TRUE(waitUntil([&] {
    auto doc = usage(node);
    return doc.is_object() && doc["sessions"] == nlohmann::json{{"direct", 2}, {"relayed", 1}};
  }, 10s)) << usage(node).dump(2);
}

}  // namespace
}  // namespace rdv::test
