// The TURN relay of the real rendezvousd driven by coturn's own clients (Debian package coturn):
// turnutils_peer is the echo peer, turnutils_uclient the TURN client, over UDP, TCP and TLS, with channels
// and Send indications, client-to-client, extra requests, the REST secret, and the negative test modes.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <regex>

#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

constexpr int kMessages = 30;       // -n: messages per client
constexpr int kClients = 2;         // -m
constexpr int kMessageLength = 200; // -l

int udpSocketOn(uint16_t port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  return ntohs(sin.sin_port);
}

// turnutils_peer listens on PORT and PORT+1 (uclient sends its "RTCP" stream to the second): find a free
// pair, outside [avoidMin, avoidMax] (a node's relay port range, when the test needs the peer off it).
std::optional<uint16_t> freeUdpPortPair(uint16_t avoidMin = 1, uint16_t avoidMax = 0) {
  for (int i = 0; i < 200; ++i) {
    int a = udpSocketOn(0);
    if (a < 0) continue;
    const uint16_t p = boundPort(a);
    if (p + 1 >= avoidMin && p <= avoidMax) {
      close(a);
      continue;
    }
    int b = p < 65535 ? udpSocketOn(static_cast<uint16_t>(p + 1)) : -1;
    close(a);
    if (b >= 0) {
      close(b);
      return p;
    }
  }
  return std::nullopt;
}

