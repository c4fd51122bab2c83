// Attacks on the HTTP/WebSocket layer of a real rendezvousd (issue 12, item 3): many connections from
// one address, many idle WebSockets, a peer that stops answering, a client that never reads. Attackers
// use their own 127.x addresses; after each attack an honest client on 127.0.0.1 is still served and
// the daemon's RSS stays within the bound stated in each test.
#include <gtest/gtest.h>

#include <poll.h>

#include <map>
#include <thread>
#include <vector>

#include "tests/abuse/honest_client.h"
#include "tests/abuse/hub_ws_client.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

using abuse::WsClient;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "abuse-lab-admin-token-0123456789";

// One sample of the node's /metrics ("name" or "name{label=\"v\"}"); -1 when absent.
long metric(Node& node, const std::string& sample) {
  const int fd = abuse::connectFrom("127.0.0.1", node.ready()["admin"].get<std::string>());
  if (fd < 0) return -1;
  abuse::sendAll(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(kToken) +
                         "\r\nConnection: close\r\n\r\n");
  std::string in;
  abuse::readAtLeast(fd, in, SIZE_MAX, Clock::now() + 10s);
  ::close(fd);
  const std::string prefix = "rendezvous_" + sample + " ";
  for (size_t at = in.find(prefix); at != std::string::npos; at = in.find(prefix, at + 1))
    if (at == 0 || in[at - 1] == '\n') return std::stol(in.substr(at + prefix.size()));
  return -1;
}

// True once the server has closed `fd` (EOF or reset), false when it is still open at the deadline.
bool closedBy(int fd, Clock::time_point deadline) {
  char buf[4096];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(left, 0))) <= 0) return false;
    if (::recv(fd, buf, sizeof(buf), 0) <= 0) return true;
  }
}

std::vector<std::string> nodeArgs(std::vector<std::string> extra) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--admin-token", kToken};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// 100 connections from 127.0.0.60 against a cap of 16 per IP: 84 are closed at accept; three more
// addresses fill the total cap of 64 and the next connection is closed too. With those three gone, the
// honest client is served while 127.0.0.60 still holds its 16. Bound: RSS grows by less than 16 MiB.
TEST(HttpAbuse, ConnectionCapsInTotalAndPerAddress) {
  TempDir dir;
  Node node(nodeArgs({"--http-max-connections", "64", "--http-max-connections-per-ip", "16", "--http-idle-timeout", "60"}));
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  std::vector<int> flood;
  for (int i = 0; i < 100; ++i) flood.push_back(abuse::connectFrom("127.0.0.60", node.http()));
  int closed = 0;
  const auto settled = Clock::now() + 3s;  // the refused ones are closed at once; the others stay open
  for (int fd : flood) closed += closedBy(fd, settled) ? 1 : 0;
  std::cout << "[ measured ] 100 connections from one address: " << closed << " closed at accept\n";
  EXPECT_EQ(closed, 84);
  EXPECT_EQ(metric(node, "http_connections_refused_total{cap=\"per_ip\"}"), 84);
  std::vector<int> others;
  for (int a = 61; a <= 63; ++a)
    for (int i = 0; i < 16; ++i) others.push_back(abuse::connectFrom("127.0.0." + std::to_string(a), node.http()));
  const int over = abuse::connectFrom("127.0.0.64", node.http());
  EXPECT_TRUE(closedBy(over, Clock::now() + 3s)) << "the 65th connection is over the total cap";
  ::close(over);
  EXPECT_EQ(metric(node, "http_connections_refused_total{cap=\"total\"}"), 1);
  for (int fd : others) ::close(fd);
  // The metrics request itself is one connection: 16 held by 127.0.0.60 plus it.
  ASSERT_TRUE(waitUntil([&] { return metric(node, "http_connections") <= 17; }, 10s));
  abuse::expectHonestClientServed(node, dir, "conncap");
  for (int fd : flood) ::close(fd);
  const long rssAfter = node.process().rssKiB();
  std::cout << "[ measured ] RSS " << rssBefore << " KiB -> " << rssAfter << " KiB\n";
  EXPECT_LT(rssAfter - rssBefore, 16 * 1024);
}

