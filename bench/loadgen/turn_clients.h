// Many TURN clients over UDP, one socket (one 5-tuple) each, driven concurrently from one thread:
// Allocate with the long-term mechanism (the unauthenticated request, its 401, the authenticated
// request), then a follow-up per Plan (Refresh lifetime 0, ChannelBind or CreatePermission to a peer,
// or nothing: hold). Retransmits setup requests; never blocks for long; stops at a deadline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/options.h"
#include "bench/loadgen/udp.h"
#include "rendezvous/base/bytes.h"
#include "stun/message.h"

namespace rdv::bench {

enum class Plan : uint8_t {
  Cycle,       // Allocate, then Refresh lifetime 0, and again (the allocate scenario)
  Hold,        // Allocate and keep it (memory)
  Channel,     // Allocate, ChannelBind 0x4000 to the peer
  Permission,  // Allocate, CreatePermission for the peer
};

struct TurnStats {
  uint64_t allocations = 0;  // successful authenticated Allocates
  uint64_t cycles = 0;       // Allocate + Refresh(0) completed (Plan::Cycle)
  uint64_t bound = 0;        // ChannelBind/CreatePermission successes
  uint64_t released = 0;     // Refresh(0) successes
  uint64_t challenges = 0;   // 401s received
  uint64_t errors = 0;       // error responses other than the expected 401 / a recovered 438
  uint64_t timeouts = 0;     // requests that got no answer after the retransmissions
  uint64_t mismatches = 0;   // 437s to an Allocate, retried from a new 5-tuple
  std::string lastError;
};

struct Session {
  enum class Stage : uint8_t { Idle, Probe, Auth, Bind, Release, Done, Failed };
  int fd = -1;
  Stage stage = Stage::Idle;
  stun::TransactionId tid;
  Bytes request;  // the last request, for retransmission
  int64_t sentNs = 0;
  unsigned retries = 0;
  unsigned staleNonces = 0;
  std::string nonce;
  Endpoint relayed;
  bool releaseSent = false;  // releaseAll() sent its Refresh(0)
};

class TurnClients {
 public:
  explicit TurnClients(const Options& o);
  ~TurnClients();
  TurnClients(const TurnClients&) = delete;
  TurnClients& operator=(const TurnClients&) = delete;

  // Opens `n` client sockets connected to the server, each from its own loopback address (see reopen()).
  bool open(unsigned n, std::string& error);
  // Drives every session through `plan` (Cycle: until the deadline or `maxCycles`), with at most
  // `concurrency` sessions mid-setup and new setups started at no more than `rate` per second (0: any).
  void run(Plan plan, const Endpoint& peer, int64_t deadlineNs, unsigned concurrency, double rate,
           uint64_t maxCycles);
  // Refresh lifetime 0 on every established allocation (best effort, until the deadline).
  void releaseAll(int64_t deadlineNs);

  std::vector<Session>& sessions() { return sessions_; }
  const TurnStats& stats() const { return stats_; }

 private:
  void start(size_t i);
  void sendRequest(size_t i, stun::Method m);
  void onDatagram(size_t i, ByteSpan bytes);
  void onSuccess(size_t i, const stun::MessageView& m);
  void onError(size_t i, const stun::MessageView& m);
  void afterAllocate(size_t i);
  void checkTimeouts(int64_t now);
  void finish(size_t i, Session::Stage stage);
  void pump(int waitMs);
  bool reopen(size_t i);

  const Options& options_;
  std::string username_;
  std::string password_;
  std::string realm_;
  Bytes key_;
  Plan plan_ = Plan::Hold;
  Endpoint peer_;
  std::vector<Session> sessions_;
  std::vector<size_t> idle_;  // sessions ready to start, used as a stack
  size_t active_ = 0;         // sessions mid-setup
  uint32_t nextSource_ = 0;   // the next client source address, counting up in 127.64.0.0/10
  Poller poller_;
  Batch batch_;
  std::vector<uint32_t> ready_;
  TurnStats stats_;
};

// coturn's REST credentials (use-auth-secret): "EXPIRY:NAME" and base64(HMAC-SHA1(secret, username)).
std::string restUsername(const std::string& name, int64_t unixNow, int64_t validity);
std::string restPassword(const std::string& secret, const std::string& username);

}  // namespace rdv::bench
