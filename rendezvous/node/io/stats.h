// The daemon's own counters, declared once. Each worker owns one NodeStats and is its only writer;
// other threads (metrics export) read with relaxed loads.
#pragma once

#include <atomic>
#include <cstdint>

namespace rdv::node {

// X(name, help)
#define RDV_NODE_STATS(X)                                                                   \
  X(udpDatagramsReceived, "UDP datagrams received on STUN/TURN ports")                      \
  X(udpMalformedDropped, "UDP datagrams dropped because they did not parse as STUN/TURN")    \
  X(udpUnhandledDropped, "UDP datagrams dropped: valid framing but nothing handles them")    \
  X(udpSendErrors, "UDP datagrams that could not be sent")                                   \
  X(udpGsoFallbacks, "UDP sockets that fell back from GSO to plain datagrams (kernel refused)") \
  X(bindingRequests, "STUN Binding requests answered")                                       \
  X(bindingErrors, "STUN Binding requests answered with an error (400, 420)")                \
  X(tcpAccepted, "TCP/TLS connections accepted")                                             \
  X(tcpRefused, "TCP/TLS connections refused at the per-worker connection limit")            \
  X(tcpMalformedClosed, "TCP/TLS connections closed because the stream was not STUN/TURN")   \
  X(tcpIdleClosed, "TCP/TLS connections closed after the idle timeout (no complete frame)")   \
  X(tcpPerIpRefused, "TCP/TLS connections refused at the per-source limit")                  \
  X(tcpFirstFrameClosed, "TCP/TLS connections closed: no handshake and first frame in time")  \
  X(tcpSlowReaderClosed, "TCP/TLS connections closed because their write queue overflowed")  \
  X(tlsHandshakeFailures, "TLS handshakes that failed")                                     \
  X(relaySocketsRecycled, "relay sockets of ended allocations emptied and put back into the worker's pool")

class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

struct NodeStats {
#define RDV_DECLARE_COUNTER(name, help) Counter name;
  RDV_NODE_STATS(RDV_DECLARE_COUNTER)
#undef RDV_DECLARE_COUNTER
};

}  // namespace rdv::node
