// Relay quotas (issue 7, DESIGN principle 4): quota classes, per-identity state shared by every worker's
// engine, and lock-free token buckets (GCRA) for the data path.
//
// Who gets which class: an identity (the ENR node id bound in a REST TURN username "EXPIRY:ID", else the
// username) or a username listed in QuotaPolicy::members gets that class. Anyone else gets `limited`
// (go-libp2p circuit relay v2's defaults: 2 minutes, 128 KiB per direction per allocation: enough to
// coordinate a hole punch, not to carry a call), except static users (--user: accounts the operator
// configured with a password), who get `unlimited` unless listed.
//
// Cross-worker state goes through one QuotaBook (DESIGN principle 2), shared by all workers' engines:
// - at Allocate (not per packet), under a mutex: the identity's state is found or created, its class and
//   concurrent-allocation count checked, a lease taken. The allocation keeps a pointer to the identity's
//   state for its whole life.
// - per relayed packet: QuotaBook::admit(), lock-free and allocation-free: relaxed atomics for the
//   identity's bytes today, one CAS on the identity's GCRA bucket (one int64 theoretical arrival time)
//   and one on the node-wide capacity bucket.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/types.h"
#include "rendezvous/base/token_bucket.h"

namespace rdv::relay {

// One class's limits. 0 means unlimited for every field.
struct QuotaClass {
  std::string name;
  uint64_t bytesPerSecond = 0;      // sustained relayed rate of the identity, both directions together
  uint64_t burst = 0;               // bucket depth in bytes; 0: max(bytesPerSecond, 65535)
  uint64_t bytesPerDay = 0;         // the identity's relayed bytes per UTC day, both directions
  uint32_t allocations = 0;         // the identity's concurrent allocations, node-wide
  Seconds maxLifetime{0};           // an allocation's longest life from its start
  uint64_t bytesPerAllocation = 0;  // per allocation, per direction

  bool operator==(const QuotaClass&) const = default;
};

// The built-in classes.
QuotaClass limitedClass();    // "limited": 120 s, 128 KiB per direction per allocation, 16 concurrent
QuotaClass unlimitedClass();  // "unlimited": static users not listed in members

// The operator's quota configuration: immutable once built; replaced as a whole on SIGHUP.
struct QuotaPolicy {
  std::map<std::string, QuotaClass> classes;        // configured classes by name (not "limited"/"unlimited")
  std::map<std::string, std::string> members;       // identity or TURN username -> class name
  QuotaClass limited = limitedClass();              // the class of identities not in members
  uint64_t bpsCapacity = 0;                         // node-wide relayed bytes per second; 0: unlimited
  uint32_t maxAllocations = 0;                      // node-wide concurrent allocations; 0: unlimited
  // The node-wide share of the `limited` class (issue 12, relay hoarding): its allocations and
  // reservations together hold at most limitedMaxShare x (maxAllocations, or relayPortCount when that is
  // 0) relay ports (486 beyond), and its relayed bytes draw from a bucket of limitedMaxShare x
  // bpsCapacity as well as from the node's. Free identities can then never take the relay from the
  // operator's known ones. 1: no separate share.
  double limitedMaxShare = 0.5;
  uint32_t relayPortCount = 0;  // the relay port range's size (the daemon fills it in); 0: unknown

  // The class name for an identity/username ("limited", "unlimited" or a configured class).
  const QuotaClass& classFor(const std::string& identity, const std::string& username, bool staticUser) const;
};
// One human-readable line per problem (unknown class in members, burst below the largest datagram, ...).
std::vector<std::string> validate(const QuotaPolicy& policy);

// A byte-rate bucket: the project's token bucket (GCRA over one atomic, nanoseconds of the monotonic
// clock), in bytes, with the relay's default depth.
class Gcra : public TokenBucket {
 public:
  // bytesPerSecond 0: always conforming. burst 0: max(bytesPerSecond, the largest datagram).
  void configure(uint64_t bytesPerSecond, uint64_t burst);
};

// Per-identity state, shared by every allocation of the identity on every worker. Lives in the QuotaBook
// while any allocation holds it (and until the UTC day ends, for bytesToday).
struct IdentityQuota {
  std::string identity;
  IdentityKind kind = IdentityKind::Rest;
  std::string username;  // the last username it allocated with (members may name a username)
  bool staticUser = false;
  std::atomic<const QuotaClass*> cls{nullptr};  // the current class; replaced on SIGHUP (old ones stay alive)
  std::atomic<int64_t> day{0};                   // the UTC day (unix seconds / 86400) bytesToday counts
  std::atomic<uint64_t> bytesToday{0};
  std::atomic<uint32_t> allocations{0};          // written under the book's mutex only (reservations too)
  std::atomic<bool> sharesLimited{false};         // its class is the limited one: it draws from the limited share
  uint32_t limitedHeld = 0;                      // of `allocations`, those counted in the limited share (mutex)
  Gcra bucket;
  // The rest of the fleet (docs/fleet.md, "Quotas"): the identity's allocations at the other nodes and
  // their bytes today, as of the last fleet tick (written by the fleet's quota thread, 0 without a fleet
  // or while Redis is away). The class's allocation cap and daily budget count local + these.
  std::atomic<uint32_t> fleetAllocations{0};
  std::atomic<uint64_t> fleetBytesToday{0};  // for the UTC day in `day` (rollDay zeroes it)
};

// One identity's usage at this node, for the fleet's quota tick (quota_fleet.cpp).
struct LocalQuotaUsage {
  std::string key;  // "<kind>/<identity>" (QuotaBook::keyOf)
  uint32_t allocations = 0;
  uint64_t bytesToday = 0;  // of the day the snapshot was taken for
};
// The rest of the fleet's usage of one identity, from the fleet's quota tick.
struct FleetQuotaUsage {
  std::string key;
  uint32_t allocations = 0;  // at the other nodes
  uint64_t bytesToday = 0;   // at the other nodes, today
};

// Why admit() refused a packet.
enum class Admission : uint8_t { Ok, RateLimited, DataCap, DailyBudget };

class QuotaBook {
 public:
  explicit QuotaBook(QuotaPolicy policy = {});
  QuotaBook(const QuotaBook&) = delete;
  QuotaBook& operator=(const QuotaBook&) = delete;

