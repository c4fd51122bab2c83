#include "rendezvous/registry/registry.h"

#include <algorithm>

#include "rendezvous/registry/cookie.h"
#include "rendezvous/registry/unregister_message.h"

namespace rdv::registry {

const char* describe(RegistryError e) {
  switch (e) {
    case RegistryError::InvalidNamespace: return "namespace must be 1 to 255 bytes";
    case RegistryError::TtlOutOfRange: return "ttl out of range";
    case RegistryError::InvalidLimit: return "limit out of range";
    case RegistryError::InvalidCookie: return "cookie is malformed or belongs to another namespace";
    case RegistryError::StaleRecord: return "record seq is lower than the registered record's";
    case RegistryError::ConflictingRecord: return "record has the registered seq but different content";
    case RegistryError::NotRegistered: return "no such registration";
    case RegistryError::BadSignature: return "signature does not match the registered record's key";
    case RegistryError::IdentityCapReached: return "too many registrations for this identity";
    case RegistryError::NamespaceCapReached: return "too many registrations in this namespace";
    case RegistryError::RegistryFull: return "the registry is full";
  }
  return "unknown registry error";
}

int httpStatus(RegistryError e) {
  switch (e) {
    case RegistryError::InvalidNamespace:
    case RegistryError::TtlOutOfRange:
    case RegistryError::InvalidLimit:
    case RegistryError::InvalidCookie: return 400;
    case RegistryError::StaleRecord:
    case RegistryError::ConflictingRecord: return 409;
    case RegistryError::NotRegistered: return 404;
    case RegistryError::BadSignature: return 422;
    case RegistryError::IdentityCapReached:
    case RegistryError::NamespaceCapReached: return 429;
    case RegistryError::RegistryFull: return 503;
  }
  return 400;
}

std::string Registry::message(RegistryError e) const {
  switch (e) {
    case RegistryError::TtlOutOfRange:
      return "ttl must be between " + std::to_string(config_.minTtl.count()) + " and " +
             std::to_string(config_.maxTtl.count()) + " seconds";
    case RegistryError::InvalidLimit:
      return "limit must be between 1 and " + std::to_string(config_.maxDiscoverLimit);
    case RegistryError::IdentityCapReached:
      return "this identity already holds " + std::to_string(config_.maxPerIdentity) + " registrations";
    case RegistryError::NamespaceCapReached:
      return "this namespace already holds " + std::to_string(config_.maxPerNamespace) + " registrations";
    case RegistryError::RegistryFull:
      return "the registry holds its maximum of " + std::to_string(config_.maxRecords) + " registrations; retry later";
    default: return describe(e);
  }
}

namespace {
bool validNamespace(std::string_view ns) { return !ns.empty() && ns.size() <= kMaxNamespaceSize; }
}  // namespace

Result<Seconds, RegistryError> Registry::grantTtl(std::optional<Seconds> ttl) const {
  const Seconds granted = ttl.value_or(config_.defaultTtl);
  if (granted < config_.minTtl || granted > config_.maxTtl) return unexpected(RegistryError::TtlOutOfRange);
  return granted;
}

size_t Registry::identityCount(const identity::NodeId& id) const {
  auto it = perIdentity_.find(id);
  return it == perIdentity_.end() ? 0 : it->second;
}

Result<RegisterPlan, RegistryError> Registry::checkRegister(std::string_view ns, const enr::EnrRecord& record,
                                                            std::optional<Seconds> ttl, TimePoint now) const {
  if (!validNamespace(ns)) return unexpected(RegistryError::InvalidNamespace);
  auto granted = grantTtl(ttl);
  if (!granted) return unexpected(granted.error());

  RegisterPlan plan{RegisterKind::Created,
                    Registration{std::string(ns), nullptr, now + *granted, counter_ + 1}, *granted};
  const Registration* existing = find(ns, record.nodeId());
  if (existing != nullptr && existing->expiresAt > now) {
    // A live registration: seq rules (EIP-778: a higher seq is a newer record).
    const auto& old = *existing->record;
    if (record.seq() < old.seq()) return unexpected(RegistryError::StaleRecord);
    if (record.seq() == old.seq()) {
      if (record.encoded() != old.encoded()) return unexpected(RegistryError::ConflictingRecord);
      plan.kind = RegisterKind::Refreshed;
      plan.registration.record = existing->record;
      plan.registration.counter = existing->counter;  // not new: discover does not return it again
      return plan;
    }
    plan.kind = RegisterKind::Updated;
  } else if (existing == nullptr) {
    // A new slot (an expired, unpurged entry is replaced in place and needs no new slot).
    if (identityCount(record.nodeId()) >= config_.maxPerIdentity) {
      return unexpected(RegistryError::IdentityCapReached);
    }
    auto space = namespaces_.find(std::string(ns));
    if (space != namespaces_.end() && space->second.byCounter.size() >= config_.maxPerNamespace) {
      return unexpected(RegistryError::NamespaceCapReached);
    }
    if (size() >= config_.maxRecords) return unexpected(RegistryError::RegistryFull);
  }
  plan.registration.record = std::make_shared<const enr::EnrRecord>(record);
  return plan;
}

void Registry::apply(const RegisterPlan& plan) {
  const Registration& reg = plan.registration;
  remove(reg.ns, reg.nodeId());
  insert(reg);
}

Result<RegisterPlan, RegistryError> Registry::registerRecord(std::string_view ns, const enr::EnrRecord& record,
                                                             std::optional<Seconds> ttl, TimePoint now) {
  auto plan = checkRegister(ns, record, ttl, now);
  if (plan) apply(*plan);
  return plan;
}

void Registry::insert(Registration registration) {
  counter_ = std::max(counter_, registration.counter);
  Namespace& space = namespaces_[registration.ns];
  const identity::NodeId id = registration.nodeId();
  const uint64_t counter = registration.counter;
  expiry_.emplace(registration.expiresAt, registration.ns, id);
  space.byId.insert_or_assign(id, counter);
  ++perIdentity_[id];
  namespacesOf_[id].insert(registration.ns);
  byAddress_.insert_or_assign(identity::EthAddress::ofNodeId(id), id);
  space.byCounter.insert_or_assign(counter, std::move(registration));
}

void Registry::erase(Namespace& space, std::map<uint64_t, Registration>::iterator it) {
  const Registration& reg = it->second;
  const identity::NodeId id = reg.nodeId();
  expiry_.erase(ExpiryKey{reg.expiresAt, reg.ns, id});
  space.byId.erase(id);
  auto count = perIdentity_.find(id);
  if (count != perIdentity_.end() && --count->second == 0) perIdentity_.erase(count);
  if (auto names = namespacesOf_.find(id); names != namespacesOf_.end()) {
    names->second.erase(reg.ns);
    if (names->second.empty()) {
      namespacesOf_.erase(names);
      byAddress_.erase(identity::EthAddress::ofNodeId(id));
    }
  }
  const std::string ns = reg.ns;
  space.byCounter.erase(it);
  if (space.byCounter.empty()) namespaces_.erase(ns);
}

const Registration* Registry::find(std::string_view ns, const identity::NodeId& id) const {
  auto space = namespaces_.find(std::string(ns));
  if (space == namespaces_.end()) return nullptr;
  auto it = space->second.byId.find(id);
  if (it == space->second.byId.end()) return nullptr;
  auto reg = space->second.byCounter.find(it->second);
  return reg == space->second.byCounter.end() ? nullptr : &reg->second;
}

std::vector<Registration> Registry::registrationsOf(const identity::NodeId& id, TimePoint now) const {
  std::vector<Registration> out;
  auto names = namespacesOf_.find(id);
  if (names == namespacesOf_.end()) return out;
  for (const auto& ns : names->second) {
    const Registration* reg = find(ns, id);
    if (reg != nullptr && reg->expiresAt > now) out.push_back(*reg);
  }
  return out;
}

std::optional<identity::NodeId> Registry::identityOfAddress(const identity::EthAddress& address) const {
  auto it = byAddress_.find(address);
  if (it == byAddress_.end()) return std::nullopt;
  return it->second;
}

Result<Registration, RegistryError> Registry::checkUnregister(std::string_view ns, const identity::NodeId& id,
                                                              ByteSpan signature, int64_t signedTime,
                                                              TimePoint now) const {
  if (!validNamespace(ns)) return unexpected(RegistryError::InvalidNamespace);
  const Registration* reg = find(ns, id);
  if (reg == nullptr || reg->expiresAt <= now) return unexpected(RegistryError::NotRegistered);
  const auto digest = unregisterDigest(ns, id, reg->record->seq(), signedTime);
  if (!reg->record->publicKey().verify(digest, signature)) return unexpected(RegistryError::BadSignature);
  return *reg;
}

bool Registry::remove(std::string_view ns, const identity::NodeId& id) {
  auto space = namespaces_.find(std::string(ns));
  if (space == namespaces_.end()) return false;
  auto it = space->second.byId.find(id);
  if (it == space->second.byId.end()) return false;
  auto reg = space->second.byCounter.find(it->second);
  if (reg == space->second.byCounter.end()) return false;
  erase(space->second, reg);
  return true;
}

Result<Registration, RegistryError> Registry::unregister(std::string_view ns, const identity::NodeId& id,
                                                         ByteSpan signature, int64_t signedTime, TimePoint now) {
  auto reg = checkUnregister(ns, id, signature, signedTime, now);
  if (reg) remove(ns, id);
  return reg;
}

Result<DiscoverPage, RegistryError> Registry::discover(std::string_view ns, size_t limit, std::string_view cookie,
                                                       TimePoint now) const {
  if (!validNamespace(ns)) return unexpected(RegistryError::InvalidNamespace);
  if (limit == 0 || limit > config_.maxDiscoverLimit) return unexpected(RegistryError::InvalidLimit);
  uint64_t after = 0;
  if (!cookie.empty()) {
    auto decoded = decodeCookie(ns, cookie);
    if (!decoded) return unexpected(RegistryError::InvalidCookie);
    after = *decoded;
  }
  DiscoverPage page;
  auto space = namespaces_.find(std::string(ns));
  if (space != namespaces_.end()) {
    const auto& byCounter = space->second.byCounter;
    page.registrations.reserve(std::min(limit, byCounter.size()));
    for (auto it = byCounter.upper_bound(after); it != byCounter.end() && page.registrations.size() < limit; ++it) {
      after = it->first;  // expired entries are skipped for good: they can only come back as new
      if (it->second.expiresAt > now) page.registrations.push_back(it->second);
    }
  }
  page.cookie = encodeCookie(ns, after);
  return page;
}

size_t Registry::purgeExpired(TimePoint now) {
  size_t purged = 0;
  while (!expiry_.empty() && std::get<0>(*expiry_.begin()) <= now) {
    const auto [at, ns, id] = *expiry_.begin();
    if (!remove(ns, id)) expiry_.erase(expiry_.begin());  // cannot happen; never loop forever
    ++purged;
  }
  return purged;
}

std::optional<TimePoint> Registry::nextExpiry() const {
  if (expiry_.empty()) return std::nullopt;
  return std::get<0>(*expiry_.begin());
}

void Registry::restore(Registration registration) {
  remove(registration.ns, registration.nodeId());
  auto space = namespaces_.find(registration.ns);
  if (space != namespaces_.end() && space->second.byCounter.contains(registration.counter)) {
    registration.counter = counter_ + 1;  // a damaged store: never let two registrations share a slot
  }
  insert(std::move(registration));
}

}  // namespace rdv::registry
