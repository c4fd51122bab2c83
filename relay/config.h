// The TURN engine's configuration: an immutable struct built once by the daemon and passed in (STYLE 9).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/commands.h"
#include "relay/live_relays.h"
#include "relay/peer_policy.h"
#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "stun/constants.h"

namespace rdv::relay {

class AdmissionControl;  // admission.h
class KernelPath;  // commands.h

class ReservationBook;  // commands.h
class QuotaBook;        // quota.h

struct StaticUser {
  std::string name;
  std::string password;
  // coturn's key form (users-file "NAME:0xHEX"): the MD5 long-term key MD5(name:realm:password) itself,
  // so the password need not be stored. Only MD5 works with it (RFC 8489 §9.2.2); `password` is empty.
  Bytes md5Key;
};

// A relay address of one family: `local` is what relay sockets bind to; `external` is what clients are
// told (XOR-RELAYED-ADDRESS) when the node sits behind a 1:1 NAT.
struct RelayAddress {
  IpAddress local;
  std::optional<IpAddress> external;
  const IpAddress& advertised() const { return external ? *external : local; }
};

struct RateLimit {
  double perSecond = 5.0;  // sustained rate
  double burst = 20.0;     // bucket depth
};

struct Config {
  // LogEvents below this level are not built at all (the daemon passes its --log-level): the per-Allocate
  // lines cost string building on the request path that a node logging at "warn" would throw away.
  LogLevel logLevel = LogLevel::Debug;

  std::string realm = "rendezvous";
  std::string software = "rendezvous";  // SOFTWARE in responses; empty: none

  // Long-term credentials (RFC 8489 §9.2): static users, and coturn-compatible REST secrets tried in
  // order (the first one is current, the others are being rotated out).
  std::vector<StaticUser> users;
  std::vector<std::string> authSecrets;
  // Secrets a reload removed from `authSecrets` (SIGHUP): the credentials they issued stay valid until
  // they expire. A retired secret only checks REST usernames whose EXPIRY is at most `retiredAt` +
  // `retiredSecretGrace` (what it could have issued before it was retired), so it lapses on its own.
  struct RetiredSecret {
    std::string secret;
    int64_t retiredAt = 0;  // unix seconds
  };
  std::vector<RetiredSecret> retiredSecrets;
  Seconds retiredSecretGrace{86400};
  // Password algorithms offered in PASSWORD-ALGORITHMS, in order of preference (RFC 8489 §9.2.4).
  std::vector<stun::PasswordAlgorithm> passwordAlgorithms = {stun::PasswordAlgorithm::Sha256,
                                                             stun::PasswordAlgorithm::Md5};

  // Stateless nonces: HMAC key (random, at least 16 bytes; the same on every worker) and lifetime.
  Bytes nonceKey;
  Seconds nonceLifetime{600};
  // Unauthenticated answers (401, 438, 400) per source IP (relay/rate_limiter.h): a table of
  // `unauthorizedBuckets` exact per-source entries (a power of 2; ~48 bytes each), and the global
  // allowance shared by sources that find the table saturated.
  RateLimit unauthorizedRate;
  uint32_t unauthorizedBuckets = 16384;
  RateLimit unauthorizedGlobalRate{500.0, 1000.0};
  // Authenticated Allocate requests per source IP and worker (issue 12, relay hoarding: free identities
  // are free, the source address is not): the same bounded table as the 401 limiter; over the rate: 486.
  // A source that finds the table saturated draws from the global allowance.
  RateLimit allocateRate{10.0, 100.0};
  uint32_t allocateBuckets = 16384;
  RateLimit allocateGlobalRate{1000.0, 2000.0};

  // Lifetimes (RFC 8656 §7.2, §9, §11).
  Seconds defaultLifetime{600};
  Seconds maxLifetime{3600};
  Seconds permissionLifetime{300};
  Seconds channelLifetime{600};
  Seconds reservationLifetime{30};  // EVEN-PORT R bit: how long the next port is held (RFC 8656 §7.2)

  // Relay sockets: at least one family; ports from `relayPorts`, picked at random.
  std::optional<RelayAddress> relayV4;
  std::optional<RelayAddress> relayV6;
  PortRange relayPorts;
  uint32_t portBindAttempts = 64;  // binder calls per allocation before answering 508
  // Several workers: one book shared by every worker's engine, so a RESERVATION-TOKEN works whichever
  // worker the client's second socket lands on (with a binder that parks and adopts sockets). nullptr:
  // reservations stay on the worker that made them.
  std::shared_ptr<ReservationBook> sharedReservations;

  PeerPolicy policy;
  // The node's live relay allocations, for the policy's relay-to-relay rule: one set shared by every
  // worker's engine (each marks its own allocations). nullptr: the Server makes its own.
  std::shared_ptr<LiveRelayPorts> liveRelays;

  // Metering (issue 7). Allocation ids are unique within the node run: the daemon gives worker i
  // (uint64_t(i) << 48) + 1. AllocationUsage deltas are emitted at most usageInterval apart.
  uint64_t firstAllocationId = 1;
  std::chrono::milliseconds usageInterval{1000};
  // Quotas (relay/quota.h): one book shared by every worker's engine (node-wide identity state, capacity
  // bucket, allocation total). nullptr: the Server makes its own with the default policy.
  std::shared_ptr<QuotaBook> quota;
  // Bans and drain (relay/admission.h): one object shared by every worker's engine and the admin API.
  // nullptr: nobody is banned, the node never drains.
  std::shared_ptr<AdmissionControl> admission;

  // The kernel fast path (relay/commands.h, KernelPath): one for the node, shared by every worker's
  // engine like the quota book. nullptr: off.
  std::shared_ptr<KernelPath> kernelPath;

  // Limits (0: unlimited). Per worker: each Server counts its own allocations.
  uint32_t maxAllocationsPerUser = 64;  // 486 when reached
  uint32_t maxAllocations = 0;          // 508 when reached
  uint32_t maxPermissionsPerAllocation = 128;  // 508 when reached
  uint32_t maxChannelsPerAllocation = 128;     // 508 when reached

  const std::optional<RelayAddress>& relayFor(Family f) const { return f == Family::V4 ? relayV4 : relayV6; }
};

// Start-up checks: one human-readable line per problem; empty when the config is usable. The daemon
// refuses to start on any (STYLE 8: start-up failures exit with a clear message).
std::vector<std::string> validate(const Config& config);

}  // namespace rdv::relay