  // At Allocate. The identity's state with its allocation count taken, or the error code: 486 (the
  // identity's concurrent allocations, or its daily budget is spent), 508 (the node's allocation total).
  // An EVEN-PORT reservation (RFC 8656 §7.2, R bit) takes a lease too: it holds a relay port like an
  // allocation, so it counts against the identity's concurrent allocations and the limited share.
  struct Lease {
    IdentityQuota* quota = nullptr;
    uint16_t error = 0;
    bool limitedShare = false;  // refused (486) because the limited class holds its whole node-wide share
  };
  // The identity's state is keyed by (kind, identity): a static user (staticUser: kind User whatever
  // `kind` says), a REST id and a node id of the same text are three identities with three buckets.
  Lease acquire(const std::string& identity, const std::string& username, bool staticUser, int64_t unixNow,
                IdentityKind kind = IdentityKind::Rest);
  // The allocation holding `quota` ended.
  void release(IdentityQuota* quota);

  // Per relayed packet of `bytes` payload. `allocationBytes` is what this allocation already relayed in
  // this direction (the per-allocation cap). Ok: counted against the identity's day and both buckets.
  Admission admit(IdentityQuota& q, uint64_t allocationBytes, uint64_t bytes, Instant now, int64_t unixNow);
  // What the kernel fast path already forwarded for the identity (not a question: it is sent): counted
  // against its day and charged to both buckets, which may go into debt. Ok, RateLimited (a bucket is in
  // debt: keep the identity's channels in user space until it conforms) or DailyBudget (spent).
  Admission charge(IdentityQuota& q, uint64_t bytes, Instant now, int64_t unixNow);
  // Not per packet: is the identity's daily budget spent (Refresh, the metering tick)?
  bool dailyBudgetSpent(IdentityQuota& q, int64_t unixNow);
  // The identity's bytes today, here and (with a fleet) at the other nodes: what admit() counts.
  uint64_t bytesTodayEverywhere(IdentityQuota& q, int64_t unixNow);

  // Replaces the policy (SIGHUP): every identity moves to its class under the new policy; allocations
  // keep running. The caller validated the policy.
  void apply(QuotaPolicy policy);
  QuotaPolicy policy() const;
  // Seeds an identity's bytes relayed today (UTC day of unixNow), e.g. from the durable ledger at start,
  // so a restart does not reset daily budgets. Adds to what is already counted. The ledger knows the id,
  // not its kind: every kind the id can be gets the bytes (an impostor's budget only gets smaller).
  void seedDailyUsage(const std::string& identity, uint64_t bytes, int64_t unixNow);
  // The most any kind of `identity` relayed today.
  uint64_t bytesToday(const std::string& identity, int64_t unixNow) const;
  uint32_t allocations() const;
  // Leases held by identities of the limited class, and the most it may hold (nullopt: no cap).
  uint32_t limitedAllocations() const;
  std::optional<uint32_t> limitedCap() const;

  // The fleet's quota tick (quota_fleet.cpp; never on the packet path). Every identity this node holds
  // state for, with its allocations and bytes of the UTC day of unixNow.
  std::vector<LocalQuotaUsage> localUsage(int64_t unixNow) const;
  // Sets what the other nodes use of each identity (creating the identity's state when this node has
  // none yet, so its first Allocate here already counts them). An identity absent from `usage` keeps
  // what it had.
  // True when some identity's figures changed (the kernel fast path's allowances must then be re-issued).
  bool setFleetUsage(const std::vector<FleetQuotaUsage>& usage, int64_t unixNow);
  // Redis is away: local-only until the next tick that reaches it.
  void clearFleetUsage();
  // Identities with usage at other nodes (a gauge for /metrics).
  size_t fleetIdentities() const;

 private:
  static void rollDay(IdentityQuota& q, int64_t unixNow);
  void sweepIdle(int64_t unixNow);  // under mutex_: forget identities nobody holds and nothing needs
  static std::string keyOf(IdentityKind kind, const std::string& identity);
  IdentityQuota& findOrCreate(IdentityKind kind, const std::string& identity, const QuotaClass& cls);  // under mutex_
  const QuotaClass* intern(const QuotaClass& c);                                   // under mutex_

  mutable std::mutex mutex_;
  QuotaPolicy policy_;
  std::unordered_map<std::string, std::unique_ptr<IdentityQuota>> identities_;  // by keyOf(kind, identity)
  // Every class object ever handed out: the data path may still read an old one after a reload.
  std::vector<std::unique_ptr<QuotaClass>> classes_;
  uint32_t allocations_ = 0;
  uint32_t limitedAllocations_ = 0;
  std::optional<uint32_t> limitedCap_;  // from policy_ (apply())
  uint32_t acquiresSinceSweep_ = 0;
  Gcra capacity_;
  Gcra limitedCapacity_;  // limitedMaxShare x bpsCapacity, taken by limited identities before capacity_
};

}  // namespace rdv::relay
