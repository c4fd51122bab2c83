// Value types shared by the TURN engine: time, randomness, the client 5-tuple, relay ports, counters.
// Distinct types for distinct addresses (STYLE 6): a ClientTuple is never confused with a peer Endpoint.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "rendezvous/base/address.h"

namespace rdv::relay {

// Monotonic time drives every lifetime; the daemon reads its loop clock once per tick and passes it in.
using Instant = std::chrono::steady_clock::time_point;
using Seconds = std::chrono::seconds;

// What the engine knows about "now": the monotonic instant (lifetimes, rate limits) and the wall clock
// in unix seconds (REST usernames carry a unix expiry; nonces carry a unix timestamp so they survive a
// restart of the process).
struct Now {
  Instant mono{};
  int64_t unixSeconds = 0;
};

// Randomness is injected (STYLE 4): port picks and reservation tokens are deterministic under test.
class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint64_t next() = 0;
  // Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
};

// A CSPRNG for production (OpenSSL RAND_bytes); aborts if the CSPRNG fails.
class CryptoRng final : public Rng {
 public:
  uint64_t next() override;
};

enum class Transport : uint8_t { Udp, Tcp, Tls };
inline bool isStream(Transport t) { return t != Transport::Udp; }

// The client side of an allocation: RFC 8656 §2.2's 5-tuple (client address, server address, transport)
// plus the daemon's id of the stream connection (0 for UDP), so replies go back on the right connection.
struct ClientTuple {
  Endpoint client;
  Endpoint server;
  Transport transport = Transport::Udp;
  uint64_t connectionId = 0;

  bool operator==(const ClientTuple&) const = default;
};

// One relay socket: the relay address of a family and a port from the configured range. The daemon keys
// its sockets by this value; two workers never hold the same one (binding fails for the second).
struct RelayPort {
  Family family = Family::V4;
  uint16_t port = 0;

  bool operator==(const RelayPort&) const = default;
};

// Byte and packet counters for one direction. Bytes are application payload (DATA / ChannelData body),
// so every relayed byte is counted once whichever framing carried it.
struct TrafficCounters {
  uint64_t bytes = 0;
  uint64_t packets = 0;

  void add(size_t n) {
    bytes += n;
    ++packets;
  }
  TrafficCounters& operator+=(const TrafficCounters& o) {
    bytes += o.bytes;
    packets += o.packets;
    return *this;
  }
  TrafficCounters operator-(const TrafficCounters& o) const { return {bytes - o.bytes, packets - o.packets}; }
  bool operator==(const TrafficCounters&) const = default;
  bool empty() const { return bytes == 0 && packets == 0; }
};

inline size_t hashCombine(size_t seed, size_t v) {
  return seed ^ (v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

// Which key space an identity lives in (issue 12 item 8): quotas are keyed by (kind, id), so a REST
// username chosen by an app ("EXPIRY:ID" made with the shared secret) never shares a bucket with a
// static user of that name, nor with the peer whose ENR node id it copies.
enum class IdentityKind : uint8_t {
  User,  // a static user (--user, users-file)
  Rest,  // a REST username made with the shared secret (apps, Synapse-style backends)
  Node,  // a REST username /v1/ice-servers issued to a peer that signed for its node id
};
std::string_view toString(IdentityKind k);

}  // namespace rdv::relay

template <>
struct std::hash<rdv::relay::ClientTuple> {
  size_t operator()(const rdv::relay::ClientTuple& t) const {
    size_t h = rdv::hashValue(t.client);
    h = rdv::relay::hashCombine(h, rdv::hashValue(t.server));
    h = rdv::relay::hashCombine(h, static_cast<size_t>(t.transport));
    return rdv::relay::hashCombine(h, std::hash<uint64_t>{}(t.connectionId));
  }
};
template <>
struct std::hash<rdv::relay::RelayPort> {
  size_t operator()(const rdv::relay::RelayPort& r) const {
    return (static_cast<size_t>(r.family) << 16) | r.port;
  }
};
