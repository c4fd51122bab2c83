#include "rendezvous/fleet/router.h"

#include <nlohmann/json.hpp>

#include "rendezvous/enr/base64url.h"
#include "signalling/envelope/envelope_codec.h"

namespace rdv::fleet {

namespace {

// Deletes conn:<id> only while it still names this node (the identity may have moved on).
constexpr const char* kUnbind = R"LUA(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)LUA";

}  // namespace

FleetRouter::FleetRouter(Keys keys, std::string selfHex, std::shared_ptr<RedisClient> redis, Hooks hooks)
    : keys_(std::move(keys)), selfHex_(std::move(selfHex)), redis_(std::move(redis)), hooks_(std::move(hooks)) {}

bool FleetRouter::forward(uint64_t ticket, const signalling::Envelope& e) {
  auto where = redis_->command({"GET", keys_.presence(e.header.to.hex())});
  if (!where) {
    ++stats_.errors;
    return false;
  }
  if (where->type != Reply::Type::String || where->str == selfHex_) return false;
  const Bytes blob = signalling::encodeBinary(e);
  const nlohmann::json msg = {{"t", "env"}, {"o", selfHex_}, {"r", ticket}, {"e", enr::base64UrlEncode(blob)}};
  auto receivers = redis_->command({"PUBLISH", keys_.nodeChannel(where->str), msg.dump()});
  if (!receivers) {
    ++stats_.errors;
    return false;
  }
  if (receivers->integer == 0) return false;  // that node is gone: store it for the recipient's next connection
  ++stats_.forwardedOut;
  pending_[ticket] = Clock::now() + kForwardTimeout;
  return true;
}

void FleetRouter::delivered(uint64_t ref, bool written) {
  auto it = remote_.find(ref);
  if (it == remote_.end()) return;
  const auto [origin, ticket] = it->second;
  remote_.erase(it);
  publish(origin, nlohmann::json{{"t", "ack"}, {"r", ticket}, {"w", written}}.dump());
}

void FleetRouter::bound(const signalling::NodeId& id) {
  local_.insert(id);
  if (!redis_->command({"SET", keys_.presence(id.hex()), selfHex_, "PX", std::to_string(kPresenceTtl.count())})) {
    ++stats_.errors;
    refreshFailed_ = true;  // announced at the next tick that reaches Redis
  }
}

void FleetRouter::unbound(const signalling::NodeId& id) {
  local_.erase(id);
  if (!redis_->eval(kUnbind, {keys_.presence(id.hex())}, {selfHex_})) ++stats_.errors;
}

void FleetRouter::onMessage(const std::string& text) {
  const auto msg = nlohmann::json::parse(text, nullptr, false);
  if (!msg.is_object()) return;
  const std::string type = msg.value("t", "");
  if (type == "env") {
    const std::string origin = msg.value("o", "");
    const uint64_t ticket = msg.value("r", uint64_t{0});
    auto blob = enr::base64UrlDecode(msg.value("e", ""));
    if (origin.empty() || !blob) return;
    auto e = signalling::decodeBinary(*blob);
    if (!e) return;
    ++stats_.forwardedIn;
    const uint64_t ref = nextRef_++;
    remote_.emplace(ref, std::make_pair(origin, ticket));
    if (!hooks_.deliverRemote(std::move(*e), ref)) {  // left meanwhile: the origin stores it
      remote_.erase(ref);
      publish(origin, nlohmann::json{{"t", "ack"}, {"r", ticket}, {"w", false}}.dump());
    }
  } else if (type == "ack") {
    const uint64_t ticket = msg.value("r", uint64_t{0});
    if (pending_.erase(ticket) == 0) return;  // answered already (timed out)
    hooks_.forwarded(ticket, msg.value("w", false));
  }
}

void FleetRouter::tick(Clock::time_point now) {
  std::vector<uint64_t> late;
  for (const auto& [ticket, deadline] : pending_)
    if (deadline <= now) late.push_back(ticket);
  for (uint64_t ticket : late) {
    pending_.erase(ticket);
    ++stats_.forwardTimeouts;
    hooks_.forwarded(ticket, false);
  }
  // Presence: refreshed well inside its TTL, and at once after Redis comes back (resynchronise).
  if (now < nextRefresh_ && !refreshFailed_) return;
  nextRefresh_ = now + kPresenceRefresh;
  if (local_.empty()) return;
  std::vector<std::vector<std::string>> sets;
  for (const auto& id : local_)
    sets.push_back({"SET", keys_.presence(id.hex()), selfHex_, "PX", std::to_string(kPresenceTtl.count())});
  refreshFailed_ = !redis_->pipeline(sets);
  if (refreshFailed_) ++stats_.errors;
}

void FleetRouter::publish(const std::string& nodeHex, const std::string& text) {
  if (!redis_->command({"PUBLISH", keys_.nodeChannel(nodeHex), text})) ++stats_.errors;
}

}  // namespace rdv::fleet
