// The TURN engine's counters, declared once in one list (STYLE 9) and exported from there.
// Each Server owns one Stats (no sharing between workers); the daemon sums them for /metrics.
// Every stat is a single-writer relaxed atomic: the worker thread that owns the Server writes it, the
// metrics thread may read it at any time without a data race (values may be a moment old).
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace rdv::relay {

enum class StatKind : uint8_t { Counter, Gauge };

// X(name, kind, help)
#define RDV_RELAY_STATS(X)                                                                              \
  X(allocationsCreated, Counter, "allocations created")                                                 \
  X(allocationsExpired, Counter, "allocations ended because their lifetime ran out")                    \
  X(allocationsDeleted, Counter, "allocations ended by a Refresh with LIFETIME 0 or a closed stream")    \
  X(allocationsEndedByQuota, Counter, "allocations ended by their data cap or their identity's daily budget") \
  X(allocationsEndedByShutdown, Counter, "allocations ended because the node stopped")                    \
  X(allocationsEndedByAdmin, Counter, "allocations ended by the operator (admin API)")                    \
  X(allocationsActive, Gauge, "allocations currently active")                                           \
  X(permissionsActive, Gauge, "permissions currently installed")                                        \
  X(channelsActive, Gauge, "channel bindings currently installed")                                      \
  X(allocateSuccess, Counter, "Allocate requests answered with success")                                \
  X(allocateError, Counter, "Allocate requests answered with an error")                                 \
  X(refreshSuccess, Counter, "Refresh requests answered with success")                                  \
  X(refreshError, Counter, "Refresh requests answered with an error")                                   \
  X(createPermissionSuccess, Counter, "CreatePermission requests answered with success")                \
  X(createPermissionError, Counter, "CreatePermission requests answered with an error")                 \
  X(channelBindSuccess, Counter, "ChannelBind requests answered with success")                          \
  X(channelBindError, Counter, "ChannelBind requests answered with an error")                           \
  X(bindingSuccess, Counter, "Binding requests answered")                                               \
  X(otherRequestError, Counter, "requests of an unknown or unsupported method answered with 400")       \
  X(retransmissionsAnswered, Counter, "retransmitted requests answered from the response cache")        \
  X(unauthorized, Counter, "401 answers sent")                                                          \
  X(unauthorizedRateLimited, Counter, "401/438/400 auth answers not sent: the source was over its rate")  \
  X(staleNonce, Counter, "438 answers sent")                                                            \
  X(wrongCredentials, Counter, "441 answers sent")                                                      \
  X(quotaRejected, Counter, "486 answers sent (identity's allocation quota or budget)")                 \
  X(allocateRateLimited, Counter, "Allocates answered 486: the source IP was over its Allocate rate")   \
  X(limitedShareRejected, Counter, "Allocates answered 486: the limited class holds its node-wide share") \
  X(capacityRejected, Counter, "508 answers sent (no relay port, node capacity or table capacity)")     \
  X(policyRejected, Counter, "403 answers sent (peer address denied by policy)")                        \
  X(allocateBanned, Counter, "Allocate requests refused with 403: the identity is banned (admin API)")    \
  X(allocateDraining, Counter, "Allocate requests refused while draining: 300 to the alternate, or 508") \
  X(allocateRedirected, Counter, "Allocate requests sent to another node with 300 because this one is full or busy") \
  X(sendIndications, Counter, "Send indications relayed to a peer")                                     \
  X(dataIndications, Counter, "Data indications sent to a client")                                      \
  X(dropMalformed, Counter, "client packets dropped: not STUN/ChannelData, or unparseable")             \
  X(dropNoAllocation, Counter, "client packets dropped: indication or ChannelData without allocation")  \
  X(dropNoPermission, Counter, "packets dropped: no permission for the peer (either direction)")         \
  X(dropUnknownChannel, Counter, "ChannelData dropped: channel not bound")                              \
  X(dropPolicy, Counter, "packets dropped: peer address denied by policy")                              \
  X(dropOversize, Counter, "packets dropped: too large for the outgoing framing")                       \
  X(dropUnknownRelayPort, Counter, "peer datagrams dropped: relay port without an allocation")          \
  X(dropBadIndication, Counter, "Send indications dropped: missing or malformed XOR-PEER-ADDRESS/DATA")  \
  X(dropRateLimited, Counter, "packets dropped: over the identity's or the node's rate (either direction)") \
  X(bytesClientToPeer, Counter, "payload bytes relayed from clients to peers")                          \
  X(packetsClientToPeer, Counter, "packets relayed from clients to peers")                              \
  X(bytesPeerToClient, Counter, "payload bytes relayed from peers to clients")                          \
  X(packetsPeerToClient, Counter, "packets relayed from peers to clients")

// One counter or gauge. Single writer (the owning worker): updates are a relaxed load and store, not a
// locked read-modify-write, so the hot path pays nothing for the atomicity.
class Stat {
 public:
  Stat() = default;
  Stat(const Stat& o) : v_(o.get()) {}
  Stat& operator=(const Stat& o) {
    set(o.get());
    return *this;
  }
  Stat& operator=(uint64_t v) {
    set(v);
    return *this;
  }
  Stat& operator++() { return *this += 1; }
  Stat& operator--() { return *this -= 1; }
  Stat& operator+=(uint64_t n) {
    set(get() + n);
    return *this;
  }
  Stat& operator-=(uint64_t n) {
    set(get() - n);
    return *this;
  }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }
  operator uint64_t() const { return get(); }  // NOLINT: reads like the plain integer it replaced

 private:
  void set(uint64_t v) { v_.store(v, std::memory_order_relaxed); }
  std::atomic<uint64_t> v_{0};
};

struct Stats {
#define RDV_RELAY_STAT_FIELD(name, kind, help) Stat name;
  RDV_RELAY_STATS(RDV_RELAY_STAT_FIELD)
#undef RDV_RELAY_STAT_FIELD

  // Calls fn(name, kind, help, value) for every stat, in declaration order.
  template <class Fn>
  void forEach(Fn&& fn) const {
#define RDV_RELAY_STAT_VISIT(name, kind, help) fn(std::string_view(#name), StatKind::kind, std::string_view(help), name.get());
    RDV_RELAY_STATS(RDV_RELAY_STAT_VISIT)
#undef RDV_RELAY_STAT_VISIT
  }
};

}  // namespace rdv::relay
