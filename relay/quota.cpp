#include "relay/quota.h"

#include "relay/credentials.h"

#include <algorithm>

namespace rdv::relay {

namespace {

constexpr uint64_t kLargestDatagram = 65535;
constexpr int64_t kSecondsPerDay = 86400;

int64_t nanos(Instant t) { return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count(); }
int64_t dayOf(int64_t unixSeconds) { return unixSeconds / kSecondsPerDay; }

}  // namespace

// go-libp2p circuit relay v2 (p2p/protocol/circuitv2/relay/resources.go, DefaultResources): a relayed
// connection is limited to 2 minutes and 128 KiB per direction; at most 16 circuits per peer.
QuotaClass limitedClass() {
  QuotaClass c;
  c.name = "limited";
  c.maxLifetime = Seconds(120);
  c.bytesPerAllocation = 128 * 1024;
  c.allocations = 16;
  return c;
}

QuotaClass unlimitedClass() {
  QuotaClass c;
  c.name = "unlimited";
  return c;
}

const QuotaClass& QuotaPolicy::classFor(const std::string& identity, const std::string& username,
                                        bool staticUser) const {
  static const QuotaClass kUnlimited = unlimitedClass();
  auto member = members.find(identity);
  if (member == members.end()) member = members.find(username);
  if (member != members.end()) {
    if (member->second == limited.name) return limited;
    if (member->second == kUnlimited.name) return kUnlimited;
    if (auto c = classes.find(member->second); c != classes.end()) return c->second;
  }
  return staticUser ? kUnlimited : limited;
}

std::vector<std::string> validate(const QuotaPolicy& p) {
  std::vector<std::string> errors;
  auto checkClass = [&](const std::string& key, const QuotaClass& c) {
    if (c.bytesPerSecond != 0 && c.burst != 0 && c.burst < kLargestDatagram) {
      errors.push_back(key + ": burst " + std::to_string(c.burst) +
                       " is below the largest datagram (65535 bytes): such packets could never pass");
    }
    if (c.maxLifetime.count() < 0) errors.push_back(key + ": max-lifetime is negative");
  };
  for (const auto& [name, c] : p.classes) {
    if (name.empty()) errors.push_back("quota-classes: a class has an empty name");
    if (name == "limited" || name == "unlimited") {
      errors.push_back("quota-classes: '" + name + "' is a built-in class (use limited-class to change limited)");
    }
    checkClass("quota-classes." + name, c);
  }
  checkClass("limited-class", p.limited);
  for (const auto& [who, cls] : p.members) {
    if (who.empty()) errors.push_back("quota-members: an empty identity or username");
    if (cls != "limited" && cls != "unlimited" && p.classes.count(cls) == 0) {
      errors.push_back("quota-members: '" + who + "' names unknown class '" + cls + "'");
    }
  }
  if (!(p.limitedMaxShare >= 0.0 && p.limitedMaxShare <= 1.0)) {
    errors.push_back("limited-max-share: " + std::to_string(p.limitedMaxShare) + " is not between 0 and 1");
  }
  if (p.bpsCapacity != 0 && p.bpsCapacity < kLargestDatagram) {
    errors.push_back("bps-capacity: " + std::to_string(p.bpsCapacity) + " is below the largest datagram (65535 bytes)");
  }
  return errors;
}

void Gcra::configure(uint64_t bytesPerSecond, uint64_t burst) {
  if (burst == 0) burst = std::max(bytesPerSecond, kLargestDatagram);
  TokenBucket::configure(static_cast<double>(bytesPerSecond), static_cast<double>(burst));
}

QuotaBook::QuotaBook(QuotaPolicy policy) { apply(std::move(policy)); }

const QuotaClass* QuotaBook::intern(const QuotaClass& c) {
  for (const auto& existing : classes_) {
    if (*existing == c) return existing.get();
  }
  classes_.push_back(std::make_unique<QuotaClass>(c));
  return classes_.back().get();
}

std::string QuotaBook::keyOf(IdentityKind kind, const std::string& identity) {
  return std::string(toString(kind)) + "/" + identity;
}

IdentityQuota& QuotaBook::findOrCreate(IdentityKind kind, const std::string& identity, const QuotaClass& cls) {
  auto& slot = identities_[keyOf(kind, identity)];
  if (!slot) {
    slot = std::make_unique<IdentityQuota>();
    slot->identity = identity;
    slot->kind = kind;
  }
  const QuotaClass* interned = intern(cls);
  slot->sharesLimited.store(&cls == &policy_.limited, std::memory_order_relaxed);
  if (slot->cls.load(std::memory_order_relaxed) != interned) {
    slot->cls.store(interned, std::memory_order_release);
    slot->bucket.configure(cls.bytesPerSecond, cls.burst);
  }
  return *slot;
}

void QuotaBook::rollDay(IdentityQuota& q, int64_t unixNow) {
  const int64_t today = dayOf(unixNow);
  int64_t seen = q.day.load(std::memory_order_relaxed);
  // The first thread to see the new day resets the count (bytes added meanwhile by another worker for
  // the old day may be lost or counted today: at most a packet per worker, at midnight UTC).
  if (seen != today && q.day.compare_exchange_strong(seen, today, std::memory_order_relaxed)) {
    q.bytesToday.store(0, std::memory_order_relaxed);
    q.fleetBytesToday.store(0, std::memory_order_relaxed);
  }
}

void QuotaBook::sweepIdle(int64_t unixNow) {
  const int64_t today = dayOf(unixNow);
  std::erase_if(identities_, [&](const auto& entry) {
    const IdentityQuota& q = *entry.second;
    if (q.allocations.load(std::memory_order_relaxed) != 0) return false;
    if (q.fleetAllocations.load(std::memory_order_relaxed) != 0) return false;
    if (q.fleetBytesToday.load(std::memory_order_relaxed) != 0 && q.day.load(std::memory_order_relaxed) == today)
      return false;
    const bool countsToday = q.day.load(std::memory_order_relaxed) == today && q.bytesToday.load() != 0;
    return !countsToday;
  });
}

QuotaBook::Lease QuotaBook::acquire(const std::string& identity, const std::string& username, bool staticUser,
                                    int64_t unixNow, IdentityKind kind) {
  if (staticUser) kind = IdentityKind::User;
  std::lock_guard lock(mutex_);
  if (++acquiresSinceSweep_ >= 4096 && identities_.size() >= 4096) {
    acquiresSinceSweep_ = 0;
    sweepIdle(unixNow);
  }
  const QuotaClass& cls = policy_.classFor(identity, username, staticUser);
  IdentityQuota& q = findOrCreate(kind, identity, cls);
  q.username = username;
  q.staticUser = staticUser;
  rollDay(q, unixNow);
  // Counted fleet-wide: this node's and (with a fleet) the other nodes' as of the last fleet tick.
  if (cls.allocations != 0 && q.allocations.load(std::memory_order_relaxed) +
                                      q.fleetAllocations.load(std::memory_order_relaxed) >= cls.allocations)
    return {&q, 486};
  if (cls.bytesPerDay != 0 && q.bytesToday.load(std::memory_order_relaxed) +
                                      q.fleetBytesToday.load(std::memory_order_relaxed) >= cls.bytesPerDay)
    return {&q, 486};
  if (policy_.maxAllocations != 0 && allocations_ >= policy_.maxAllocations) return {&q, 508};
  // The limited class's node-wide share: 486, a quota on the requester's class (RFC 8656 §7.2 step 10),
  // not 508: the node still has ports for its known identities, and 508 tells a client to stay away for
  // a minute (§7.3) while 486 lets it try again later or elsewhere.
  const bool limited = &cls == &policy_.limited;
  if (limited && limitedCap_ && limitedAllocations_ >= *limitedCap_) return {&q, 486, true};
  q.allocations.fetch_add(1, std::memory_order_relaxed);
  ++allocations_;
  if (limited) {
    ++q.limitedHeld;
    ++limitedAllocations_;
  }
  return {&q, 0};
}

void QuotaBook::release(IdentityQuota* q) {
  if (!q) return;
  std::lock_guard lock(mutex_);
  q->allocations.fetch_sub(1, std::memory_order_relaxed);
  --allocations_;
  if (q->limitedHeld > 0) {  // counted in the share when acquired (its class may have changed since)
    --q->limitedHeld;
    --limitedAllocations_;
  }
}

Admission QuotaBook::admit(IdentityQuota& q, uint64_t allocationBytes, uint64_t bytes, Instant now, int64_t unixNow) {
  const QuotaClass& c = *q.cls.load(std::memory_order_acquire);
  if (c.bytesPerAllocation != 0 && allocationBytes + bytes > c.bytesPerAllocation) return Admission::DataCap;
  rollDay(q, unixNow);
  // Check, then add: workers racing on one identity may overshoot the budget by a packet each.
  if (c.bytesPerDay != 0 && q.bytesToday.load(std::memory_order_relaxed) +
                                    q.fleetBytesToday.load(std::memory_order_relaxed) + bytes > c.bytesPerDay) {
    return Admission::DailyBudget;
  }
  const int64_t ns = nanos(now);
  if (!q.bucket.take(bytes, ns)) return Admission::RateLimited;
  const bool limited = q.sharesLimited.load(std::memory_order_relaxed);
  if (limited && !limitedCapacity_.take(bytes, ns)) {
    q.bucket.refund(bytes);
    return Admission::RateLimited;
  }
  if (!capacity_.take(bytes, ns)) {
    q.bucket.refund(bytes);
    if (limited) limitedCapacity_.refund(bytes);
    return Admission::RateLimited;
  }
  q.bytesToday.fetch_add(bytes, std::memory_order_relaxed);
  return Admission::Ok;
}

Admission QuotaBook::charge(IdentityQuota& q, uint64_t bytes, Instant now, int64_t unixNow) {
  const QuotaClass& c = *q.cls.load(std::memory_order_acquire);
  rollDay(q, unixNow);
  const uint64_t today = q.bytesToday.fetch_add(bytes, std::memory_order_relaxed) + bytes +
                         q.fleetBytesToday.load(std::memory_order_relaxed);
  const int64_t ns = nanos(now);
  const bool identityOk = q.bucket.charge(static_cast<double>(bytes), ns);
  const bool nodeOk = capacity_.charge(static_cast<double>(bytes), ns);
  const bool shareOk = !q.sharesLimited.load(std::memory_order_relaxed) ||
                       limitedCapacity_.charge(static_cast<double>(bytes), ns);
  if (c.bytesPerDay != 0 && today >= c.bytesPerDay) return Admission::DailyBudget;
  return identityOk && nodeOk && shareOk ? Admission::Ok : Admission::RateLimited;
}

bool QuotaBook::dailyBudgetSpent(IdentityQuota& q, int64_t unixNow) {
  const QuotaClass& c = *q.cls.load(std::memory_order_acquire);
  rollDay(q, unixNow);
  return c.bytesPerDay != 0 && q.bytesToday.load(std::memory_order_relaxed) +
                                       q.fleetBytesToday.load(std::memory_order_relaxed) >= c.bytesPerDay;
}

uint64_t QuotaBook::bytesTodayEverywhere(IdentityQuota& q, int64_t unixNow) {
  rollDay(q, unixNow);
  return q.bytesToday.load(std::memory_order_relaxed) + q.fleetBytesToday.load(std::memory_order_relaxed);
}

void QuotaBook::apply(QuotaPolicy policy) {
  std::lock_guard lock(mutex_);
  policy_ = std::move(policy);
  for (auto& entry : identities_) {
    const IdentityQuota& q = *entry.second;
    findOrCreate(q.kind, q.identity, policy_.classFor(q.identity, q.username, q.staticUser));
  }
  capacity_.configure(policy_.bpsCapacity, 0);
  // The limited share, of the node's allocations (or relay ports) and of its byte rate.
  const double share = std::clamp(policy_.limitedMaxShare, 0.0, 1.0);
  const uint32_t ports = policy_.maxAllocations != 0 ? policy_.maxAllocations : policy_.relayPortCount;
  limitedCap_.reset();
  if (share < 1.0 && ports != 0) limitedCap_ = static_cast<uint32_t>(share * ports);
  uint64_t limitedBps = 0;
  if (share < 1.0 && policy_.bpsCapacity != 0)
    limitedBps = std::max<uint64_t>(static_cast<uint64_t>(share * static_cast<double>(policy_.bpsCapacity)), 1);
  limitedCapacity_.configure(limitedBps, 0);
}

QuotaPolicy QuotaBook::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

void QuotaBook::seedDailyUsage(const std::string& identity, uint64_t bytes, int64_t unixNow) {
  std::lock_guard lock(mutex_);
  for (const IdentityKind kind : {IdentityKind::User, IdentityKind::Rest, IdentityKind::Node}) {
    if (kind == IdentityKind::Node && !looksLikeNodeId(identity)) continue;
    auto it = identities_.find(keyOf(kind, identity));
    IdentityQuota& q = it != identities_.end()
                           ? *it->second
                           : findOrCreate(kind, identity, policy_.classFor(identity, identity, kind == IdentityKind::User));
    if (kind == IdentityKind::User) q.staticUser = true;
    rollDay(q, unixNow);
    q.bytesToday.fetch_add(bytes, std::memory_order_relaxed);
  }
}

uint64_t QuotaBook::bytesToday(const std::string& identity, int64_t unixNow) const {
  std::lock_guard lock(mutex_);
  uint64_t most = 0;
  for (const IdentityKind kind : {IdentityKind::User, IdentityKind::Rest, IdentityKind::Node}) {
    auto it = identities_.find(keyOf(kind, identity));
    if (it == identities_.end() || it->second->day.load() != dayOf(unixNow)) continue;
    most = std::max(most, it->second->bytesToday.load(std::memory_order_relaxed));
  }
  return most;
}

uint32_t QuotaBook::allocations() const {
  std::lock_guard lock(mutex_);
  return allocations_;
}

uint32_t QuotaBook::limitedAllocations() const {
  std::lock_guard lock(mutex_);
  return limitedAllocations_;
}

std::optional<uint32_t> QuotaBook::limitedCap() const {
  std::lock_guard lock(mutex_);
  return limitedCap_;
}

}  // namespace rdv::relay
