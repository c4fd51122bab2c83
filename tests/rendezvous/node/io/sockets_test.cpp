// The listeners' sockets (rendezvous/node/io/sockets.cpp), bound for real on loopback.
#include "rendezvous/node/io/sockets.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>

namespace rdv::node {
namespace {

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
