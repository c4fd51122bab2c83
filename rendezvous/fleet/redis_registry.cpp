#include "rendezvous/fleet/redis_registry.h"

#include <cstdio>

#include "rendezvous/registry/cookie.h"
#include "rendezvous/registry/unregister_message.h"

namespace rdv::fleet {

namespace {

using registry::RegistryError;
using storage::DbError;
using storage::DurableError;

// Drops up to 256 expired registrations (every index), oldest first. Members of regexp are
// id (64 hex digits) || namespace. P = the key prefix.
constexpr const char* kPurge = R"LUA(
local function purge(P, now)
  local due = redis.call('ZRANGEBYSCORE', P .. 'regexp', '-inf', now, 'LIMIT', 0, 256)
  for _, m in ipairs(due) do
    local id, ns = string.sub(m, 1, 64), string.sub(m, 65)
    redis.call('DEL', P .. 'reg:' .. id .. ':' .. ns)
    redis.call('ZREM', P .. 'ns:' .. ns, id)
    redis.call('SREM', P .. 'idns:' .. id, ns)
    redis.call('ZREM', P .. 'regexp', m)
  end
  return #due
end
)LUA";

// ARGV: 1 prefix, 2 ns, 3 id, 4 enr, 5 seq (20 digits), 6 expires ms, 7 now ms, 8 cap per identity,
// 9 cap per namespace, 10 cap in total. Returns {kind, counter, expires ms}.
constexpr const char* kRegister = R"LUA(
local P, ns, id, enr, seq, exp, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
purge(P, now)
local rec = P .. 'reg:' .. id .. ':' .. ns
local old = redis.call('HMGET', rec, 'enr', 'seq', 'exp', 'ctr')
local kind = 'created'
if old[1] and tonumber(old[3]) > now then
  if seq < old[2] then return {'stale', 0, 0} end
  if seq == old[2] then
    if enr ~= old[1] then return {'conflict', 0, 0} end
    redis.call('HSET', rec, 'exp', exp)
    redis.call('PEXPIREAT', rec, exp)
    redis.call('ZADD', P .. 'regexp', exp, id .. ns)
    return {'refreshed', tonumber(old[4]), tonumber(exp)}
  end
  kind = 'updated'
elseif not old[1] then
  if redis.call('SCARD', P .. 'idns:' .. id) >= tonumber(ARGV[8]) then return {'identity_cap', 0, 0} end
  if redis.call('ZCARD', P .. 'ns:' .. ns) >= tonumber(ARGV[9]) then return {'namespace_cap', 0, 0} end
  if redis.call('ZCARD', P .. 'regexp') >= tonumber(ARGV[10]) then return {'full', 0, 0} end
end
local ctr = redis.call('INCR', P .. 'regctr')
redis.call('HSET', rec, 'enr', enr, 'seq', seq, 'exp', exp, 'ctr', ctr)
redis.call('PEXPIREAT', rec, exp)
redis.call('ZADD', P .. 'ns:' .. ns, ctr, id)
redis.call('SADD', P .. 'idns:' .. id, ns)
redis.call('ZADD', P .. 'regexp', exp, id .. ns)
return {kind, ctr, tonumber(exp)}
)LUA";

// Removes the registration if it is still the one with counter ARGV[4]. ARGV: 1 prefix, 2 ns, 3 id, 4 ctr.
constexpr const char* kUnregister = R"LUA(
local P, ns, id = ARGV[1], ARGV[2], ARGV[3]
local rec = P .. 'reg:' .. id .. ':' .. ns
if redis.call('HGET', rec, 'ctr') ~= ARGV[4] then return 0 end
redis.call('DEL', rec)
redis.call('ZREM', P .. 'ns:' .. ns, id)
redis.call('SREM', P .. 'idns:' .. id, ns)
redis.call('ZREM', P .. 'regexp', id .. ns)
return 1
)LUA";

// ARGV: 1 prefix, 2 now ms. Returns {purged, registrations left}.
constexpr const char* kPurgeTick = R"LUA(
local n = purge(ARGV[1], ARGV[2])
return {n, redis.call('ZCARD', ARGV[1] .. 'regexp')}
)LUA";

int64_t unixMillis(registry::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
registry::TimePoint fromMillis(int64_t ms) {
  return registry::TimePoint{} + std::chrono::duration_cast<registry::TimePoint::duration>(std::chrono::milliseconds(ms));
}

DbError toDbError(const RedisError& e) { return DbError{e.connection ? storage::kStoreUnavailable : -1, e.message}; }

bool validNamespace(std::string_view ns) { return !ns.empty() && ns.size() <= registry::kMaxNamespaceSize; }

long long asInt(const Reply& r) {
  if (r.type == Reply::Type::Integer) return r.integer;
  if (r.type == Reply::Type::String) return std::atoll(r.str.c_str());
  return 0;
}

}  // namespace

