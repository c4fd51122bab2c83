// Small UDP helpers for the bench tools: sockets, batched I/O (recvmmsg/sendmmsg), epoll, CPU pinning,
// a monotonic clock. Linux only; the bench never leaves loopback.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rendezvous/base/address.h"

namespace rdv::bench {

int64_t nowNs();  // CLOCK_MONOTONIC

// Pins the calling thread to `cpu` (sched_setaffinity); false when that fails. cpu < 0: no pinning.
bool pinToCpu(int cpu);

// True for 127.0.0.0/8 and ::1.
bool isLoopback(const Endpoint& ep);
// Loopback, or 198.18.0.0/15 (the benchmarking range, RFC 2544: the veth namespaces bench/run.py --veth
// makes): the bench refuses any other destination.
bool isBenchAddress(const Endpoint& ep);

// A non-blocking UDP socket bound to `local` (port 0 for any), with large buffers; connected to
// `remote` when given; with `reusePort`, SO_REUSEPORT before bind (sockets of several processes sharing
// one port). Returns -1 (and fills `error`) on failure.
int openUdp(const Endpoint& local, const Endpoint* remote, std::string& error, bool reusePort = false);
Endpoint localEndpoint(int fd);

// Up to kBatch datagrams, each with its own buffer and address. Reused across calls: no allocation.
class Batch {
 public:
  static constexpr unsigned kBatch = 64;
  static constexpr unsigned kBufSize = 2048;
  Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  uint8_t* buffer(unsigned i) { return bufs_[i].data(); }
  unsigned length(unsigned i) const { return static_cast<unsigned>(msgs_[i].msg_len); }
  const sockaddr_storage& address(unsigned i) const { return addrs_[i]; }

  // Receives up to kBatch datagrams without blocking; returns the count (0 when none or on error).
  unsigned receive(int fd);
  // Room for control messages on receive (off by default): with SO_TIMESTAMPNS on the socket, rxStampNs(i)
  // is datagram i's kernel receive time (CLOCK_REALTIME ns; 0 when it has none). rdv-baseline --rx-timestamps.
  void enableControl();
  int64_t rxStampNs(unsigned i);
  // Sends entries [0, count) with their lengths set by setLength(); `to` (per entry) null for connected
  // sockets. Returns how many the kernel took.
  void setLength(unsigned i, unsigned len) { iovs_[i].iov_len = len; }
  void setAddress(unsigned i, const sockaddr_storage& a, socklen_t len);
  void clearAddress(unsigned i) { hdr(i).msg_name = nullptr, hdr(i).msg_namelen = 0; }
  unsigned send(int fd, unsigned count);

 private:
  msghdr& hdr(unsigned i) { return msgs_[i].msg_hdr; }
  std::vector<std::array<uint8_t, kBufSize>> bufs_;
  std::array<mmsghdr, kBatch> msgs_{};
  std::array<iovec, kBatch> iovs_{};
  std::array<sockaddr_storage, kBatch> addrs_{};
  std::vector<std::array<uint64_t, 8>> control_;  // 64 bytes per message when enabled (cmsghdr-aligned)
};

// Level-triggered epoll over read readiness; the user value is a 32-bit index.
class Poller {
 public:
  Poller();
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  void add(int fd, uint32_t index);
  void remove(int fd);
  // Fills `ready` with the indexes of readable sockets; waits at most timeoutMs (0: poll).
  void wait(std::vector<uint32_t>& ready, int timeoutMs);

 private:
  int fd_ = -1;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (best effort); returns the soft limit now in force.
uint64_t raiseFileLimit();

}  // namespace rdv::bench
