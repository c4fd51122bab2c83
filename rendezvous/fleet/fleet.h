// A node's membership in a fleet (docs/fleet.md): the Redis connection settings, the health check and
// node-directory thread, and the subscriber thread of this node's channel. The stores and the router
// (redis_registry.h, redis_mailbox_store.h, router.h) run on the API thread with apiClient().
//
//   auto fleet = Fleet::connect(options);         // start-up: Redis must answer, else the error (exit 2)
//   fleet->start(hooks);                          // threads: health + directory, subscriber
//   ... fleet->redisUp(), fleet->metricsText() ...
//   fleet->stop();                                // before the API thread goes away
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "rendezvous/fleet/keys.h"
#include "rendezvous/fleet/redis_client.h"
#include "rendezvous/fleet/redis_url.h"

namespace rdv::fleet {

// The node directory: each node announces itself every kAnnounceInterval with a TTL of kEntryTtl.
inline constexpr std::chrono::milliseconds kAnnounceInterval{2000};
inline constexpr std::chrono::milliseconds kEntryTtl{10000};

struct FleetOptions {
  RedisUrl url;
  std::string fleet = "default";
  std::string nodeHex;  // this node's id
  std::chrono::milliseconds timeout{250};  // connect and command timeout of every Redis call
};

struct FleetHooks {
  // A message on this node's channel: called on the subscriber thread; hand it to the API thread.
  std::function<void(std::string)> onMessage;
  // This node's directory entry (enr, http, load...): called on the fleet thread.
  std::function<nlohmann::json()> announce;
  // The live nodes (listNodes' body) after each announcement, on the fleet thread: for balancing.
  std::function<void(const nlohmann::json&)> directory;
  // Health transitions and errors, for the node's log: (warn?, event, fields).
  std::function<void(bool, const char*, nlohmann::json)> log;
};

class Fleet {
 public:
  // Connects once to check that Redis answers (AUTH, SELECT, PING): the error names the URL (without
  // its password).
  static Result<std::unique_ptr<Fleet>, std::string> connect(FleetOptions options);
  ~Fleet();

  void start(FleetHooks hooks);
  void stop();

  const Keys& keys() const { return keys_; }
  const FleetOptions& options() const { return options_; }
  // A connection for the API thread (registry, mailbox, router, /v1/nodes).
  std::shared_ptr<RedisClient> apiClient() const { return api_; }
  // Another connection with the same settings, for another thread (the admin API, the ledger).
  std::shared_ptr<RedisClient> newClient() const { return std::make_shared<RedisClient>(options_.url, options_.timeout); }
  bool redisUp() const { return up_.load(std::memory_order_relaxed); }
  // rendezvous_fleet_* lines for /metrics (Prometheus text).
  std::string metricsText() const;

 private:
  explicit Fleet(FleetOptions options);
  void healthLoop();
  void subscriberLoop();
  bool waitFor(std::chrono::milliseconds d);  // false when stopping

  FleetOptions options_;
  Keys keys_;
  std::shared_ptr<RedisClient> api_;
  FleetHooks hooks_;
  std::atomic<bool> up_{true};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> downTransitions_{0};
  std::atomic<uint64_t> messagesIn_{0};
  std::atomic<uint64_t> announces_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread health_;
  std::thread subscriber_;
};

// GET /v1/nodes: the live nodes of the fleet (entries announced within their TTL), as the JSON body.
Result<nlohmann::json, RedisError> listNodes(RedisClient& redis, const Keys& keys, int64_t nowMs);

}  // namespace rdv::fleet
