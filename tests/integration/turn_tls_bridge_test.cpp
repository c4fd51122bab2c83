// The agent's TURN-over-TLS bridge (signalling/agent/turn_tls_bridge.h) against the real rendezvousd's TLS
// listener: bytes written to the loopback TCP side reach the node over TLS and its answers come back;
// a certificate the bridge does not trust is refused (the connection is closed, counted).
#include "signalling/agent/turn_tls_bridge.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <vector>

#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

int connectTo(const Endpoint& to) {
  sockaddr_storage ss{};
  const unsigned len = to.toSockaddr(ss);
  const int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return fd;
  if (fd >= 0) ::close(fd);
  return -1;
}

// A STUN Binding request (RFC 8489 §5: type 0x0001, length 0, the magic cookie, a transaction id).
std::array<uint8_t, 20> bindingRequest() {
  return {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
}

// Reads until `want` bytes, the peer's close or the deadline (10 s).
std::vector<uint8_t> readSome(int fd, size_t want) {
  std::vector<uint8_t> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    uint8_t buf[2048];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.insert(got.end(), buf, buf + n);
  }
  return got;
}

TEST(TurnTlsBridge, CarriesStunOverTlsToTheNode) {
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key});
  ASSERT_TRUE(node.started()) << node.log();
  auto bridge = agent::TurnTlsBridge::start({*Endpoint::parse(node.tls()), cert.cert, ""});
  ASSERT_TRUE(bridge) << bridge.error();
  const int fd = connectTo((*bridge)->local());
  ASSERT_GE(fd, 0);
  const auto req = bindingRequest();
  ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
  const auto header = readSome(fd, 20);
  ASSERT_GE(header.size(), 20u) << node.log();
  EXPECT_EQ(header[0], 0x01);  // Binding success response (0x0101)
  EXPECT_EQ(header[1], 0x01);
  EXPECT_TRUE(std::equal(req.begin() + 8, req.end(), header.begin() + 8));  // same transaction id
  // A second request on the same connection is carried too (the bridge is a stream, not one exchange).
  auto again = bindingRequest();
  again[19] = 99;
  ASSERT_EQ(::send(fd, again.data(), again.size(), MSG_NOSIGNAL), static_cast<ssize_t>(again.size()));
  const size_t first = 20 + (static_cast<size_t>(header[2]) << 8 | header[3]);
  const auto more = readSome(fd, first + 20 - header.size());
  std::vector<uint8_t> all(header);
  all.insert(all.end(), more.begin(), more.end());
  ASSERT_GE(all.size(), first + 20);
  EXPECT_EQ(all[first + 19], 99);
  ::close(fd);
  EXPECT_EQ((*bridge)->refused(), 0u);
}

TEST(TurnTlsBridge, RefusesACertificateItDoesNotTrust) {
  TempDir dir;
  auto cert = makeTestCertificate(dir);
  Node node({"--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert.cert, "--key", cert.key});
  ASSERT_TRUE(node.started()) << node.log();
  auto bridge = agent::TurnTlsBridge::start({*Endpoint::parse(node.tls()), "", ""});  // the system store
  ASSERT_TRUE(bridge) << bridge.error();
  const int fd = connectTo((*bridge)->local());
  ASSERT_GE(fd, 0);
  const auto req = bindingRequest();
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(readSome(fd, 20).empty());  // closed, nothing answered
  ::close(fd);
  EXPECT_EQ((*bridge)->refused(), 1u);
}

}  // namespace
}  // namespace rdv::test
