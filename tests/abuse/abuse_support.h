// Shared helpers of the abuse lab (tests/abuse): attackers and honest clients on their own loopback
// addresses, raw TCP connections, and the daemon's memory over an attack.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "tests/integration/harness.h"

namespace rdv::test::abuse {

// 127.A.B.C in host byte order: attackers use 127.1.0.0 and up (index i -> a distinct address), honest
// clients 127.0.0.N.
inline uint32_t loopback(uint32_t index) { return 0x7F000000u + index; }
inline uint32_t attackerAddress(uint32_t i) { return 0x7F010000u + i; }
std::string dotted(uint32_t hostOrder);

// A UDP datagram from `source` (bound for this one datagram, port 0) to `to`. False if it could not go.
bool sendFrom(uint32_t source, const Endpoint& to, ByteSpan bytes);

// A TCP connection from `source` to `to` (blocking connect, then non-blocking); -1 on failure.
int connectFrom(uint32_t source, const Endpoint& to);
// Is the connection closed by the peer (EOF or reset) — waits at most `timeout` for it.
bool closedByPeer(int fd, std::chrono::milliseconds timeout);

// GET `target` over HTTP/1.1 from `source` with `Authorization: Bearer TOKEN` (none when empty); the
// whole raw response (status line, headers, body), empty on failure. Waits at most 10 s.
std::string httpGetFrom(uint32_t source, const Endpoint& to, const std::string& target, const std::string& bearer);
// A counter or gauge of a Prometheus exposition text (the first sample named `name`); nullopt if absent.
std::optional<uint64_t> promValue(const std::string& exposition, const std::string& name);

// A STUN Binding request (RFC 8489), for stream and datagram probes.
Bytes bindingRequest(uint32_t salt);
// An unauthenticated TURN Allocate (REQUESTED-TRANSPORT UDP): what gets a 401 challenge.
Bytes unauthenticatedAllocate(uint32_t salt);

// Sends a Binding request on a connected TCP socket and waits for the answer's 20-byte header and body;
// the round trip, or nullopt after `timeout`.
std::optional<std::chrono::milliseconds> tcpBindingRoundTrip(int fd, std::chrono::milliseconds timeout);

// The daemon's resident memory before and during an attack.
struct RssWatch {
  explicit RssWatch(Process& p) : process(p), startKiB(p.rssKiB()), peakKiB(startKiB) {}
  void sample() { peakKiB = std::max(peakKiB, process.rssKiB()); }
  long growthKiB() const { return peakKiB - startKiB; }
  Process& process;
  long startKiB;
  long peakKiB;
};

}  // namespace rdv::test::abuse