std::string seqText(uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

RedisRegistry::RedisRegistry(registry::RegistryConfig config, Keys keys, std::shared_ptr<RedisClient> redis)
    : bounds_(config), keys_(std::move(keys)), redis_(std::move(redis)) {}

Result<registry::RegisterPlan, DurableError> RedisRegistry::registerRecord(std::string_view ns,
                                                                           const enr::EnrRecord& record,
                                                                           std::optional<registry::Seconds> ttl,
                                                                           registry::TimePoint now) {
  const auto& c = bounds_.config();
  if (!validNamespace(ns)) return unexpected(DurableError{RegistryError::InvalidNamespace});
  const registry::Seconds granted = ttl.value_or(c.defaultTtl);
  if (granted < c.minTtl || granted > c.maxTtl) return unexpected(DurableError{RegistryError::TtlOutOfRange});
  const std::string enc(reinterpret_cast<const char*>(record.encoded().data()), record.encoded().size());
  const auto reply = redis_->eval(std::string(kPurge) + kRegister, {keys_.registryExpiry()},
                                  {keys_.prefix(), std::string(ns), record.nodeId().hex(), enc, seqText(record.seq()),
                                   std::to_string(unixMillis(now + granted)), std::to_string(unixMillis(now)),
                                   std::to_string(c.maxPerIdentity), std::to_string(c.maxPerNamespace),
                                   std::to_string(c.maxRecords)});
  if (!reply) return unexpected(DurableError{toDbError(reply.error())});
  if (reply->type != Reply::Type::Array || reply->elements.size() != 3)
    return unexpected(DurableError{DbError{-1, "redis: unexpected reply to the register script"}});
  const std::string& kind = reply->elements[0].str;
  if (kind == "stale") return unexpected(DurableError{RegistryError::StaleRecord});
  if (kind == "conflict") return unexpected(DurableError{RegistryError::ConflictingRecord});
  if (kind == "identity_cap") return unexpected(DurableError{RegistryError::IdentityCapReached});
  if (kind == "namespace_cap") return unexpected(DurableError{RegistryError::NamespaceCapReached});
  if (kind == "full") return unexpected(DurableError{RegistryError::RegistryFull});
  registry::RegisterPlan plan{kind == "refreshed" ? registry::RegisterKind::Refreshed
                              : kind == "updated" ? registry::RegisterKind::Updated
                                                  : registry::RegisterKind::Created,
                              registry::Registration{std::string(ns), std::make_shared<const enr::EnrRecord>(record),
                                                     fromMillis(asInt(reply->elements[2])),
                                                     static_cast<uint64_t>(asInt(reply->elements[1]))},
                              granted};
  if (plan.kind == registry::RegisterKind::Created) ++size_;
  return plan;
}

Result<std::optional<registry::Registration>, DbError> RedisRegistry::load(std::string_view ns,
                                                                           const identity::NodeId& id,
                                                                           registry::TimePoint now) {
  auto reply = redis_->command({"HMGET", keys_.registration(id.hex(), ns), "enr", "exp", "ctr"});
  if (!reply) return unexpected(toDbError(reply.error()));
  if (reply->elements.size() != 3 || reply->elements[0].isNil()) return std::optional<registry::Registration>{};
  const auto exp = fromMillis(asInt(reply->elements[1]));
  if (exp <= now) return std::optional<registry::Registration>{};
  auto record = decode(reply->elements[0].str);
  if (!record) return std::optional<registry::Registration>{};
  return std::optional<registry::Registration>{
      registry::Registration{std::string(ns), std::move(record), exp, static_cast<uint64_t>(asInt(reply->elements[2]))}};
}

std::optional<registry::Registration> RedisRegistry::find(std::string_view ns, const identity::NodeId& id,
                                                          registry::TimePoint now) {
  if (!validNamespace(ns)) return std::nullopt;
  auto reg = load(ns, id, now);
  return reg ? *reg : std::nullopt;
}

Result<registry::Registration, DurableError> RedisRegistry::unregister(std::string_view ns, const identity::NodeId& id,
                                                                       ByteSpan signature, int64_t signedTime,
                                                                       registry::TimePoint now) {
  if (!validNamespace(ns)) return unexpected(DurableError{RegistryError::InvalidNamespace});
  auto reg = load(ns, id, now);
  if (!reg) return unexpected(DurableError{reg.error()});
  if (!*reg) return unexpected(DurableError{RegistryError::NotRegistered});
  const auto digest = registry::unregisterDigest(ns, id, (*reg)->record->seq(), signedTime);
  if (!(*reg)->record->publicKey().verify(digest, signature)) return unexpected(DurableError{RegistryError::BadSignature});
  auto removed = redis_->eval(kUnregister, {keys_.registryExpiry()},
                              {keys_.prefix(), std::string(ns), id.hex(), std::to_string((*reg)->counter)});
  if (!removed) return unexpected(DurableError{toDbError(removed.error())});
  // 0: changed or removed meanwhile by another node; the signed seq no longer names what is there.
  if (asInt(*removed) == 0) return unexpected(DurableError{RegistryError::NotRegistered});
  if (size_ > 0) --size_;
  return std::move(**reg);
}

Result<registry::DiscoverPage, DurableError> RedisRegistry::discover(std::string_view ns, size_t limit,
                                                                     std::string_view cookie, registry::TimePoint now) {
  if (!validNamespace(ns)) return unexpected(DurableError{RegistryError::InvalidNamespace});
  if (limit == 0 || limit > bounds_.config().maxDiscoverLimit) return unexpected(DurableError{RegistryError::InvalidLimit});
  uint64_t after = 0;
  if (!cookie.empty()) {
    auto decoded = registry::decodeCookie(ns, cookie);
    if (!decoded) return unexpected(DurableError{RegistryError::InvalidCookie});
    after = *decoded;
  }
  auto ids = redis_->command({"ZRANGEBYSCORE", keys_.namespaceOrder(ns), "(" + std::to_string(after), "+inf",
                              "WITHSCORES", "LIMIT", "0", std::to_string(limit)});
  if (!ids) return unexpected(DurableError{toDbError(ids.error())});
  std::vector<std::vector<std::string>> reads;
  std::vector<uint64_t> counters;
  for (size_t i = 0; i + 1 < ids->elements.size(); i += 2) {
    reads.push_back({"HMGET", keys_.registration(ids->elements[i].str, ns), "enr", "exp", "ctr"});
    counters.push_back(std::strtoull(ids->elements[i + 1].str.c_str(), nullptr, 10));
  }
  registry::DiscoverPage page;
  if (!reads.empty()) {
    auto recs = redis_->pipeline(reads);
    if (!recs) return unexpected(DurableError{toDbError(recs.error())});
    for (size_t i = 0; i < recs->size(); ++i) {
      after = std::max(after, counters[i]);  // expired or replaced entries are skipped for good, as on one node
      const Reply& r = (*recs)[i];
      if (r.elements.size() != 3 || r.elements[0].isNil()) continue;
      if (static_cast<uint64_t>(asInt(r.elements[2])) != counters[i]) continue;
      const auto exp = fromMillis(asInt(r.elements[1]));
      if (exp <= now) continue;
      auto record = decode(r.elements[0].str);
      if (!record) continue;
      page.registrations.push_back(registry::Registration{std::string(ns), std::move(record), exp, counters[i]});
    }
  }
  page.cookie = registry::encodeCookie(ns, after);
  return page;
}

std::shared_ptr<const enr::EnrRecord> RedisRegistry::decode(const std::string& encoded) {
  constexpr size_t kMaxDecoded = 20'000;
  if (auto it = decoded_.find(encoded); it != decoded_.end()) return it->second;
  auto record = enr::EnrRecord::decode(asBytes(encoded));
  if (!record) return nullptr;  // never trusted: it does not verify
  if (decoded_.size() >= kMaxDecoded) decoded_.clear();
  auto shared = std::make_shared<const enr::EnrRecord>(std::move(*record));
  decoded_.emplace(encoded, shared);
  return shared;
}

Result<size_t, DbError> RedisRegistry::purgeExpired(registry::TimePoint now) {
  auto reply = redis_->eval(std::string(kPurge) + kPurgeTick, {keys_.registryExpiry()},
                            {keys_.prefix(), std::to_string(unixMillis(now))});
  if (!reply) return unexpected(toDbError(reply.error()));
  if (reply->elements.size() != 2) return unexpected(DbError{-1, "redis: unexpected reply to the purge script"});
  size_ = static_cast<size_t>(asInt(reply->elements[1]));
  return static_cast<size_t>(asInt(reply->elements[0]));
}

bool RedisRegistry::hasIdentity(const identity::NodeId& id) {
  auto reply = redis_->command({"SCARD", keys_.identityNamespaces(id.hex())});
  return reply && asInt(*reply) > 0;
}

}  // namespace rdv::fleet
