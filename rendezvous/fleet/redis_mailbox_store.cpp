#include "rendezvous/fleet/redis_mailbox_store.h"

#include <cstdlib>

#include "signalling/envelope/envelope_codec.h"

namespace rdv::fleet {

namespace {

using signalling::StoreError;

// Member of mb:<recipient>: id (20 decimal digits) || expires ms (20 digits) || the envelope's binary
// encoding; score: the id. ARGV: 1 counter key, 2 box key, 3 expires ms, 4 encoding.
constexpr const char* kPut = R"LUA(
local id = redis.call('INCR', ARGV[1])
local exp = tonumber(ARGV[3])
redis.call('ZADD', ARGV[2], id, string.format('%020d%020d', id, exp) .. ARGV[4])
if redis.call('PTTL', ARGV[2]) < 0 then redis.call('PEXPIREAT', ARGV[2], exp)
else redis.call('PEXPIREAT', ARGV[2], exp, 'GT') end
return id
)LUA";

int64_t unixMillis(signalling::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
signalling::TimePoint fromMillis(int64_t ms) {
  return signalling::TimePoint{} +
         std::chrono::duration_cast<signalling::TimePoint::duration>(std::chrono::milliseconds(ms));
}

constexpr size_t kHeader = 40;

int64_t readDigits(const std::string& s, size_t at) { return std::strtoll(s.substr(at, 20).c_str(), nullptr, 10); }

}  // namespace

RedisMailboxStore::RedisMailboxStore(Keys keys, std::shared_ptr<RedisClient> redis, size_t maxLoad)
    : keys_(std::move(keys)), redis_(std::move(redis)), maxLoad_(maxLoad) {}

Result<int64_t, StoreError> RedisMailboxStore::put(const signalling::Envelope& e, signalling::TimePoint expiresAt) {
  const Bytes blob = signalling::encodeBinary(e);
  const std::string box = keys_.mailbox(e.header.to.hex());
  auto id = redis_->eval(kPut, {box}, {keys_.mailboxCounter(), box, std::to_string(unixMillis(expiresAt)),
                                        std::string(reinterpret_cast<const char*>(blob.data()), blob.size())});
  if (!id) return unexpected(StoreError{id.error().message});
  if (id->type != Reply::Type::Integer) return unexpected(StoreError{"redis: unexpected reply to the mailbox put"});
  recipientOf_[id->integer] = e.header.to;
  return static_cast<int64_t>(id->integer);
}

Result<bool, StoreError> RedisMailboxStore::remove(std::span<const int64_t> ids) {
  std::vector<std::vector<std::string>> commands;
  for (int64_t id : ids) {
    auto it = recipientOf_.find(id);
    if (it == recipientOf_.end()) continue;
    const std::string score = std::to_string(id);
    commands.push_back({"ZREMRANGEBYSCORE", keys_.mailbox(it->second.hex()), score, score});
    recipientOf_.erase(it);
  }
  if (commands.empty()) return true;
  auto done = redis_->pipeline(commands);
  if (!done) return unexpected(StoreError{done.error().message});
  return true;
}

Result<signalling::LoadedMailbox, StoreError> RedisMailboxStore::loadAll(signalling::TimePoint) {
  return signalling::LoadedMailbox{};  // read per recipient when it authenticates (loadFor)
}

std::optional<std::vector<signalling::StoredEnvelope>> RedisMailboxStore::loadFor(const signalling::NodeId& recipient,
                                                                                 signalling::TimePoint now) {
  const std::string box = keys_.mailbox(recipient.hex());
  auto rows = redis_->command({"ZRANGE", box, "0", std::to_string(static_cast<long long>(maxLoad_) - 1)});
  if (!rows) return std::nullopt;  // Redis is away: this hub's memory is all it can deliver
  std::vector<signalling::StoredEnvelope> out;
  std::vector<std::string> expired;
  for (const Reply& row : rows->elements) {
    if (row.str.size() < kHeader) continue;
    const int64_t id = readDigits(row.str, 0);
    const auto expiresAt = fromMillis(readDigits(row.str, 20));
    if (expiresAt <= now) {
      expired.push_back(row.str);
      continue;
    }
    auto e = signalling::decodeBinary(asBytes(std::string_view(row.str).substr(kHeader)));
    if (!e || e->header.to != recipient) continue;  // never delivered; expires with the box
    recipientOf_[id] = recipient;
    out.push_back(signalling::StoredEnvelope{id, expiresAt, std::move(*e)});
  }
  if (!expired.empty()) {
    std::vector<std::string> zrem{"ZREM", box};
    zrem.insert(zrem.end(), expired.begin(), expired.end());
    (void)redis_->command(zrem);
  }
  return out;
}

}  // namespace rdv::fleet
