#include "relay/quota.h"

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

IdentityQuota& QuotaBook::findOrCreate(const std::string& identity, const QuotaClass& cls) {
  auto& slot = identities_[identity];
  if (!slot) {
    slot = std::make_unique<IdentityQuota>();
    slot->identity = identity;
  }
  const QuotaClass* interned = intern(cls);
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
  }
}

void QuotaBook::sweepIdle(int64_t unixNow) {
  const int64_t today = dayOf(unixNow);
  std::erase_if(identities_, [&](const auto& entry) {
    const IdentityQuota& q = *entry.second;
    if (q.allocations.load(std::memory_order_relaxed) != 0) return false;
    const bool countsToday = q.day.load(std::memory_order_relaxed) == today && q.bytesToday.load() != 0;
    return !countsToday;
  });
}

QuotaBook::Lease QuotaBook::acquire(const std::string& identity, const std::string& username, bool staticUser,
                                    int64_t unixNow) {
  std::lock_guard lock(mutex_);
  if (++acquiresSinceSweep_ >= 4096 && identities_.size() >= 4096) {
    acquiresSinceSweep_ = 0;
    sweepIdle(unixNow);
  }
  const QuotaClass& cls = policy_.classFor(identity, username, staticUser);
  IdentityQuota& q = findOrCreate(identity, cls);
  q.username = username;
  q.staticUser = staticUser;
  rollDay(q, unixNow);
  if (cls.allocations != 0 && q.allocations.load(std::memory_order_relaxed) >= cls.allocations) return {&q, 486};
  if (cls.bytesPerDay != 0 && q.bytesToday.load(std::memory_order_relaxed) >= cls.bytesPerDay) return {&q, 486};
  if (policy_.maxAllocations != 0 && allocations_ >= policy_.maxAllocations) return {&q, 508};
  q.allocations.fetch_add(1, std::memory_order_relaxed);
  ++allocations_;
  return {&q, 0};
}

void QuotaBook::release(IdentityQuota* q) {
  if (!q) return;
  std::lock_guard lock(mutex_);
  q->allocations.fetch_sub(1, std::memory_order_relaxed);
  --allocations_;
}

Admission QuotaBook::admit(IdentityQuota& q, uint64_t allocationBytes, uint64_t bytes, Instant now, int64_t unixNow) {
  const QuotaClass& c = *q.cls.load(std::memory_order_acquire);
  if (c.bytesPerAllocation != 0 && allocationBytes + bytes > c.bytesPerAllocation) return Admission::DataCap;
  rollDay(q, unixNow);
  // Check, then add: workers racing on one identity may overshoot the budget by a packet each.
  if (c.bytesPerDay != 0 && q.bytesToday.load(std::memory_order_relaxed) + bytes > c.bytesPerDay) {
    return Admission::DailyBudget;
  }
  const int64_t ns = nanos(now);
  if (!q.bucket.take(bytes, ns)) return Admission::RateLimited;
  if (!capacity_.take(bytes, ns)) {
    q.bucket.refund(bytes);
    return Admission::RateLimited;
  }
  q.bytesToday.fetch_add(bytes, std::memory_order_relaxed);
  return Admission::Ok;
}

Admission QuotaBook::charge(IdentityQuota& q, uint64_t bytes, Instant now, int64_t unixNow) {
  const QuotaClass& c = *q.cls.load(std::memory_order_acquire);
  rollDay(q, unixNow);
  const uint64_t today = q.bytesToday.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  const int64_t ns = nanos(now);
  const bool identityOk = q.bucket.charge(static_cast<double>(bytes), ns);
  const bool nodeOk = capacity_.charge(static_cast<double>(bytes), ns);
  if (c.bytesPerDay != 0 && today >= c.bytesPerDay) return Admission::DailyBudget;
  return identityOk && nodeOk ? Admission::Ok : Admission::RateLimited;
}

bool QuotaBook::dailyBudgetSpent(IdentityQuota& q, int64_t unixNow) {
  const QuotaClass& c = *q.cls.load(std::memory_order_acquire);
  rollDay(q, unixNow);
  return c.bytesPerDay != 0 && q.bytesToday.load(std::memory_order_relaxed) >= c.bytesPerDay;
}

void QuotaBook::apply(QuotaPolicy policy) {
  std::lock_guard lock(mutex_);
  policy_ = std::move(policy);
  for (auto& [identity, q] : identities_) findOrCreate(identity, policy_.classFor(identity, q->username, q->staticUser));
  capacity_.configure(policy_.bpsCapacity, 0);
}

QuotaPolicy QuotaBook::policy() const {
  std::lock_guard lock(mutex_);
  return policy_;
}

void QuotaBook::seedDailyUsage(const std::string& identity, uint64_t bytes, int64_t unixNow) {
  std::lock_guard lock(mutex_);
  auto it = identities_.find(identity);
  IdentityQuota& q = it != identities_.end() ? *it->second : findOrCreate(identity, policy_.classFor(identity, identity, false));
  rollDay(q, unixNow);
  q.bytesToday.fetch_add(bytes, std::memory_order_relaxed);
}

uint64_t QuotaBook::bytesToday(const std::string& identity, int64_t unixNow) const {
  std::lock_guard lock(mutex_);
  auto it = identities_.find(identity);
  if (it == identities_.end() || it->second->day.load() != dayOf(unixNow)) return 0;
  return it->second->bytesToday.load(std::memory_order_relaxed);
}

uint32_t QuotaBook::allocations() const {
  std::lock_guard lock(mutex_);
  return allocations_;
}

}  // namespace rdv::relay
