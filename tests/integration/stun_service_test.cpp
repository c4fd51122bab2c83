// The STUN Binding service of the real rendezvousd, queried by rdv and by coturn's turnutils_stunclient.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>

#include "rendezvous/base/address.h"
#include "stun/message.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

// rdv stun prints IP:PORT on its own line, and nothing else on stdout.
void expectMappedLoopback(const CommandResult& r) {
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(std::regex_match(r.out, std::regex(R"(127\.0\.0\.1:[0-9]{1,5}\n)"))) << "stdout: " << r.out;
}

TEST(StunService, RdvStunOverUdpTcpAndTls) {
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key});
  ASSERT_TRUE(node.started()) << node.log();
  expectMappedLoopback(run({binary("rdv"), "stun", node.udp()}));
  expectMappedLoopback(run({binary("rdv"), "stun", "--tcp", node.udp()}));
  expectMappedLoopback(run({binary("rdv"), "stun", "--tls", "--ca", cert.cert, node.tls()}));
  // A client that does not trust the certificate refuses it, and says why.
  auto untrusted = run({binary("rdv"), "stun", "--tls", node.tls()});
  EXPECT_NE(untrusted.exitCode, 0);
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
}

TEST(StunService, RdvStunReportsNoAnswer) {
  // Bind a UDP port and never answer: rdv must retransmit, give up and say so.
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)), 0);
  socklen_t len = sizeof(sin);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len);
  auto r = run({binary("rdv"), "stun", "--rto", "10", "127.0.0.1:" + std::to_string(ntohs(sin.sin_port))});
  close(fd);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no answer"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(StunService, CoturnStunclientGetsReflexiveAddress) {
  ASSERT_TRUE(onPath("turnutils_stunclient")) << "coturn's turnutils_stunclient is needed (scripts/install-deps.sh --test)";
  Node node({"--listen", "127.0.0.1:0", "--workers", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  auto r = run({"turnutils_stunclient", "-p", std::to_string(node.udpPort()), "127.0.0.1"}, 20s);
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("UDP reflexive addr: 127.0.0.1:"), std::string::npos) << r.out << r.err;
}

TEST(StunService, Rfc5780WithTwoLoopbackAddresses) {
  ASSERT_TRUE(onPath("turnutils_stunclient"));
  Node node({"--listen", "127.0.0.1:0", "--alt-address", "127.0.0.2"});
  ASSERT_TRUE(node.started()) << node.log();
  const std::string alternate = node.ready()["alternate"];
  ASSERT_EQ(alternate.rfind("127.0.0.2:", 0), 0u) << alternate;

  // coturn's client runs the RFC 5780 sequence: OTHER-ADDRESS advertised, CHANGE-REQUEST answered from it.
  auto r = run({"turnutils_stunclient", "-f", "-p", std::to_string(node.udpPort()), "127.0.0.1"}, 20s);
  EXPECT_EQ(r.exitCode, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Other addr: : " + alternate), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Response origin: : " + alternate), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Response origin: : " + node.udp()), std::string::npos) << r.out;

  // Loopback has no NAT: both behaviours are endpoint-independent.
  auto nat = run({binary("rdv"), "nat-type", "--rto", "100", node.udp()});
  EXPECT_EQ(nat.exitCode, 0) << nat.err;
  EXPECT_NE(nat.out.find("mapping: endpoint-independent"), std::string::npos) << nat.out;
  EXPECT_NE(nat.out.find("filtering: endpoint-independent"), std::string::npos) << nat.out;

  // The default schedule, JSON out, progress on stderr.
  const auto start = std::chrono::steady_clock::now();
  auto quick = run({binary("rdv"), "nat-type", "--json", node.udp()}, 10s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(quick.exitCode, 0) << quick.err;
  EXPECT_NE(quick.out.find(R"("filtering":"endpoint-independent","mapped":[)"), std::string::npos) << quick.out;
  EXPECT_NE(quick.err.find("rdv nat-type: test I (binding to the primary address): answered from"), std::string::npos)
      << quick.err;
  EXPECT_NE(quick.err.find("rdv nat-type: filtering test II"), std::string::npos) << quick.err;
}

// A server that never answers: by default rdv nat-type gives up after 1 s (RTO 100 ms, 4 transmissions,
// last wait 3 x RTO), not after RFC 8489's 39.5 s.
TEST(StunService, NatTypeGivesUpOnASilentServerQuickly) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const std::string silent = "127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
  const auto start = std::chrono::steady_clock::now();
  auto nat = run({binary("rdv"), "nat-type", silent}, 20s);
  const auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_EQ(nat.exitCode, 1) << nat.err;
  EXPECT_NE(nat.err.find("no answer after 4 transmission(s)"), std::string::npos) << nat.err;
  EXPECT_NE(nat.err.find("no response from " + silent), std::string::npos) << nat.err;
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 5s);
}

