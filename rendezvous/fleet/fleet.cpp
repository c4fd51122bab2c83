#include "rendezvous/fleet/fleet.h"

#include <hiredis/hiredis.h>
#include <poll.h>

namespace rdv::fleet {

namespace {

int64_t unixMillisNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Fleet::Fleet(FleetOptions options)
    : options_(std::move(options)),
      keys_(options_.fleet),
      api_(std::make_shared<RedisClient>(options_.url, options_.timeout)) {}

Fleet::~Fleet() { stop(); }

Result<std::unique_ptr<Fleet>, std::string> Fleet::connect(FleetOptions options) {
  std::unique_ptr<Fleet> fleet(new Fleet(std::move(options)));
  if (auto ok = fleet->api_->connect(); !ok) return unexpected(ok.error().message);
  return fleet;
}

void Fleet::start(FleetHooks hooks) {
  hooks_ = std::move(hooks);
  health_ = std::thread([this] { healthLoop(); });
  subscriber_ = std::thread([this] { subscriberLoop(); });
}

void Fleet::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (health_.joinable()) health_.join();
  if (subscriber_.joinable()) subscriber_.join();
}

bool Fleet::waitFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_.load(); });
}

void Fleet::healthLoop() {
  RedisClient redis(options_.url, options_.timeout);
  auto nextAnnounce = std::chrono::steady_clock::now();
  const std::string entry = keys_.nodeEntry(options_.nodeHex);
  do {
    const bool ok = static_cast<bool>(redis.command({"PING"}));
    if (ok != up_.load()) {
      up_ = ok;
      if (!ok) ++downTransitions_;
      if (hooks_.log)
        hooks_.log(!ok, ok ? "fleet-redis-up" : "fleet-redis-down",
                   ok ? nlohmann::json{{"redis", options_.url.redacted()}, {"action", "resynchronising"}}
                      : nlohmann::json{{"redis", options_.url.redacted()}, {"reason", redis.lastError()},
                                       {"serving", "STUN/TURN and local clients; retrying with backoff"}});
      if (ok) nextAnnounce = std::chrono::steady_clock::now();  // announce at once after a loss
    }
    if (ok && std::chrono::steady_clock::now() >= nextAnnounce && hooks_.announce) {
      nextAnnounce = std::chrono::steady_clock::now() + kAnnounceInterval;
      nlohmann::json j = hooks_.announce();
      const int64_t now = unixMillisNow();
      j["node_id"] = options_.nodeHex;
      j["announced_ms"] = now;
      if (redis.pipeline({{"SET", entry, j.dump(), "PX", std::to_string(kEntryTtl.count())},
                          {"ZADD", keys_.nodeList(), std::to_string(now), options_.nodeHex},
                          {"ZREMRANGEBYSCORE", keys_.nodeList(), "-inf", std::to_string(now - 6 * kEntryTtl.count())}}))
        ++announces_;
      if (hooks_.directory)
        if (auto nodes = listNodes(redis, keys_, now)) hooks_.directory(*nodes);
    }
  } while (waitFor(std::chrono::milliseconds(1000)));
  // Leaving: take this node out of the directory at once (its TTL would do it within kEntryTtl).
  (void)redis.pipeline({{"DEL", entry}, {"ZREM", keys_.nodeList(), options_.nodeHex}});
}

void Fleet::subscriberLoop() {
  RedisClient redis(options_.url, options_.timeout);
  const std::string channel = keys_.nodeChannel(options_.nodeHex);
  while (!stopping_) {
    if (!redis.connected()) {
      if (!redis.connect()) {
        if (!waitFor(std::chrono::milliseconds(250))) return;
        continue;
      }
      redisContext* c = redis.context();
      const char* argv[] = {"SUBSCRIBE", channel.c_str()};
      const size_t lens[] = {9, channel.size()};
      int done = 0;
      if (redisAppendCommandArgv(c, 2, argv, lens) != REDIS_OK) {
        redis.fail("subscribe failed");
        continue;
      }
      while (!done)
        if (redisBufferWrite(c, &done) != REDIS_OK) break;
      if (!done) {
        redis.fail("subscribe failed");
        continue;
      }
    }
    redisContext* c = redis.context();
    void* raw = nullptr;
    if (redisReaderGetReply(c->reader, &raw) != REDIS_OK) {
      redis.fail("protocol error");
      continue;
    }
    if (raw == nullptr) {
      pollfd p{c->fd, POLLIN, 0};
      const int n = ::poll(&p, 1, 250);
      if (n > 0 && redisBufferRead(c) != REDIS_OK) redis.fail(c->errstr);
      continue;
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
        std::string_view(r->element[0]->str, r->element[0]->len) == "message" &&
        r->element[2]->type == REDIS_REPLY_STRING) {
      ++messagesIn_;
      if (hooks_.onMessage) hooks_.onMessage(std::string(r->element[2]->str, r->element[2]->len));
    }
    freeReplyObject(r);
  }
}

std::string Fleet::metricsText() const {
  std::string out;
  auto gauge = [&](const char* name, const char* type, const char* help, uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
  };
  gauge("rendezvous_fleet_redis_up", "gauge", "1 when the fleet's Redis answers the node's health check", up_ ? 1 : 0);
  gauge("rendezvous_fleet_redis_down_total", "counter", "times the fleet's Redis stopped answering", downTransitions_);
  gauge("rendezvous_fleet_api_redis_failures_total", "counter",
        "Redis calls of the API thread that failed (connection lost, timeout or in backoff)", api_->failures());
  gauge("rendezvous_fleet_messages_received_total", "counter", "messages received on this node's fleet channel",
        messagesIn_);
  gauge("rendezvous_fleet_announces_total", "counter", "node-directory announcements written", announces_);
  return out;
}

Result<nlohmann::json, RedisError> listNodes(RedisClient& redis, const Keys& keys, int64_t nowMs) {
  auto ids = redis.command({"ZRANGEBYSCORE", keys.nodeList(), std::to_string(nowMs - kEntryTtl.count()), "+inf"});
  if (!ids) return unexpected(ids.error());
  nlohmann::json nodes = nlohmann::json::array();
  if (!ids->elements.empty()) {
    std::vector<std::string> mget{"MGET"};
    for (const auto& id : ids->elements) mget.push_back(keys.nodeEntry(id.str));
    auto entries = redis.command(mget);
    if (!entries) return unexpected(entries.error());
    for (const auto& e : entries->elements) {
      if (e.isNil()) continue;
      auto j = nlohmann::json::parse(e.str, nullptr, false);
      if (j.is_object()) nodes.push_back(std::move(j));
    }
  }
  return nlohmann::json{{"nodes", std::move(nodes)}};
}

}  // namespace rdv::fleet