// Does something on 127.0.0.1:port echo a datagram back?
bool echoes(uint16_t port) {
  int fd = udpSocketOn(0);
  if (fd < 0) return false;
  timeval tv{0, 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  const std::string probe = "rdv-echo-probe";
  bool ok = false;
  for (int i = 0; i < 5 && !ok; ++i) {
    sendto(fd, probe.data(), probe.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    char buf[64];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    ok = n == static_cast<ssize_t>(probe.size()) && std::string(buf, static_cast<size_t>(n)) == probe;
  }
  close(fd);
  return ok;
}

// coturn's echo peer on a free port pair of 127.0.0.1; retried on another pair if it does not come up
// (the pair may be taken between our probe and its bind, e.g. by a relay socket of a parallel test).
class EchoPeer {
 public:
  explicit EchoPeer(const TempDir& dir, uint16_t avoidMin = 1, uint16_t avoidMax = 0) {
    for (int attempt = 0; attempt < 5 && !process_; ++attempt) {
      auto port = freeUdpPortPair(avoidMin, avoidMax);
      if (!port) continue;
      auto p = std::make_unique<Process>(
          std::vector<std::string>{"turnutils_peer", "-p", std::to_string(*port), "-L", "127.0.0.1"},
          dir.file("peer-" + std::to_string(attempt) + ".log"));
      if (waitUntil([&] { return !p->running() || (echoes(*port) && echoes(static_cast<uint16_t>(*port + 1))); }, 3s) &&
          p->running()) {
        port_ = *port;
        process_ = std::move(p);
      }
    }
  }
  bool started() const { return process_ != nullptr; }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  std::unique_ptr<Process> process_;
};

struct UclientReport {
  CommandResult result;
  std::string text;  // stdout + stderr: uclient logs to both
  std::optional<long> lost, sentBytes, receivedBytes;
};

UclientReport uclient(const std::vector<std::string>& flags, uint16_t serverPort, uint16_t peerPort,
                      std::chrono::milliseconds timeout = 40s, int messages = kMessages, int clients = kClients) {
  std::vector<std::string> argv{"turnutils_uclient"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"-p", std::to_string(serverPort), "-e", "127.0.0.1", "-r", std::to_string(peerPort), "-n",
                           std::to_string(messages), "-m", std::to_string(clients), "-z", "5", "-l",
                           std::to_string(kMessageLength), "127.0.0.1"});
  UclientReport r;
  r.result = run(argv, timeout);
  r.text = r.result.out + r.result.err;
  std::smatch m;
  if (std::regex_search(r.text, m, std::regex(R"(Total lost packets ([0-9]+))"))) r.lost = std::stol(m[1]);
  // The summary line (the per-second progress lines carry "msz=" and do not match).
  if (std::regex_search(r.text, m, std::regex(R"(start_mclient: tot_send_bytes ~ ([0-9]+), tot_recv_bytes ~ ([0-9]+))"))) {
    r.sentBytes = std::stol(m[1]);
    r.receivedBytes = std::stol(m[2]);
  }
  return r;
}

std::string describe(const UclientReport& r) {
  return "exit " + std::to_string(r.result.exitCode) + (r.result.timedOut ? " (timed out)" : "") + "\n" + r.text;
}

uint16_t portOf(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

// Zero loss, and every byte sent came back. `expectedBytes` is exact, or a lower bound with
// client-to-client (-y), where uclient decides how many sessions pair up.
void expectNoLoss(const UclientReport& r, long expectedBytes, bool atLeast = false) {
  EXPECT_EQ(r.result.exitCode, 0) << describe(r);
  ASSERT_TRUE(r.lost) << describe(r);
  EXPECT_EQ(*r.lost, 0) << describe(r);
  ASSERT_TRUE(r.sentBytes && r.receivedBytes) << describe(r);
  if (atLeast) {
    EXPECT_GE(*r.sentBytes, expectedBytes) << describe(r);
  } else {
    EXPECT_EQ(*r.sentBytes, expectedBytes) << describe(r);
  }
  EXPECT_EQ(*r.receivedBytes, *r.sentBytes) << describe(r);
}

enum class Transport { Udp, Tcp, Tls };

struct Mode {
  const char* name;
  Transport transport;
  std::vector<std::string> flags;  // besides the transport and the credentials
  bool rest = false;               // REST secret (-W) instead of a static user
};

std::ostream& operator<<(std::ostream& os, const Mode& m) { return os << m.name; }

constexpr const char* kRestSecret = "rest-secret-for-coturn-tests";

class CoturnUclient : public ::testing::TestWithParam<Mode> {};

TEST_P(CoturnUclient, RelaysWithoutLoss) {
  ASSERT_TRUE(onPath("turnutils_uclient") && onPath("turnutils_peer"))
      << "coturn's turnutils are needed (scripts/install-deps.sh --test)";
  const Mode& mode = GetParam();
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  // Two workers: uclient's RTP/RTCP pairs (EVEN-PORT R, then RESERVATION-TOKEN from a second socket) may
  // be split between them.
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key,
             "--workers", "2", "--user", "alice:wonderland", "--auth-secret", "an-old-rest-secret", "--auth-secret",
             kRestSecret, "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  EchoPeer peer(dir);
  ASSERT_TRUE(peer.started()) << "turnutils_peer did not start";

  std::vector<std::string> flags;
  uint16_t port = node.udpPort();
  if (mode.transport == Transport::Tcp) {
    flags = {"-t"};
    port = portOf(node.ready()["tcp"][0].get<std::string>());
  } else if (mode.transport == Transport::Tls) {
    flags = {"-t", "-S", "-E", cert.cert};  // TLS, and the client verifies our certificate
    port = portOf(node.tls());
  }
  if (mode.rest)
    flags.insert(flags.end(), {"-W", kRestSecret, "-u", "rest-id"});  // username EXPIRY:rest-id
  else
    flags.insert(flags.end(), {"-u", "alice", "-w", "wonderland"});
  flags.insert(flags.end(), mode.flags.begin(), mode.flags.end());

  const bool clientToClient = std::find(mode.flags.begin(), mode.flags.end(), "-y") != mode.flags.end();
  auto r = uclient(flags, port, peer.port());
  expectNoLoss(r, long{kMessages} * kClients * kMessageLength, clientToClient);
  if (mode.rest) {
    EXPECT_NE(node.log().find("identity=rest-id"), std::string::npos) << node.log();
  }
  EXPECT_TRUE(node.process().running());
  if (HasFailure()) ADD_FAILURE() << "node log:\n" << node.log();
}

INSTANTIATE_TEST_SUITE_P(
    Modes, CoturnUclient,
    ::testing::Values(Mode{"UdpChannels", Transport::Udp, {}}, Mode{"UdpSend", Transport::Udp, {"-s"}},
                      Mode{"TcpChannels", Transport::Tcp, {}}, Mode{"TcpSend", Transport::Tcp, {"-s"}},
                      Mode{"TlsChannels", Transport::Tls, {}}, Mode{"TlsSend", Transport::Tls, {"-s"}},
                      Mode{"UdpClientToClient", Transport::Udp, {"-y"}},
                      Mode{"TcpClientToClientSend", Transport::Tcp, {"-y", "-s"}},
                      Mode{"UdpExtraRequests", Transport::Udp, {"-G"}},
                      Mode{"TcpExtraRequestsSend", Transport::Tcp, {"-G", "-s"}},
                      Mode{"UdpDontFragmentPadding", Transport::Udp, {"-g", "-D"}},
                      Mode{"UdpRestSecret", Transport::Udp, {}, true},
                      Mode{"TlsRestSecretSend", Transport::Tls, {"-s"}, true}),
    [](const ::testing::TestParamInfo<Mode>& info) { return std::string(info.param.name); });

TEST(CoturnUclient, WrongRestSecretIsRefused) {
  ASSERT_TRUE(onPath("turnutils_uclient"));
  Node node({"--listen", "127.0.0.1:0", "--auth-secret", kRestSecret, "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  auto r = uclient({"-W", "not-the-secret", "-u", "mallory", "-c"}, node.udpPort(), 9, 20s, 1, 1);
  EXPECT_NE(r.result.exitCode, 0) << describe(r);
  EXPECT_NE(r.text.find("Cannot complete Allocation"), std::string::npos) << describe(r);
  EXPECT_EQ(node.log().find("allocation-started"), std::string::npos) << node.log();
}

// coturn's echo peer on the given port pair (no retry: the caller chose the ports).
std::unique_ptr<Process> echoPeerOn(const TempDir& dir, uint16_t port) {
  auto p = std::make_unique<Process>(
      std::vector<std::string>{"turnutils_peer", "-p", std::to_string(port), "-L", "127.0.0.1"}, dir.file("peer.log"));
  if (waitUntil([&] { return !p->running() || (echoes(port) && echoes(static_cast<uint16_t>(port + 1))); }, 3s) &&
      p->running())
    return p;
  return nullptr;
}

// The secure default: without --allow-peer, loopback is a denied peer range (DESIGN principle 6), and
// the node's own address is reachable only at its live relay allocations. Issue 12's finding: a local
// UDP service on an ephemeral port INSIDE the relay port range was reachable (the "own address" rule let
// every port of the range through, before the special-purpose list). The peer here sits in the range.
TEST(CoturnUclient, LoopbackPeerIsRefusedByDefault) {
  ASSERT_TRUE(onPath("turnutils_uclient") && onPath("turnutils_peer"));
  TempDir dir;
  std::unique_ptr<Process> peerProcess;
  uint16_t peerPort = 0;
  for (int attempt = 0; attempt < 5 && !peerProcess; ++attempt) {
    auto pair = freeUdpPortPair();
    if (pair && *pair > 2000 && *pair < 64000) {
      peerPort = *pair;
      peerProcess = echoPeerOn(dir, peerPort);
    }
  }
  ASSERT_TRUE(peerProcess) << "turnutils_peer did not start";
  // A relay range around the peer's port (the kernel's ephemeral range overlaps it, as by default).
  const std::string range = std::to_string(peerPort - 1000) + "-" + std::to_string(peerPort + 1000);
  Node node({"--listen", "127.0.0.1:0", "--user", "alice:wonderland", "--relay-ports", range});
  ASSERT_TRUE(node.started()) << node.log();
  for (const char* transport : {"", "-t"}) {
    std::vector<std::string> flags{"-u", "alice", "-w", "wonderland"};
    uint16_t port = node.udpPort();
    if (*transport) {
      flags.push_back(transport);
      port = portOf(node.ready()["tcp"][0].get<std::string>());
    }
    auto r = uclient(flags, port, peerPort, 20s, 5, 1);
    EXPECT_NE(r.result.exitCode, 0) << describe(r);
    EXPECT_NE(r.text.find("channel bind: error 403"), std::string::npos) << describe(r);
    EXPECT_FALSE(r.lost) << describe(r);
  }
  // Send indications cannot be answered: dropped, so nothing comes back from the peer.
  auto send = uclient({"-u", "alice", "-w", "wonderland", "-s", "-c"}, node.udpPort(), peerPort, 4s, 5, 1);
  EXPECT_TRUE(!send.receivedBytes || *send.receivedBytes == 0) << describe(send);
  EXPECT_EQ(send.text.find("Total lost packets 0 "), std::string::npos) << describe(send);

  // Relay to relay on the same node is allowed by design: two live allocations reach each other, over
  // channels and Send indications, UDP and TCP, still without --allow-peer.
  expectNoLoss(uclient({"-u", "alice", "-w", "wonderland", "-y"}, node.udpPort(), peerPort, 40s, 10, 2),
               10L * 2 * kMessageLength, true);
  expectNoLoss(uclient({"-u", "alice", "-w", "wonderland", "-y", "-s", "-t"},
                       portOf(node.ready()["tcp"][0].get<std::string>()), peerPort, 40s, 10, 2),
               10L * 2 * kMessageLength, true);
  if (HasFailure()) ADD_FAILURE() << "node log:\n" << node.log();
}

// coturn's negative modes: random channel numbers (-N), corrupted requests and data (-R), quick connect
// and exit (-O), random disconnects (-B). Errors and hangs of the client are expected; the node must
// survive and keep relaying.
TEST(CoturnUclient, NegativeModesDoNotHurtTheNode) {
  ASSERT_TRUE(onPath("turnutils_uclient") && onPath("turnutils_peer"));
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key,
             "--workers", "2", "--user", "alice:wonderland", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  EchoPeer peer(dir);
  ASSERT_TRUE(peer.started());
  const uint16_t udp = node.udpPort(), tcp = portOf(node.ready()["tcp"][0].get<std::string>()),
                 tls = portOf(node.tls());
  const std::vector<std::string> user{"-u", "alice", "-w", "wonderland"};
  struct Abuse {
    std::vector<std::string> flags;
    uint16_t port;
  };
  std::vector<Abuse> abuses{{{"-N"}, udp},      {{"-N", "-t"}, tcp}, {{"-N", "-s"}, udp},  {{"-R"}, udp},
                            {{"-R", "-s"}, udp}, {{"-R", "-t"}, tcp}, {{"-R", "-t", "-S"}, tls},
                            {{"-R", "-y"}, udp}, {{"-O"}, udp},       {{"-O", "-t"}, tcp},  {{"-B"}, udp},
                            {{"-B", "-t"}, tcp}};
  // All at once: a UDP client whose corrupted request was dropped waits forever, so each is bounded.
  std::vector<std::future<UclientReport>> runs;
  for (const auto& a : abuses) {
    auto flags = user;
    flags.insert(flags.end(), a.flags.begin(), a.flags.end());
    runs.push_back(std::async(std::launch::async, [flags, port = a.port, &peer] {
      return uclient(flags, port, peer.port(), 10s, 20, 2);
    }));
  }
  for (auto& f : runs) f.get();

  ASSERT_TRUE(node.process().running()) << node.log();
  auto stun = run({binary("rdv"), "stun", node.udp()});
  EXPECT_EQ(stun.exitCode, 0) << stun.err;
  EXPECT_EQ(stun.out.rfind("127.0.0.1:", 0), 0u) << stun.out;
  // And it still relays, over every transport.
  expectNoLoss(uclient(user, udp, peer.port(), 40s, 10, 2), 10L * 2 * kMessageLength);
  auto tlsUser = user;
  tlsUser.insert(tlsUser.end(), {"-t", "-S", "-E", cert.cert});
  expectNoLoss(uclient(tlsUser, tls, peer.port(), 40s, 10, 2), 10L * 2 * kMessageLength);
  EXPECT_TRUE(node.process().running()) << node.log();
}

// Several workers: each client's sockets may land on any worker (SO_REUSEPORT); without the RTCP pair (-c)
// every allocation is independent, and relaying works whichever worker holds it.
TEST(CoturnUclient, FourWorkersWithoutRtcpPair) {
  ASSERT_TRUE(onPath("turnutils_uclient") && onPath("turnutils_peer"));
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--workers", "4", "--user", "alice:wonderland", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  EchoPeer peer(dir);
  ASSERT_TRUE(peer.started());
  const uint16_t tcp = portOf(node.ready()["tcp"][0].get<std::string>());
  expectNoLoss(uclient({"-u", "alice", "-w", "wonderland", "-c"}, node.udpPort(), peer.port(), 40s, 20, 4),
               20L * 4 * kMessageLength);
  expectNoLoss(uclient({"-u", "alice", "-w", "wonderland", "-c", "-t", "-y"}, tcp, peer.port(), 40s, 20, 4),
               20L * 4 * kMessageLength, true);
  if (HasFailure()) ADD_FAILURE() << "node log:\n" << node.log();
}

// EVEN-PORT with the R bit reserves port+1 on the worker that answered the first Allocate; the client's
// second socket, sending RESERVATION-TOKEN, may be hashed to another worker. The token is in the shared
// ReservationBook and the parked socket is adopted by whichever worker gets the claim (8 RTP/RTCP pairs
// over 4 workers: most claims cross workers).
TEST(CoturnUclient, ReservationTokenOnAnotherWorker) {
  ASSERT_TRUE(onPath("turnutils_uclient") && onPath("turnutils_peer"));
  TempDir dir;
  Node node({"--listen", "127.0.0.1:0", "--workers", "4", "--user", "alice:wonderland", "--allow-peer", "127.0.0.0/8"});
  ASSERT_TRUE(node.started()) << node.log();
  EchoPeer peer(dir);
  ASSERT_TRUE(peer.started());
  expectNoLoss(uclient({"-u", "alice", "-w", "wonderland"}, node.udpPort(), peer.port(), 40s, 20, 8),
               20L * 8 * kMessageLength);
  const uint16_t tcp = portOf(node.ready()["tcp"][0].get<std::string>());
  expectNoLoss(uclient({"-u", "alice", "-w", "wonderland", "-t"}, tcp, peer.port(), 40s, 20, 8),
               20L * 8 * kMessageLength);
  EXPECT_EQ(node.log().find("RESERVATION-TOKEN"), std::string::npos) << node.log();
  if (HasFailure()) ADD_FAILURE() << "node log:\n" << node.log();
}

}  // namespace
}  // namespace rdv::test