TEST(StunService, NatTypeWithoutAlternateAddressExplains) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  auto nat = run({binary("rdv"), "nat-type", "--rto", "50", node.udp()});
  EXPECT_NE(nat.exitCode, 0);
  EXPECT_NE(nat.err.find("OTHER-ADDRESS"), std::string::npos) << nat.err;
}

// Sends one datagram to the node and returns the answer (or an empty vector after `timeout`).
Bytes exchange(const Endpoint& node, ByteSpan request, std::chrono::milliseconds timeout = 2s) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_storage ss;
  const unsigned len = node.toSockaddr(ss);
  sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
  Bytes buf(2048);
  const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  close(fd);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

TEST(StunService, AnswersRfc3489ClientsWithMappedAddress) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  stun::TransactionId tid{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
  auto req = stun::MessageBuilder(stun::Method::Binding, stun::Class::Request, tid, 0x01020304).finish();
  Bytes answer = exchange(*Endpoint::parse(node.udp()), req);
  auto msg = stun::MessageView::parse(answer);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->cookie(), 0x01020304u);
  EXPECT_TRUE(msg->is(stun::Method::Binding, stun::Class::Success));
  auto mapped = msg->address(stun::attr::MappedAddress);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->ip().toString(), "127.0.0.1");
  EXPECT_FALSE(msg->has(stun::attr::XorMappedAddress));
}

TEST(StunService, UnknownComprehensionRequiredAttributeGets420) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  const uint8_t value[4] = {0, 0, 0, 1};
  stun::MessageBuilder b(stun::Method::Binding, stun::Class::Request, stun::randomTransactionId());
  b.add(0x7F01, value).addFingerprint();
  Bytes req = b.bytes();
  Bytes answer = exchange(*Endpoint::parse(node.udp()), req);
  auto msg = stun::MessageView::parse(answer);
  ASSERT_TRUE(msg.ok());
  ASSERT_TRUE(msg->errorCode());
  EXPECT_EQ(msg->errorCode()->code, 420);
  EXPECT_EQ(msg->unknownAttributes(), std::vector<uint16_t>{0x7F01});
  EXPECT_TRUE(msg->has(stun::attr::Fingerprint));  // the request had one
}

TEST(StunService, Ipv6Loopback) {
  Node node({"--listen", "[::1]:0"});
  if (!node.started() && node.log().find("Cannot assign") != std::string::npos)
    GTEST_SKIP() << "no IPv6 loopback on this machine: " << node.log();
  ASSERT_TRUE(node.started()) << node.log();
  auto r = run({binary("rdv"), "stun", node.udp()});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(r.out, m, std::regex(R"(\[::1\]:([0-9]{1,5})\n)"))) << "stdout: " << r.out;
  EXPECT_GT(std::stoul(m[1]), 0u);
  EXPECT_LE(std::stoul(m[1]), 65535u);
  // The mapped port itself, from a socket whose port we know: XOR-MAPPED-ADDRESS must be exactly it.
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in6 local{};
  local.sin6_family = AF_INET6;
  local.sin6_addr = in6addr_loopback;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local), 0);
  socklen_t len = sizeof local;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len), 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const auto req = stun::MessageBuilder(stun::Method::Binding, stun::Class::Request, stun::randomTransactionId()).finish();
  sockaddr_storage ss;
  const unsigned sl = Endpoint::parse(node.udp())->toSockaddr(ss);
  ASSERT_EQ(sendto(fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&ss), sl), static_cast<ssize_t>(req.size()));
  Bytes buf(2048);
  const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  close(fd);
  ASSERT_GT(n, 0);
  buf.resize(static_cast<size_t>(n));
  auto msg = stun::MessageView::parse(buf);
  ASSERT_TRUE(msg.ok());
  auto mapped = msg->xorAddress(stun::attr::XorMappedAddress);
  ASSERT_TRUE(mapped);
  EXPECT_EQ(mapped->toString(), "[::1]:" + std::to_string(ntohs(local.sin6_port)));
}

TEST(StunService, SigtermStopsCleanly) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  auto status = node.process().stop(SIGTERM, 5s);
  ASSERT_TRUE(status) << "rendezvousd did not stop after SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_NE(node.log().find("stopped"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace rdv::test
