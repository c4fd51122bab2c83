#include "rendezvous/fleet/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>

namespace rdv::fleet {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply copyReply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::String;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(copyReply(r->element[i]));
      break;
    default: break;
  }
  return out;
}

std::vector<const char*> argvOf(const std::vector<std::string>& argv, std::vector<size_t>& lens) {
  std::vector<const char*> ptrs;
  ptrs.reserve(argv.size());
  lens.clear();
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return ptrs;
}

}  // namespace

RedisClient::RedisClient(RedisUrl url, std::chrono::milliseconds timeout) : url_(std::move(url)), timeout_(timeout) {}

RedisClient::~RedisClient() {
  if (ctx_ != nullptr) redisFree(ctx_);
}

void RedisClient::fail(const std::string& why) {
  if (ctx_ != nullptr) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  ++failures_;
  lastError_ = why;
  retryAt_ = Clock::now() + backoff_;
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
}

Result<bool, RedisError> RedisClient::connect() {
  if (ctx_ != nullptr) return true;
  redisContext* c = redisConnectWithTimeout(url_.host.c_str(), url_.port, toTimeval(timeout_));
  if (c == nullptr || c->err != 0) {
    const std::string why = c == nullptr ? "out of memory" : c->errstr;
    if (c != nullptr) redisFree(c);
    fail(why);
    return unexpected(RedisError{true, "cannot connect to " + url_.redacted() + ": " + why});
  }
  redisSetTimeout(c, toTimeval(timeout_));
  ctx_ = c;
  auto setup = [&]() -> Result<bool, RedisError> {
    if (!url_.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!url_.user.empty()) auth.push_back(url_.user);
      auth.push_back(url_.password);
      if (auto r = command(auth); !r) return unexpected(r.error());
    }
    if (url_.db != 0) {
      if (auto r = command({"SELECT", std::to_string(url_.db)}); !r) return unexpected(r.error());
    }
    if (auto r = command({"PING"}); !r) return unexpected(r.error());
    return true;
  };
  auto ok = setup();
  if (!ok) {
    if (ctx_ != nullptr) fail(ok.error().message);  // an error reply (AUTH refused); an I/O error failed already
    return unexpected(RedisError{true, url_.redacted() + ": " + ok.error().message});
  }
  backoff_ = kFirstBackoff;
  return true;
}

Result<bool, RedisError> RedisClient::ensure() {
  if (ctx_ != nullptr) return true;
  if (Clock::now() < retryAt_) return unexpected(RedisError{true, "redis unavailable: " + lastError_});
  return connect();
}

Result<Reply, RedisError> RedisClient::command(const std::vector<std::string>& argv) {
  if (auto ok = ensure(); !ok) return unexpected(ok.error());
  std::vector<size_t> lens;
  auto ptrs = argvOf(argv, lens);
  auto* r = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()));
  if (r == nullptr) {
    const std::string why = ctx_->errstr;
    fail(why);
    return unexpected(RedisError{true, "redis: " + why});
  }
  if (r->type == REDIS_REPLY_ERROR) {
    std::string why(r->str, r->len);
    freeReplyObject(r);
    return unexpected(RedisError{false, "redis: " + why});
  }
  Reply out = copyReply(r);
  freeReplyObject(r);
  return out;
}

Result<std::vector<Reply>, RedisError> RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
  if (auto ok = ensure(); !ok) return unexpected(ok.error());
  std::vector<size_t> lens;
  for (const auto& argv : commands) {
    auto ptrs = argvOf(argv, lens);
    if (redisAppendCommandArgv(ctx_, static_cast<int>(ptrs.size()), ptrs.data(), lens.data()) != REDIS_OK) {
      const std::string why = ctx_->errstr;
      fail(why);
      return unexpected(RedisError{true, "redis: " + why});
    }
  }
  std::vector<Reply> out;
  out.reserve(commands.size());
  std::string error;
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      const std::string why = ctx_->errstr;
      fail(why);
      return unexpected(RedisError{true, "redis: " + why});
    }
    auto* r = static_cast<redisReply*>(raw);
    if (r->type == REDIS_REPLY_ERROR && error.empty()) error.assign(r->str, r->len);
    out.push_back(copyReply(r));
    freeReplyObject(r);
  }
  if (!error.empty()) return unexpected(RedisError{false, "redis: " + error});
  return out;
}

Result<Reply, RedisError> RedisClient::eval(std::string_view script, const std::vector<std::string>& keys,
                                            const std::vector<std::string>& args) {
  std::vector<std::string> argv{"EVAL", std::string(script), std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return command(argv);
}

}  // namespace rdv::fleet
