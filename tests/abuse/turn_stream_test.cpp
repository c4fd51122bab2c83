// Issue 12, item 7: TURN over TCP and TLS under attack. Connection floods from one address meet the
// per-source cap (tcp-max-connections-per-ip); connections that never finish their TLS handshake or never
// send a first frame are closed at tcp-first-frame-timeout; a slow trickle of bytes that never completes a
// frame does not count as activity (tcp-idle-timeout). An honest client on another address is served
// throughout.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "tests/abuse/abuse_support.h"

namespace rdv::test::abuse {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kPerIp = 16;                  // --tcp-max-connections-per-ip
constexpr int kFirstFrameSeconds = 3;       // --tcp-first-frame-timeout
constexpr int kIdleSeconds = 5;             // --tcp-idle-timeout (the minimum the key accepts)
constexpr int kFloodConnections = 200;      // from one attacker address
constexpr auto kHonestBound = milliseconds(1000);
constexpr long kRssBoundKiB = 16 * 1024;

uint16_t portOf(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

struct Fds {
  std::vector<int> fds;
  ~Fds() {
    for (int fd : fds) close(fd);
  }
};

class TurnStreamAbuse : public ::testing::Test {
 protected:
  void SetUp() override {
    cert_ = makeTestCertificate(dir_);
    node_ = std::make_unique<Node>(std::vector<std::string>{
        "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--cert", cert_.cert, "--key", cert_.key,
        "--workers", "2", "--user", "alice:wonderland", "--tcp-max-connections-per-ip", std::to_string(kPerIp),
        "--tcp-first-frame-timeout", std::to_string(kFirstFrameSeconds), "--tcp-idle-timeout",
        std::to_string(kIdleSeconds)});
    ASSERT_TRUE(node_->started()) << node_->log();
    tcp_ = Endpoint(*IpAddress::parse("127.0.0.1"), portOf(node_->ready()["tcp"][0].get<std::string>()));
    tls_ = *Endpoint::parse(node_->tls());
  }
  // An honest TCP client from 127.0.0.5: connects and gets its Binding answer within the bound.
  void expectHonestServed(const char* when) {
    const int fd = connectFrom(loopback(5), tcp_);
    ASSERT_GE(fd, 0) << when;
    const auto rtt = tcpBindingRoundTrip(fd, milliseconds(3000));
    close(fd);
    ASSERT_TRUE(rtt) << "honest TCP client not answered " << when;
    EXPECT_LE(*rtt, kHonestBound) << when;
  }

  TempDir dir_;
  TestCertificate cert_;
  std::unique_ptr<Node> node_;
  Endpoint tcp_, tls_;
};

TEST_F(TurnStreamAbuse, ConnectionFloodFromOneAddressIsCappedPerSource) {
  RssWatch rss(node_->process());
  Fds flood;
  for (int i = 0; i < kFloodConnections; ++i) {
    const int fd = connectFrom(loopback(3), i % 2 ? tcp_ : tls_);
    if (fd >= 0) flood.fds.push_back(fd);
  }
  ASSERT_GE(flood.fds.size(), static_cast<size_t>(kPerIp));
  expectHonestServed("during a connection flood from another address");
  // Everything over the cap is closed at once by the node (long before the first-frame deadline).
  auto countClosed = [&] {
    int n = 0;
    for (int fd : flood.fds) n += closedByPeer(fd, milliseconds(0));
    return n;
  };
  waitUntil([&] { return countClosed() >= static_cast<int>(flood.fds.size()) - kPerIp; }, milliseconds(1500));
  const int closedNow = countClosed();
  EXPECT_GE(closedNow, static_cast<int>(flood.fds.size()) - kPerIp);
  EXPECT_LT(closedNow, static_cast<int>(flood.fds.size()));  // the first kPerIp were kept (for now)
  rss.sample();
  // The ones it kept never sent a frame (nor a TLS handshake): closed at the first-frame deadline.
  const auto t0 = Clock::now();
  for (int fd : flood.fds) EXPECT_TRUE(closedByPeer(fd, milliseconds((kFirstFrameSeconds + 3) * 1000)));
  EXPECT_LE(Clock::now() - t0, std::chrono::seconds(kFirstFrameSeconds + 3));
  // The source's places are free again: it can connect and be served like anyone.
  const int again = connectFrom(loopback(3), tcp_);
  ASSERT_GE(again, 0);
  EXPECT_TRUE(tcpBindingRoundTrip(again, milliseconds(3000)));
  close(again);
  rss.sample();
  EXPECT_LE(rss.growthKiB(), kRssBoundKiB);
  std::printf("[ measured ] %zu connections from one address: %d refused at once; RSS %ld -> %ld KiB\n",
              flood.fds.size(), closedNow, rss.startKiB, rss.peakKiB);
}

TEST_F(TurnStreamAbuse, PartialFramesDoNotKeepAConnectionOpen) {
  RssWatch rss(node_->process());
  // Slowloris over TCP: one real frame, then a frame header promising 400 bytes, fed one byte every
  // 300 ms. Only complete frames count as activity: closed after the idle timeout.
  const int slow = connectFrom(loopback(6), tcp_);
  ASSERT_GE(slow, 0);
  ASSERT_TRUE(tcpBindingRoundTrip(slow, milliseconds(3000)));
  Bytes partial = bindingRequest(7);
  partial[2] = 0x01;  // length 400: the body never completes
  partial[3] = 0x90;
  const auto t0 = Clock::now();
  bool closed = false;
  for (size_t i = 0; i < partial.size() * 100 && !closed; ++i) {
    const uint8_t byte = i < partial.size() ? partial[i] : 0;
    if (send(slow, &byte, 1, MSG_NOSIGNAL) != 1) break;
    closed = closedByPeer(slow, milliseconds(300));
    if (i % 10 == 0) expectHonestServed("while a slow client trickles bytes");
    if (Clock::now() - t0 > std::chrono::seconds(kIdleSeconds + 4)) break;
  }
  closed = closed || closedByPeer(slow, milliseconds(100));
  const auto took = Clock::now() - t0;
  close(slow);
  EXPECT_TRUE(closed) << "a trickle of bytes kept the connection open";
  EXPECT_GE(took, std::chrono::seconds(kIdleSeconds - 1));
  EXPECT_LE(took, std::chrono::seconds(kIdleSeconds + 3));
  // A TLS client that starts its handshake and stops: closed at the first-frame deadline.
  const int tls = connectFrom(loopback(7), tls_);
  ASSERT_GE(tls, 0);
  const uint8_t clientHelloStart[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
  ASSERT_EQ(send(tls, clientHelloStart, sizeof clientHelloStart, MSG_NOSIGNAL), 6);
  const auto t1 = Clock::now();
  EXPECT_TRUE(closedByPeer(tls, milliseconds((kFirstFrameSeconds + 3) * 1000)));
  EXPECT_LE(Clock::now() - t1, std::chrono::seconds(kFirstFrameSeconds + 3));
  close(tls);
  expectHonestServed("after the slow clients");
  rss.sample();
  EXPECT_LE(rss.growthKiB(), kRssBoundKiB);
}

TEST_F(TurnStreamAbuse, HonestClientWithFramesStaysConnected) {
  // The other side of the rules: a client that sends a complete frame more often than the idle timeout
  // is never closed, however long it stays.
  const int fd = connectFrom(loopback(8), tcp_);
  ASSERT_GE(fd, 0);
  const auto t0 = Clock::now();
  while (Clock::now() - t0 < std::chrono::seconds(kIdleSeconds + 3)) {
    ASSERT_TRUE(tcpBindingRoundTrip(fd, milliseconds(3000))) << "closed although it kept sending frames";
    std::this_thread::sleep_for(milliseconds(1500));  // the client's own pace, below the idle timeout
  }
  close(fd);
}

}  // namespace
}  // namespace rdv::test::abuse
