// The TURN engine's counters, declared once in one list (STYLE 9) and exported from there.
// Each Server owns one Stats (no sharing between workers); the daemon sums them for /metrics.
#pragma once

#include <cstdint>
#include <string_view>

namespace rdv::relay {

enum class StatKind : uint8_t { Counter, Gauge };

// X(name, kind, help)
#define RDV_RELAY_STATS(X)                                                                              \
  X(allocationsCreated, Counter, "allocations created")                                                 \
  X(allocationsExpired, Counter, "allocations ended because their lifetime ran out")                    \
  X(allocationsDeleted, Counter, "allocations ended by a Refresh with LIFETIME 0 or a closed stream")    \
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
  X(unauthorizedRateLimited, Counter, "401 answers not sent because the source was over its rate")      \
  X(staleNonce, Counter, "438 answers sent")                                                            \
  X(wrongCredentials, Counter, "441 answers sent")                                                      \
  X(quotaRejected, Counter, "486 answers sent (per-user allocation cap)")                               \
  X(capacityRejected, Counter, "508 answers sent (no relay port, allocation or table capacity)")        \
  X(policyRejected, Counter, "403 answers sent (peer address denied by policy)")                        \
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
  X(bytesClientToPeer, Counter, "payload bytes relayed from clients to peers")                          \
  X(packetsClientToPeer, Counter, "packets relayed from clients to peers")                              \
  X(bytesPeerToClient, Counter, "payload bytes relayed from peers to clients")                          \
  X(packetsPeerToClient, Counter, "packets relayed from peers to clients")

struct Stats {
#define RDV_RELAY_STAT_FIELD(name, kind, help) uint64_t name = 0;
  RDV_RELAY_STATS(RDV_RELAY_STAT_FIELD)
#undef RDV_RELAY_STAT_FIELD

  // Calls fn(name, kind, help, value) for every stat, in declaration order.
  template <class Fn>
  void forEach(Fn&& fn) const {
#define RDV_RELAY_STAT_VISIT(name, kind, help) fn(std::string_view(#name), StatKind::kind, std::string_view(help), name);
    RDV_RELAY_STATS(RDV_RELAY_STAT_VISIT)
#undef RDV_RELAY_STAT_VISIT
  }
};

}  // namespace rdv::relay
