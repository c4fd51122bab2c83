// Thousands of random and mutated datagrams and TCP streams at the running daemon: it keeps answering
// valid requests, and its memory does not grow with the garbage.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "stun/message.h"
#include "tests/integration/harness.h"

namespace rdv::test {
namespace {

Bytes validRequest(std::mt19937& rng) {
  stun::TransactionId tid;
  for (auto& b : tid.bytes) b = static_cast<uint8_t>(rng());
  stun::MessageBuilder b(stun::Method::Binding, stun::Class::Request, tid);
  b.addString(stun::attr::Software, "garbage-test").addFingerprint();
  return b.bytes();
}

Bytes mutate(Bytes b, std::mt19937& rng) {
  switch (rng() % 4) {
    case 0:  // flip bytes
      for (int i = 0, n = 1 + rng() % 4; i < n && !b.empty(); ++i) b[rng() % b.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
      break;
    case 1:  // truncate
      b.resize(rng() % (b.size() + 1));
      break;
    case 2:  // random bytes with a STUN-looking header
      b.resize(20 + rng() % 200);
      for (size_t i = 2; i < b.size(); ++i) b[i] = static_cast<uint8_t>(rng());
      break;
    default:  // pure noise
      b.resize(rng() % 600);
      for (auto& x : b) x = static_cast<uint8_t>(rng());
  }
  return b;
}

int connectTcp(const Endpoint& ep) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_storage ss;
  const unsigned len = ep.toSockaddr(ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void sprayGarbage(const Endpoint& node, std::mt19937& rng, int datagrams, int streams) {
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage ss;
  const unsigned len = node.toSockaddr(ss);
  for (int i = 0; i < datagrams; ++i) {
    Bytes g = mutate(validRequest(rng), rng);
    sendto(udp, g.data(), g.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
    if (i % 256 == 0) {  // drain answers to the mutations that stayed valid
      uint8_t sink[2048];
      while (recv(udp, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
      }
    }
  }
  close(udp);
  for (int i = 0; i < streams; ++i) {
    int fd = connectTcp(node);
    if (fd < 0) continue;
    for (int k = 0, n = 1 + rng() % 5; k < n; ++k) {
      Bytes g = rng() % 3 == 0 ? validRequest(rng) : mutate(validRequest(rng), rng);
      send(fd, g.data(), g.size(), MSG_NOSIGNAL);
    }
    close(fd);  // half-sent frames, closed mid-message: the node must clean up
  }
}

TEST(Garbage, NodeSurvivesAndKeepsAnswering) {
  Node node({"--listen", "127.0.0.1:0", "--workers", "2"});
  ASSERT_TRUE(node.started()) << node.log();
  const Endpoint ep = *Endpoint::parse(node.udp());
  std::mt19937 rng(20261121);

  sprayGarbage(ep, rng, 5000, 300);  // warm-up: allocator pools and buffers reach their steady size
  ASSERT_TRUE(node.process().running()) << node.log();
  const long rssBefore = node.process().rssKiB();
  sprayGarbage(ep, rng, 20000, 1000);
  ASSERT_TRUE(node.process().running()) << node.log();

  // Still answering, over UDP and TCP.
  auto udp = run({binary("rdv"), "stun", node.udp()});
  EXPECT_EQ(udp.exitCode, 0) << udp.err;
  auto tcp = run({binary("rdv"), "stun", "--tcp", node.udp()});
  EXPECT_EQ(tcp.exitCode, 0) << tcp.err;

  // Closed connections are released: memory after 4x more garbage stays within a small margin.
  const long rssAfter = node.process().rssKiB();
  EXPECT_LT(rssAfter - rssBefore, 4096) << "RSS grew from " << rssBefore << " KiB to " << rssAfter << " KiB";
}

TEST(Garbage, MalformedTcpStreamIsClosed) {
  Node node({"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(node.started()) << node.log();
  int fd = connectTcp(*Endpoint::parse(node.udp()));
  ASSERT_GE(fd, 0);
  // A TLS ClientHello on the plain TCP port: first byte 0x16 is neither STUN (0-3) nor ChannelData (64-79).
  // (Not "GET /...": 'G' is 0x47, which frames as ChannelData on channel 0x4745 per RFC 7983.)
  const char junk[] = "\x16\x03\x01\x00\x05hello";
  send(fd, junk, sizeof(junk) - 1, MSG_NOSIGNAL);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64];
  EXPECT_EQ(recv(fd, buf, sizeof(buf), 0), 0) << "the node should close a stream that is not STUN/TURN";
  close(fd);
}

}  // namespace
}  // namespace rdv::test
