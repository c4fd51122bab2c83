// Kernel software timestamps for the paired latency scenario (docs/benchmarks.md, "latency-paired"): the
// time a datagram was handed to the device (SOF_TIMESTAMPING_TX_SOFTWARE, read back from the socket's error
// queue) and the time one arrived from it (SOF_TIMESTAMPING_RX_SOFTWARE), both taken by the kernel on
// CLOCK_REALTIME. A sample between two of them does not include when the load generator's thread got to run.
// On loopback both are taken in the same place, loopback_xmit -> netif_rx: a sender's TX stamp and its
// receiver's RX stamp of one datagram are the same instant (to within the clock read). The first socket to ask
// for RX stamps switches them on for the whole kernel through deferred work (net_enable_timestamp): a datagram
// received in the next few milliseconds may come without one.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace rdv::bench {

// Turns on software TX and RX timestamps on a UDP socket (SO_TIMESTAMPING); false, with `error`, when the
// kernel refuses.
bool enableKernelTimestamps(int fd, std::string& error);

struct StampedDatagram {
  unsigned length = 0;  // bytes in the buffer (for a TX stamp: the datagram as the device saw it, headers first)
  int64_t stampNs = 0;  // the kernel's software timestamp, CLOCK_REALTIME ns; 0 when the kernel gave none
  sockaddr_storage from{};
};

// Receives one datagram without blocking, with its RX timestamp; false when there is none.
bool receiveStamped(int fd, uint8_t* buf, size_t size, StampedDatagram& out);

// Takes one TX timestamp from the socket's error queue without blocking; false when the queue is empty.
// The datagram comes back as the device saw it (link-layer, IP and UDP headers first), so what was sent is
// its last bytes.
bool receiveTxStamp(int fd, uint8_t* buf, size_t size, StampedDatagram& out);

}  // namespace rdv::bench
