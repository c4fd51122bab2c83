// Kernel software timestamps (bench/loadgen/kernel_stamps.h) on two real loopback sockets: the TX stamp comes
// back from the error queue with the datagram as the device saw it, the RX stamp with the datagram, and the
// receiver's stamp is not before the sender's.
#include "bench/loadgen/kernel_stamps.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench/loadgen/udp.h"

namespace rdv::bench {
namespace {

struct Socket {
  int fd = -1;
  ~Socket() {
    if (fd >= 0) close(fd);
  }
};

int openLoopback(const Endpoint* remote = nullptr) {
  std::string error;
  const int fd = openUdp(*Endpoint::parse("127.0.0.1:0"), remote, error);
  EXPECT_GE(fd, 0) << error;
  return fd;
}

// Waits (bounded) until `events` are reported on fd.
bool waitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, 2000) == 1;
}

TEST(KernelStamps, ADatagramGetsATxStampAtTheSenderAndAnRxStampAtTheReceiver) {
  Socket rx{openLoopback()};
  const Endpoint to = localEndpoint(rx.fd);
  Socket tx{openLoopback(&to)};
  std::string error;
  ASSERT_TRUE(enableKernelTimestamps(tx.fd, error)) << error;
  ASSERT_TRUE(enableKernelTimestamps(rx.fd, error)) << error;

  std::vector<uint8_t> payload(100);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 7 + 1);
  std::vector<uint8_t> buf(2048);
  StampedDatagram sent, got;
  // The first socket to ask for RX stamps switches them on for the whole kernel through a deferred work item
  // (net_enable_timestamp), so the first datagrams may arrive unstamped: send until one has its stamp.
  for (int attempt = 0; attempt < 200 && got.stampNs == 0; ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    payload[0] = static_cast<uint8_t>(attempt);
    ASSERT_EQ(send(tx.fd, payload.data(), payload.size(), 0), static_cast<ssize_t>(payload.size()));
    ASSERT_TRUE(waitFor(tx.fd, POLLERR));  // POLLERR: the error queue holds the stamp
    ASSERT_TRUE(receiveTxStamp(tx.fd, buf.data(), buf.size(), sent));
    ASSERT_GE(sent.length, payload.size());  // headers first, then what was sent
    EXPECT_EQ(0, std::memcmp(buf.data() + sent.length - payload.size(), payload.data(), payload.size()));
    EXPECT_GT(sent.stampNs, 0);
    EXPECT_FALSE(receiveTxStamp(tx.fd, buf.data(), buf.size(), sent));  // one datagram, one stamp

    ASSERT_TRUE(waitFor(rx.fd, POLLIN));
    ASSERT_TRUE(receiveStamped(rx.fd, buf.data(), buf.size(), got));
    ASSERT_EQ(got.length, payload.size());
    EXPECT_EQ(0, std::memcmp(buf.data(), payload.data(), payload.size()));
  }
  EXPECT_EQ(*Endpoint::fromSockaddr(reinterpret_cast<const sockaddr*>(&got.from)), localEndpoint(tx.fd));
  EXPECT_GE(got.stampNs, sent.stampNs);
  EXPECT_LT(got.stampNs - sent.stampNs, 1'000'000'000);
  const int64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(got.stampNs, wall);  // CLOCK_REALTIME, already past
  EXPECT_GT(got.stampNs, wall - 60'000'000'000);
}

TEST(KernelStamps, EmptyQueuesGiveNothing) {
  Socket s{openLoopback()};
  std::string error;
  ASSERT_TRUE(enableKernelTimestamps(s.fd, error)) << error;
  std::vector<uint8_t> buf(2048);
  StampedDatagram d;
  EXPECT_FALSE(receiveStamped(s.fd, buf.data(), buf.size(), d));
  EXPECT_FALSE(receiveTxStamp(s.fd, buf.data(), buf.size(), d));
}

TEST(KernelStamps, ASocketWithoutTheOptionGetsNoStamp) {
  Socket rx{openLoopback()};
  const Endpoint to = localEndpoint(rx.fd);
  Socket tx{openLoopback(&to)};
  std::string error;
  ASSERT_TRUE(enableKernelTimestamps(tx.fd, error)) << error;  // stamps on in the kernel, not on rx
  const uint8_t byte = 42;
  ASSERT_EQ(send(tx.fd, &byte, 1, 0), 1);
  std::vector<uint8_t> buf(2048);
  StampedDatagram got;
  ASSERT_TRUE(waitFor(rx.fd, POLLIN));
  ASSERT_TRUE(receiveStamped(rx.fd, buf.data(), buf.size(), got));
  EXPECT_EQ(got.length, 1u);
  EXPECT_EQ(got.stampNs, 0);
  StampedDatagram none;
  EXPECT_FALSE(receiveTxStamp(rx.fd, buf.data(), buf.size(), none));  // rx sent nothing
}

}  // namespace
}  // namespace rdv::bench
