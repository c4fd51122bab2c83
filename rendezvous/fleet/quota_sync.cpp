#include "rendezvous/fleet/quota_sync.h"

#include <algorithm>
#include <ctime>

namespace rdv::fleet {

namespace {

// ARGV: 1 prefix, 2 node id, 3 day, 4 cursor (Redis ms; 0: a minute back), 5 node timeout ms,
// 6 batch limit, 7 n pushes, then n x (key, allocations or -1, bytes), then the keys to refresh.
// Returns {next cursor, key, others' allocations, fleet bytes today, key, ...}. Redis's own clock (TIME)
// orders the changes, so the nodes' clocks do not matter.
constexpr const char* kSync = R"LUA(
local P, me, day, cursor, timeout, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', P .. 'qlive', now, me)
redis.call('ZREMRANGEBYSCORE', P .. 'qlive', '-inf', now - 3600000)
local n = tonumber(ARGV[7])
local i = 8
for _ = 1, n do
  local k, a, b = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  i = i + 3
  if a >= 0 then
    local qa = P .. 'qa:' .. k
    if a == 0 then redis.call('HDEL', qa, me) else
      redis.call('HSET', qa, me, a)
      redis.call('PEXPIRE', qa, 86400000)
    end
  end
  if b > 0 then
    local qb = P .. 'qb:' .. day .. ':' .. k
    redis.call('INCRBY', qb, b)
    redis.call('EXPIRE', qb, 172800)
  end
  redis.call('ZADD', P .. 'qchg', now, k)
end
redis.call('ZREMRANGEBYSCORE', P .. 'qchg', '-inf', now - 60000)
if cursor == 0 then cursor = now - 60000 end
local want, seen = {}, {}
local changed = redis.call('ZRANGEBYSCORE', P .. 'qchg', cursor, '+inf', 'WITHSCORES', 'LIMIT', 0, limit)
local nextCursor = now
if #changed >= 2 * limit then nextCursor = tonumber(changed[#changed]) end
for j = 1, #changed, 2 do
  if not seen[changed[j]] then seen[changed[j]] = true; want[#want + 1] = changed[j] end
end
for j = i, #ARGV do
  if not seen[ARGV[j]] then seen[ARGV[j]] = true; want[#want + 1] = ARGV[j] end
end
local out = {nextCursor}
for _, k in ipairs(want) do
  local fields = redis.call('HGETALL', P .. 'qa:' .. k)
  local alloc = 0
  for j = 1, #fields, 2 do
    if fields[j] ~= me then
      local s = redis.call('ZSCORE', P .. 'qlive', fields[j])
      if s and tonumber(s) >= now - timeout then alloc = alloc + tonumber(fields[j + 1]) end
    end
  end
  out[#out + 1] = k
  out[#out + 1] = alloc
  out[#out + 1] = tonumber(redis.call('GET', P .. 'qb:' .. day .. ':' .. k) or '0')
end
return out
)LUA";

int64_t unixSecondsNow() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

std::vector<QuotaPush> QuotaTracker::increments(const std::vector<QuotaLocal>& snapshot, int64_t day) {
  std::vector<QuotaPush> out;
  if (!started_) {
    started_ = true;
    for (const QuotaLocal& l : snapshot) told_[l.key] = Told{day, l.bytesToday, 0};
  }
  std::map<std::string, bool> present;
  for (const QuotaLocal& l : snapshot) {
    present[l.key] = true;
    const auto it = told_.find(l.key);
    const Told told = it == told_.end() ? Told{day, 0, 0} : it->second;
    const uint64_t toldBytes = told.day == day ? told.bytes : 0;
    QuotaPush p{l.key, -1, l.bytesToday > toldBytes ? l.bytesToday - toldBytes : 0};
    if (l.allocations != told.allocations) p.allocations = l.allocations;
    if (p.allocations >= 0 || p.bytes != 0) out.push_back(std::move(p));
  }
  // Identities the book forgot (nothing held, nothing today) whose allocations Redis still counts.
  for (const auto& [key, told] : told_)
    if (!present.count(key) && told.allocations != 0) out.push_back(QuotaPush{key, 0, 0});
  return out;
}

void QuotaTracker::commit(const std::vector<QuotaPush>& pushed, int64_t day) {
  for (const QuotaPush& p : pushed) {
    Told& told = told_[p.key];
    if (told.day != day) told = Told{day, 0, told.allocations};
    told.bytes += p.bytes;
    if (p.allocations >= 0) told.allocations = static_cast<uint32_t>(p.allocations);
  }
  std::erase_if(told_, [&](const auto& e) { return e.second.allocations == 0 && e.second.day != day; });
}

std::vector<QuotaOthers> QuotaTracker::others(const std::vector<QuotaTotals>& totals, int64_t day) const {
  std::vector<QuotaOthers> out;
  out.reserve(totals.size());
  for (const QuotaTotals& t : totals) {
    const auto it = told_.find(t.key);
    const uint64_t mine = it != told_.end() && it->second.day == day ? it->second.bytes : 0;
    out.push_back(QuotaOthers{t.key, t.othersAllocations, t.fleetBytes > mine ? t.fleetBytes - mine : 0});
  }
  return out;
}

Result<QuotaRound, RedisError> syncQuotas(RedisClient& redis, const Keys& keys, const std::string& nodeHex,
                                          int64_t day, int64_t cursor, const std::vector<QuotaPush>& pushes,
                                          const std::vector<std::string>& refresh) {
  std::vector<std::string> args{keys.prefix(), nodeHex, std::to_string(day), std::to_string(cursor),
                                std::to_string(kQuotaNodeTimeout.count()), std::to_string(kQuotaBatch),
                                std::to_string(pushes.size())};
  args.reserve(args.size() + 3 * pushes.size() + refresh.size());
  for (const QuotaPush& p : pushes) {
    args.push_back(p.key);
    args.push_back(std::to_string(p.allocations));
    args.push_back(std::to_string(p.bytes));
  }
  args.insert(args.end(), refresh.begin(), refresh.end());
  // Every key the script touches carries the fleet's hash tag; the one named here puts it in that slot.
  auto reply = redis.eval(kSync, {keys.quotaChanges()}, args);
  if (!reply) return unexpected(reply.error());
  const auto& e = reply->elements;
  if (reply->type != Reply::Type::Array || e.empty() || (e.size() - 1) % 3 != 0)
    return unexpected(RedisError{false, "unexpected reply to the quota script"});
  QuotaRound round;
  round.cursor = e[0].integer;
  for (size_t i = 1; i + 2 < e.size(); i += 3)
    round.totals.push_back(QuotaTotals{e[i].str, static_cast<uint32_t>(std::max<long long>(e[i + 1].integer, 0)),
                                       static_cast<uint64_t>(std::max<long long>(e[i + 2].integer, 0))});
  return round;
}

QuotaSync::QuotaSync(RedisUrl url, std::chrono::milliseconds timeout, Keys keys, std::string nodeHex, Hooks hooks)
    : redis_(std::move(url), timeout), keys_(std::move(keys)), nodeHex_(std::move(nodeHex)), hooks_(std::move(hooks)) {}

QuotaSync::~QuotaSync() { stop(); }

void QuotaSync::start() { thread_ = std::thread([this] { loop(); }); }

void QuotaSync::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void QuotaSync::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    tick();
    lock.lock();
    wake_.wait_for(lock, kQuotaTick, [this] { return stopping_; });
  }
}

void QuotaSync::tick() {
  const int64_t unixNow = unixSecondsNow();
  const int64_t day = unixNow / 86400;
  const auto now = std::chrono::steady_clock::now();
  const std::vector<QuotaPush> all = tracker_.increments(hooks_.local(unixNow), day);
  // A bounded round trip: the rest of the increments go with the next tick.
  const std::vector<QuotaPush> pushes(all.begin(), all.begin() + static_cast<ptrdiff_t>(std::min(all.size(), kQuotaBatch)));
  std::vector<std::string> refresh;
  for (const auto& [key, at] : known_)
    if (now - at >= kQuotaRefresh && refresh.size() < kQuotaBatch) refresh.push_back(key);
  auto round = syncQuotas(redis_, keys_, nodeHex_, day, cursor_, pushes, refresh);
  if (!round) {
    ++failures_;
    if (!localOnly_.exchange(true)) {
      hooks_.localOnly();
      known_.clear();
      cursor_ = 0;
      if (hooks_.log)
        hooks_.log(true, "fleet-quota-local-only",
                   {{"reason", round.error().message},
                    {"action", "quotas count this node's usage only until Redis answers; increments are kept"}});
    }
    return;
  }
  tracker_.commit(pushes, day);
  if (localOnly_.exchange(false) && hooks_.log)
    hooks_.log(false, "fleet-quota-fleet-wide", {{"action", "quotas count the fleet's usage again"}});
  ++rounds_;
  cursor_ = round->cursor;
  const std::vector<QuotaOthers> others = tracker_.others(round->totals, day);
  for (const QuotaOthers& o : others) {
    if (o.allocations != 0 || o.bytesToday != 0) known_[o.key] = now;
    else known_.erase(o.key);
  }
  identitiesElsewhere_ = known_.size();
  hooks_.apply(others, unixNow);
}

std::string QuotaSync::metricsText() const {
  std::string out;
  auto line = [&](const char* name, const char* type, const char* help, uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
  };
  line("rendezvous_fleet_quota_local_only", "gauge",
       "1 while quotas count only this node's usage (the fleet's Redis does not answer the quota tick)",
       localOnly_ ? 1 : 0);
  line("rendezvous_fleet_quota_rounds_total", "counter", "quota ticks that reached Redis", rounds_);
  line("rendezvous_fleet_quota_failures_total", "counter", "quota ticks that did not reach Redis", failures_);
  line("rendezvous_fleet_quota_identities_elsewhere", "gauge",
       "identities with allocations or bytes today at other nodes, as of the last tick", identitiesElsewhere_);
  return out;
}

}  // namespace rdv::fleet
