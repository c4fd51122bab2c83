// One synchronous connection to Redis (hiredis), for one thread, with a short timeout and a circuit
// breaker: after a failure the connection is dropped and every call fails at once (no waiting) until
// the backoff has passed (100 ms doubling to 5 s); the next call after that reconnects. So a Redis
// that is gone costs an API request one failed attempt per backoff period, never a pile of timeouts.
// docs/fleet.md, "Threads".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rendezvous/base/result.h"
#include "rendezvous/fleet/redis_url.h"

struct redisContext;

namespace rdv::fleet {

// A reply, copied out of hiredis's.
struct Reply {
  enum class Type { Nil, Integer, String, Status, Array };
  Type type = Type::Nil;
  long long integer = 0;
  std::string str;  // String and Status
  std::vector<Reply> elements;

  bool isNil() const { return type == Type::Nil; }
};

struct RedisError {
  bool connection = false;  // the connection failed (or is in backoff); false: Redis answered an error
  std::string message;
};

class RedisClient {
 public:
  using Clock = std::chrono::steady_clock;

  RedisClient(RedisUrl url, std::chrono::milliseconds timeout);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Connects now (AUTH, SELECT, PING), ignoring the backoff: for the start-up check.
  Result<bool, RedisError> connect();
  Result<Reply, RedisError> command(const std::vector<std::string>& argv);
  // Several commands in one round trip; one reply each (an error reply of one is an error of all).
  Result<std::vector<Reply>, RedisError> pipeline(const std::vector<std::vector<std::string>>& commands);
  // EVAL script with keys and args.
  Result<Reply, RedisError> eval(std::string_view script, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args);

  bool connected() const { return ctx_ != nullptr; }
  uint64_t failures() const { return failures_; }
  // The raw context, for the subscriber's own read loop (fleet.cpp); null when disconnected.
  redisContext* context() { return ctx_; }
  // Drops the connection and starts the backoff.
  void fail(const std::string& why);
  const std::string& lastError() const { return lastError_; }

 private:
  Result<bool, RedisError> ensure();

  RedisUrl url_;
  std::chrono::milliseconds timeout_;
  redisContext* ctx_ = nullptr;
  Clock::time_point retryAt_{};
  std::chrono::milliseconds backoff_{100};
  std::atomic<uint64_t> failures_{0};  // read by the admin thread (metrics)
  std::string lastError_;
};

}  // namespace rdv::fleet
