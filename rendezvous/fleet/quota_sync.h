// Fleet-wide quotas (docs/fleet.md, "Quotas"): once per tick each node sends Redis the increments of its
// per-identity usage (concurrent allocations, bytes relayed today) and reads back what the other nodes
// use of every identity that changed anywhere since its last tick (and, every few seconds, of those it
// already knows), in one Lua script. The relay engine's QuotaBook then enforces local + others' usage;
// the packet path only reads two atomics and never waits on Redis.
//
//   QuotaTracker: pure, which increments to send and what the others use (tested without Redis)
//   syncQuotas(): the one round trip
//   QuotaSync: the thread (tick kQuotaTick), local-only while Redis is away
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "rendezvous/fleet/keys.h"
#include "rendezvous/fleet/redis_client.h"

namespace rdv::fleet {

inline constexpr std::chrono::milliseconds kQuotaTick{500};
// A node's allocations stop counting at the others this long after its last tick (it died or lost Redis).
inline constexpr std::chrono::milliseconds kQuotaNodeTimeout{5000};
// Identities known to be used elsewhere are read again this often even when nothing changed.
inline constexpr std::chrono::milliseconds kQuotaRefresh{5000};
inline constexpr size_t kQuotaBatch = 4096;  // identities sent, or read back, per round trip at most

// Usage of one identity ("<kind>/<identity>"): this node's (QuotaLocal, from the QuotaBook) or the other
// nodes' (QuotaOthers, into it).
struct QuotaUsage {
  std::string key;
  uint32_t allocations = 0;
  uint64_t bytesToday = 0;
};
using QuotaLocal = QuotaUsage;
using QuotaOthers = QuotaUsage;
// An increment for Redis: the allocations now (-1: unchanged) and the bytes since the last push.
struct QuotaPush {
  std::string key;
  int64_t allocations = -1;
  uint64_t bytes = 0;
};
// What Redis answered for one identity: the other nodes' allocations, and the fleet's bytes today.
struct QuotaTotals {
  std::string key;
  uint32_t othersAllocations = 0;
  uint64_t fleetBytes = 0;
};

// Pure bookkeeping of what this node has told Redis.
class QuotaTracker {
 public:
  // The first snapshot after start counts as told (its bytes today came from the ledger, which the node's
  // previous run already sent), unless `sendFirst`.
  explicit QuotaTracker(bool sendFirst = false) : started_(sendFirst) {}
  // The increments since the last committed push, for `day` (UTC day number).
  std::vector<QuotaPush> increments(const std::vector<QuotaLocal>& snapshot, int64_t day);
  // Redis took them.
  void commit(const std::vector<QuotaPush>& pushed, int64_t day);
  // The others' usage from Redis's totals (fleet bytes minus what this node sent).
  std::vector<QuotaOthers> others(const std::vector<QuotaTotals>& totals, int64_t day) const;

 private:
  struct Told {
    int64_t day = 0;
    uint64_t bytes = 0;
    uint32_t allocations = 0;
  };
  bool started_;
  std::map<std::string, Told> told_;
};

struct QuotaRound {
  int64_t cursor = 0;  // Redis ms to read changes from next time
  std::vector<QuotaTotals> totals;
};
// One round trip: pushes, then the totals of every identity changed since `cursor` (Redis ms; 0: the
// last minute) and of `refresh`.
Result<QuotaRound, RedisError> syncQuotas(RedisClient& redis, const Keys& keys, const std::string& nodeHex,
                                          int64_t day, int64_t cursor, const std::vector<QuotaPush>& pushes,
                                          const std::vector<std::string>& refresh);

class QuotaSync {
 public:
  struct Hooks {
    std::function<std::vector<QuotaLocal>(int64_t unixNow)> local;             // the QuotaBook's snapshot
    std::function<void(const std::vector<QuotaOthers>&, int64_t unixNow)> apply;  // into the QuotaBook
    std::function<void()> localOnly;                                            // Redis away: forget the others
    std::function<void(bool warn, const char* event, nlohmann::json fields)> log;
  };
  QuotaSync(RedisUrl url, std::chrono::milliseconds timeout, Keys keys, std::string nodeHex, Hooks hooks);
  ~QuotaSync();
  void start();
  void stop();
  std::string metricsText() const;

 private:
  void loop();
  void tick();

  RedisClient redis_;
  Keys keys_;
  std::string nodeHex_;
  Hooks hooks_;
  QuotaTracker tracker_;
  int64_t cursor_ = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> known_;  // used elsewhere: last read
  std::atomic<bool> localOnly_{false};
  std::atomic<uint64_t> rounds_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> identitiesElsewhere_{0};
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace rdv::fleet