// 200 WebSockets from 127.0.0.70-73 upgrade and say nothing: each is closed with 1008 after
// http-idle-timeout (2 s). An authenticated peer on 127.0.0.74 that answers no ping is dropped after two
// ping intervals (5 s each); an honest `rdv inbox` that stays quiet for longer answers the pings and
// still gets its message. Bound: RSS grows by less than 32 MiB.
TEST(HttpAbuse, IdleWebSocketsAreClosedAndDeadPeersDropped) {
  TempDir dir;
  Node node(nodeArgs({"--http-idle-timeout", "2", "--signal-ping-interval", "5"}));
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  std::vector<std::unique_ptr<WsClient>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<WsClient>());
    ASSERT_TRUE(idle.back()->open("127.0.0." + std::to_string(70 + i / 50), node.http())) << i;
  }
  const std::string url = "http://" + node.http();
  Peer bob = makePeer(dir, "quiet-bob"), alice = makePeer(dir, "quiet-alice");
  Process inbox({binary("rdv"), "inbox", "--node", url, "--key", bob.key, "--count", "1", "--timeout", "40"},
                dir.file("quiet-inbox.log"));
  ASSERT_TRUE(waitUntil([&] { return inbox.log().find("listening as") != std::string::npos; }, 15s)) << inbox.log();
  WsClient dead;
  ASSERT_TRUE(dead.open("127.0.0.74", node.http()));
  ASSERT_TRUE(dead.authenticate(identity::PrivateKey::generate().value(), Clock::now() + 10s));
  const auto authenticatedAt = Clock::now();

  int closedWith1008 = 0;
  for (auto& ws : idle) {
    while (ws->receive(Clock::now() + 10s)) {  // the challenge, then the close
    }
    closedWith1008 += ws->closeCode() == 1008 ? 1 : 0;
  }
  EXPECT_EQ(closedWith1008, 200);
  while (dead.receive(authenticatedAt + 20s)) {  // pings are not text: receive() skips them
  }
  const auto deadAfter = Clock::now() - authenticatedAt;
  std::cout << "[ measured ] a peer answering no ping was dropped after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(deadAfter).count() << " ms\n";
  EXPECT_TRUE(dead.closedByPeer());
  EXPECT_GE(deadAfter, 9s);
  EXPECT_LT(deadAfter, 16s);
  // The honest inbox has been quiet for more than two ping intervals by now: it answered the pings.
  auto online = run({binary("rdv"), "send", "--node", url, "--key", alice.key, "--to", bob.enr, "still here"}, 20s);
  ASSERT_EQ(online.exitCode, 0) << online.err;
  EXPECT_NE(abuse::lastLine(online.out).find("\"delivered\""), std::string::npos) << online.out;
  ASSERT_TRUE(waitUntil([&] { return !inbox.running(); }, 20s));
  EXPECT_NE(inbox.log().find("still here"), std::string::npos) << inbox.log();
  EXPECT_GE(metric(node, "websocket_cut_total{reason=\"idle\"}"), 200);
  EXPECT_EQ(metric(node, "websocket_cut_total{reason=\"ping_timeout\"}"), 1);
  abuse::expectHonestClientServed(node, dir, "idle");
  const long rssAfter = node.process().rssKiB();
  std::cout << "[ measured ] RSS " << rssBefore << " KiB -> " << rssAfter << " KiB\n";
  EXPECT_LT(rssAfter - rssBefore, 32 * 1024);
}

// A recipient on 127.0.0.80 authenticates and never reads while 127.0.0.81 sends it 60 KiB envelopes:
// once its 4 MiB queue would overflow it is closed (slow consumer), its queue freed, and it is gone
// within the 5 s close deadline whether or not the close frame could be written. Further envelopes are
// stored. Bound: RSS grows by less than 48 MiB.
TEST(HttpAbuse, AClientThatNeverReadsIsCutAndFreed) {
  TempDir dir;
  Node node(nodeArgs({"--signal-rate", "2000", "--signal-burst", "2000"}));
  ASSERT_TRUE(node.started()) << node.log();
  const long rssBefore = node.process().rssKiB();
  signalling::CryptoRng rng;
  const auto deadline = Clock::now() + 90s;
  const auto sinkKey = identity::PrivateKey::generate().value();
  const auto senderKey = identity::PrivateKey::generate().value();
  WsClient sink, sender;
  ASSERT_TRUE(sink.open("127.0.0.80", node.http(), "/v1/signal", 4096));
  ASSERT_TRUE(sink.authenticate(sinkKey, deadline));
  ASSERT_TRUE(sender.open("127.0.0.81", node.http()));
  ASSERT_TRUE(sender.authenticate(senderKey, deadline));
  const std::string body(60 * 1024, 's');
  std::map<std::string, int> outcomes;
  for (uint64_t seq = 1; seq <= 400 && outcomes["stored"] < 3 && Clock::now() < deadline; ++seq) {
    ASSERT_TRUE(sender.sendText(abuse::envelopeText(senderKey, sinkKey.publicKey(), seq, body, rng)));
    ++outcomes[abuse::outcomeOf(sender, seq, deadline)];
  }
  for (const auto& [what, n] : outcomes) std::cout << "[ measured ] never-reader outcome " << what << ": " << n << "\n";
  EXPECT_EQ(outcomes.count("no-answer"), 0u);
  EXPECT_GE(outcomes["stored"], 3);
  EXPECT_EQ(metric(node, "websocket_cut_total{reason=\"slow_consumer\"}"), 1);
  const auto cutAt = Clock::now();
  ASSERT_TRUE(waitUntil([&] { return metric(node, "signalling_connections") == 1; }, 8s)) << "the sink is dropped";
  std::cout << "[ measured ] the never-reading client was dropped "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - cutAt).count()
            << " ms after its queue overflowed\n";
  // The close frame went out when its socket drained a little, or the 5 s deadline dropped it.
  std::cout << "[ measured ] closes that hit the deadline: " << metric(node, "websocket_cut_total{reason=\"close_timeout\"}") << "\n";
  abuse::expectHonestClientServed(node, dir, "never-reads");
  const long rssAfter = node.process().rssKiB();
  std::cout << "[ measured ] RSS " << rssBefore << " KiB -> " << rssAfter << " KiB\n";
  EXPECT_LT(rssAfter - rssBefore, 48 * 1024);
}

}  // namespace
}  // namespace rdv::test
