// What the TURN engine asks of the I/O layer: commands drained after every input (firezone style), and
// the one synchronous call it needs, binding a relay socket, behind a small interface.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"

namespace rdv::relay {

// Binding a relay socket must be synchronous: the Allocate answer carries the relayed address.
// The daemon binds a UDP socket (no SO_REUSEPORT) on `local` and keys it by `relay`; a fake in tests.
class RelaySocketBinder {
 public:
  virtual ~RelaySocketBinder() = default;
  // True when a socket is now bound on `local` (the relay address of relay.family, port relay.port).
  // False when the port is taken (by another worker or process) or binding failed: the engine tries
  // another port. A bound socket stays open until the engine emits ReleaseRelaySocket for it.
  virtual bool bind(RelayPort relay, const Endpoint& local) = 0;
  // A relay socket the I/O layer bound ahead of time (a small pool per worker, refilled off the hot
  // path), on a port of Config::relayPorts picked at random, on the relay address of `family`: an
  // Allocate then costs no socket(), bind() or setsockopt(). The socket is the engine's from now on, as
  // if bind() had succeeded for it. nullopt: no pool, or it is empty (the engine binds as usual).
  virtual std::optional<RelayPort> takePrebound(Family) { return std::nullopt; }

  // Several workers (Config::sharedReservations): a port reserved by EVEN-PORT's R bit may be claimed by
  // another worker, the one the client's second socket lands on. park: stop receiving on relay's socket
  // and hand it to the process, still bound. adopt: take a parked socket into this worker (true: it is
  // now this worker's relay socket). discard: close a parked socket. Defaults: no parking.
  virtual bool park(RelayPort) { return false; }
  virtual bool adopt(RelayPort) { return false; }
  virtual void discard(RelayPort) {}
};

// The kernel fast path (issue 14), the engine's second synchronous call outwards: the engine decides
// which channels the kernel forwards and how much, the daemon mirrors that into BPF maps (node/fastpath).
// Synchronous because metering must stay exact: what the kernel forwarded on a channel is collected the
// moment the channel leaves the kernel, before the engine forgets it.
struct KernelChannel {
  ClientTuple client;
  uint16_t channel = 0;
  RelayPort relay;
  Endpoint peer;
};
struct KernelTraffic {
  TrafficCounters toPeer;
  TrafficCounters toClient;
};
class KernelPath {
 public:
  virtual ~KernelPath() = default;
  // Start forwarding the channel in the kernel; false: it stays in user space (map full, no route...).
  virtual bool add(const KernelChannel& c) = 0;
  // Payload bytes the kernel may forward on the channel per direction from now until the next allowance.
  virtual void allow(const KernelChannel& c, uint64_t toPeer, uint64_t toClient) = 0;
  // Stop forwarding it; returns what the kernel forwarded on it since the last collect().
  virtual KernelTraffic remove(const KernelChannel& c) = 0;
  // What the kernel forwarded on `c` since the last call.
  virtual KernelTraffic collect(const KernelChannel& c) = 0;
};

struct IdentityQuota;  // quota.h

// Reservation tokens every worker's engine can see (RESERVATION-TOKEN, RFC 8656 §7.2): token -> port,
// and the reserving identity's quota lease, which whoever takes the token releases.
class ReservationBook {
 public:
  struct Entry {
    RelayPort relay;
    IdentityQuota* lease = nullptr;
  };
  void put(uint64_t token, RelayPort relay, IdentityQuota* lease = nullptr);
  std::optional<Entry> take(uint64_t token);  // removes it
  bool remove(uint64_t token);                // true when it was still there

 private:
  std::mutex mutex_;
  std::unordered_map<uint64_t, Entry> tokens_;
};

// Send `bytes` to the client on the tuple it used (for streams: the connection `tuple.connectionId`).
struct SendToClient {
  ClientTuple tuple;
  Bytes bytes;
};

// Send one UDP datagram from relay socket `relay` to `peer`. dontFragment: set DF (RFC 8656 §14/§15).
struct SendToPeer {
  RelayPort relay;
  Endpoint peer;
  Bytes bytes;
  bool dontFragment = false;
};

// Close the relay socket: its allocation or reservation ended.
struct ReleaseRelaySocket {
  RelayPort relay;
};

// Why an allocation ended. DataCap: its class's per-allocation data cap was reached; DailyBudget: its
// identity's bytes per day ran out; Shutdown: the node is stopping (Server::endAll); Admin: the operator
// ended it (admin API, Server::endById).
enum class EndReason : uint8_t { Expired, Deleted, ConnectionClosed, DataCap, DailyBudget, Shutdown, Admin };
// "expired", "deleted", "connection-closed", "data-cap", "daily-budget", "shutdown", "ended-by-admin"
std::string_view toString(EndReason r);

// What metering needs to know about one allocation (issue 7): who, where, when, how much.
struct AllocationInfo {
  uint64_t id = 0;  // unique within the node run: from Config::firstAllocationId, increasing
  ClientTuple tuple;
  std::string username;
  std::string identity;    // REST "EXPIRY:ID" -> ID; otherwise the username
  std::string quotaClass;  // the quota class it is metered and limited under ("limited" or a configured one)
  uint32_t peers = 0;      // distinct peer IPs that got a permission during the allocation
  RelayPort relays[2];
  uint8_t relayCount = 0;
  Instant started{};
  int64_t startedUnix = 0;
  TrafficCounters toPeer;    // client -> peer payload
  TrafficCounters toClient;  // peer -> client payload
};

struct AllocationStarted {
  AllocationInfo info;
};
// info carries the FINAL TOTALS of the allocation; a consumer of AllocationUsage books (totals - what
// the usage events already reported).
struct AllocationEnded {
  AllocationInfo info;
  EndReason reason = EndReason::Expired;
  Instant ended{};
};
// Metering tick (issue 7): the traffic of one allocation since its previous AllocationUsage (or since it
// started), a DELTA. Emitted from handleTimeout at most Config::usageInterval apart, only for allocations
// whose counters moved. Sum of an allocation's deltas + (AllocationEnded totals - that sum) == totals.
struct AllocationUsage {
  uint64_t id = 0;
  std::string identity;
  std::string quotaClass;
  TrafficCounters toPeer;
  TrafficCounters toClient;
  int64_t unixSeconds = 0;  // when the tick ran
};

enum class LogLevel : uint8_t { Debug, Info, Warning };
struct LogEvent {
  LogLevel level = LogLevel::Info;
  std::string message;
};

using Command = std::variant<SendToClient, SendToPeer, ReleaseRelaySocket, AllocationStarted, AllocationEnded,
                             AllocationUsage, LogEvent>;

}  // namespace rdv::relay
