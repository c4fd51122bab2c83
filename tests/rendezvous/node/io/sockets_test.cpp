// io/sockets.h: the UDP listeners' receive buffers, and discardQueuedDatagrams, what a recycled relay socket (io/relay_pool.cpp) is emptied with
// before it goes back into the worker's pool. Real UDP sockets on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "rendezvous/node/io/sockets.h"

namespace rdv::node {
namespace {

struct Pair {
  int receiver = -1;
  int sender = -1;
  sockaddr_in to{};
  Pair() {
    receiver = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sender = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(receiver, reinterpret_cast<sockaddr*>(&to), sizeof(to)), 0);
    socklen_t len = sizeof(to);
    getsockname(receiver, reinterpret_cast<sockaddr*>(&to), &len);
    const int big = 4 << 20;
    setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  }
  ~Pair() {
    close(receiver);
    close(sender);
  }
  void send(size_t n, size_t size = 100) {
    std::vector<uint8_t> payload(size, 0x5a);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(sendto(sender, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
                static_cast<ssize_t>(payload.size()));
    }
  }
  // Datagrams waiting on the receiver, read off (loopback delivers before sendto returns).
  size_t queued() {
    size_t n = 0;
    uint8_t buf[2048];
    while (recv(receiver, buf, sizeof(buf), MSG_DONTWAIT) >= 0) ++n;
    return n;
  }
};

TEST(DiscardQueuedDatagrams, AnEmptySocketIsEmptyAfterOneCall) {
  Pair p;
  EXPECT_TRUE(discardQueuedDatagrams(p.receiver, 32, 4));
  EXPECT_EQ(p.queued(), 0u);
}

TEST(DiscardQueuedDatagrams, EverythingQueuedIsDiscardedAndLaterDatagramsStillArrive) {
  Pair p;
  p.send(100, 1200);  // more than one batch of 32, large ones too
  p.send(5, 0);       // and empty datagrams
  EXPECT_TRUE(discardQueuedDatagrams(p.receiver, 32, 4));
  EXPECT_EQ(p.queued(), 0u);
  p.send(3);
  EXPECT_EQ(p.queued(), 3u);  // the socket itself is intact
}

TEST(DiscardQueuedDatagrams, MoreThanTheBoundSaysCloseIt) {
  Pair p;
  p.send(4 * 8 + 1);
  EXPECT_FALSE(discardQueuedDatagrams(p.receiver, 8, 4));  // 4 full batches of 8 and more behind them
  EXPECT_TRUE(discardQueuedDatagrams(p.receiver, 8, 4));   // the one left
  EXPECT_EQ(p.queued(), 0u);
}

int receiveBuffer(int fd) {
  int size = 0;
  socklen_t len = sizeof(size);
  ::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len);
  return size;
}

// A UDP listener asks for 4 MiB of receive buffer (the kernel reports twice what it grants); without the
// privilege to pass net.core.rmem_max it gets rmem_max. The kernel default (~208 KiB) dropped bursts.
TEST(ListenerSockets, UdpListenersGetRoomForABurst) {
  auto set = bindForWorkers(*Endpoint::parse("127.0.0.1:0"), {SocketType::Udp, SocketType::Tcp}, 2);
  ASSERT_TRUE(set) << set.error();
  int rmemMax = 0;
  std::ifstream("/proc/sys/net/core/rmem_max") >> rmemMax;
  const bool privileged = ::geteuid() == 0;
  for (const auto& row : set->fds) {
    ASSERT_EQ(row.size(), 2u);
    const int granted = receiveBuffer(row[0]);
    if (privileged) {
      EXPECT_GE(granted, 2 * (4 << 20));
    } else {
      EXPECT_GE(granted, 2 * std::min(4 << 20, rmemMax));
    }
    for (int fd : row) closeSocket(fd);
  }
}

}  // namespace
}  // namespace rdv::node
