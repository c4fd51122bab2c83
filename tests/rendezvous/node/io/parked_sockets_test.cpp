// ParkedSockets: the EVEN-PORT reservations shared by a daemon's workers. Real UDP sockets on loopback:
// a parked socket keeps its port bound until it is taken or discarded.
#include "rendezvous/node/io/parked_sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace rdv::node {
namespace {

// A UDP socket bound to 127.0.0.1 on a port the kernel picks; returns the fd and the port.
std::pair<int, uint16_t> boundSocket() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return {fd, ntohs(a.sin_port)};
}

bool isOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

relay::RelayPort portOf(uint16_t port) {
  relay::RelayPort p;
  p.family = Family::V4;
  p.port = port;
  return p;
}

TEST(ParkedSockets, TakeHandsTheSocketOverOnce) {
  ParkedSockets parked;
  auto [fd, port] = boundSocket();
  parked.park(portOf(port), fd);
  EXPECT_FALSE(parked.take(portOf(static_cast<uint16_t>(port + 1))).has_value());
  auto taken = parked.take(portOf(port));
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(*taken, fd);
  EXPECT_TRUE(isOpen(fd));
  EXPECT_FALSE(parked.take(portOf(port)).has_value());
  close(fd);
}

TEST(ParkedSockets, DiscardAndReplaceAndDestructionClose) {
  auto [a, portA] = boundSocket();
  auto [b, portB] = boundSocket();
  auto [c, portC] = boundSocket();
  {
    ParkedSockets parked;
    parked.park(portOf(portA), a);
    parked.discard(portOf(portA));
    EXPECT_FALSE(isOpen(a));
    parked.park(portOf(portB), b);
    parked.park(portOf(portB), c);  // a second park for the port closes the first socket
    EXPECT_FALSE(isOpen(b));
    EXPECT_TRUE(isOpen(c));
  }
  EXPECT_FALSE(isOpen(c));  // nobody claimed it: closed with the object
  (void)portC;
}

}  // namespace
}  // namespace rdv::node
