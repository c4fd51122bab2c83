// The TURN server engine (RFC 8656), sans-I/O (DESIGN principle 1). One Server per worker thread.
//
// The daemon feeds it what its sockets receive and the time, and after every call drains the commands
// (send these bytes there, release that relay socket, log this, meter that) and re-arms its one timer to
// nextDeadline(). The only call the engine makes outwards is RelaySocketBinder::bind(), because the
// Allocate answer carries the relayed address. Nothing here reads a clock, opens a socket or blocks.
//
// Inputs that come from the network never assert or throw: they are answered per the RFC or dropped
// and counted in stats().
#pragma once

#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "relay/allocation.h"
#include "relay/allocation_table.h"
#include "relay/auth.h"
#include "relay/commands.h"
#include "relay/admission.h"
#include "relay/config.h"
#include "relay/forward.h"
#include "relay/quota.h"
#include "relay/rate_limiter.h"
#include "relay/stats.h"
#include "relay/types.h"
#include "rendezvous/base/bytes.h"
#include "stun/message.h"

namespace rdv::relay {

// A channel as the client names it: the allocation's 5-tuple and the channel number.
struct ChannelKey {
  ClientTuple client;
  uint16_t channel = 0;
  bool operator==(const ChannelKey&) const = default;
};
// A peer as a relay socket sees it: which relay socket, and the peer's transport address.
struct PeerKey {
  RelayPort relay;
  Endpoint peer;
  bool operator==(const PeerKey&) const = default;
};

}  // namespace rdv::relay

template <>
struct std::hash<rdv::relay::ChannelKey> {
  size_t operator()(const rdv::relay::ChannelKey& k) const {
    return rdv::relay::hashCombine(std::hash<rdv::relay::ClientTuple>{}(k.client), k.channel);
  }
};
template <>
struct std::hash<rdv::relay::PeerKey> {
  size_t operator()(const rdv::relay::PeerKey& k) const {
    return rdv::relay::hashCombine(std::hash<rdv::relay::RelayPort>{}(k.relay), rdv::hashValue(k.peer));
  }
};

namespace rdv::relay {

class Server {
 public:
  // `binder` and `rng` must outlive the Server.
  Server(std::shared_ptr<const Config> config, RelaySocketBinder& binder, Rng& rng);

  // One datagram (UDP) or one frame (TCP/TLS, as cut by stun::nextFrame) from a client: a STUN message
  // or a ChannelData message. Relayed data comes out as SendToPeer commands (a copy of the payload): the
  // single-input form, for tests and tools. The daemon uses the batch form below.
  void handleClientInput(ByteSpan packet, const ClientTuple& tuple, const Now& now);
  // One datagram received on relay socket `relay` from `peer` (single-input form: SendToClient commands).
  void handlePeerInput(RelayPort relay, const Endpoint& peer, ByteSpan packet, const Now& now);

  // Batches (the daemon's path). The inputs of one read are handed in one by one with their index in the
  // batch; relayed data comes out as Forward records (slices of those inputs, nothing copied) in
  // forwards(), everything else as commands. The caller sends the forwards while the inputs' buffer is
  // still intact, then clearForwards(). Metering and quotas are per packet, at decision time, exactly as
  // in the single-input form.
  void handleClientInput(ByteSpan packet, const ClientTuple& tuple, const Now& now, uint32_t input);
  struct PeerDatagram {
    ByteSpan packet;
    Endpoint peer;
  };
  // Every datagram of one read on relay socket `relay`; forward.input is the index in `batch`.
  void handlePeerBatch(RelayPort relay, std::span<const PeerDatagram> batch, const Now& now);
  const std::vector<Forward>& forwards() const { return forwards_; }
  void clearForwards() { forwards_.clear(); }
  // A TCP/TLS client connection closed: its allocation ends with it (RFC 8656 §3.1, §7).
  void handleConnectionClosed(const ClientTuple& tuple, const Now& now);
  // Expires what is due at `now`. Call when the timer armed with nextDeadline() fires.
  void handleTimeout(const Now& now);
  // When handleTimeout() next has work (it may find none: entries are dropped lazily). While allocations
  // exist this includes the next metering tick (AllocationUsage, Config::usageInterval).
  std::optional<Instant> nextDeadline() const;
  // The node is stopping: ends every allocation (EndReason::Shutdown, one AllocationEnded each, its relay
  // sockets released), so metering is exact on SIGTERM. Drain the commands afterwards.
  void endAll(const Now& now);

  // A reload (SIGHUP): the engine continues with `next` from now on. Allocations, permissions, channels
  // and counters stay; credentials (users, secrets), the peer policy and the limits in `next` apply to
  // the next request and packet. `next` must keep the shared parts of the running config (nonce key,
  // relay addresses, quota book, live relays, reservations): the daemon copies them over.
  void reconfigure(std::shared_ptr<const Config> next);
  // The kernel fast path (relay/commands.h, KernelPath; kernel_path.cpp): Config::kernelPath, or this
  // one (tests). nullptr: off. Set before the first input; `kernel` must outlive the Server.
  void setKernelPath(KernelPath* kernel) { kernel_ = kernel; }

  // Commands produced by the calls above, in order; drain them all after every call.
  std::optional<Command> nextCommand();
  // Give a sent command's buffer back, so the data path reuses buffers instead of allocating.
  void recycle(Bytes&& buffer);

  const Stats& stats() const { return stats_; }
  const Config& config() const { return *config_; }
  QuotaBook& quota() { return *quota_; }
  size_t allocationCount() const { return allocations_.size(); }
  const Allocation* findAllocation(const ClientTuple& tuple) const;
  const LiveRelayPorts& liveRelays() const { return *live_; }
  const ChannelBinding* findChannel(const ClientTuple& tuple, uint16_t channel) const;
  // The operator's view (admin.cpp; the admin API): every allocation with its totals so far and its
  // current class; and ending one at once by its id (EndReason::Admin). False: no such allocation here.
  std::vector<AllocationInfo> allocations() const;
  bool endById(uint64_t id, const Now& now);
  // The fleet's view of some identity's usage changed (docs/fleet.md, "Quotas"): fold what the kernel fast
  // path forwarded and re-issue every kernel channel's allowance from the new remainders.
  void kernelRefresh(const Now& now);

 private:
  // One authenticated request on its way through a method handler.
  struct Request {
    const stun::MessageView& msg;
    const ClientTuple& tuple;
    const Credentials& credentials;
    const Now& now;
    Allocation* allocation;  // the tuple's allocation, nullptr when none
  };
  using Handler = Bytes (Server::*)(const Request&);

  // 24 bytes: an allocation is named by its handle and id (the id tells a reused handle's new allocation
  // from the one the entry was queued for), not by its 56-byte 5-tuple.
  struct TimerEntry {
    Instant at{};
    uint64_t key = 0;  // Kind::Allocation: the allocation's info.id; Kind::Reservation: its token
    AllocationHandle handle = 0;  // Kind::Allocation
    enum class Kind : uint8_t { Allocation, Reservation } kind = Kind::Allocation;
    bool operator>(const TimerEntry& o) const { return at > o.at; }
  };
  struct Reservation {
    RelayPort relay;
    Instant expires{};
    bool parked = false;  // in config_->sharedReservations, its socket parked with the binder
    IdentityQuota* lease = nullptr;  // the reserving identity's lease (QuotaBook); released when it lapses
  };

  // server.cpp: dispatch and the command queue
  void clientInput(ByteSpan packet, const ClientTuple& tuple, const Now& now);
  void onRequest(const stun::MessageView& m, const ClientTuple& tuple, const Now& now);
  void onBinding(const stun::MessageView& m, const ClientTuple& tuple);
  void onAuthFailure(const stun::MessageView& m, const ClientTuple& tuple, AuthError e, const Now& now);
  void countAnswer(uint16_t method, ByteSpan response);
  void sendToClient(const ClientTuple& tuple, Bytes bytes);
  void push(Command c);
  void log(LogLevel level, std::string message);
  bool logs(LogLevel level) const { return level >= config_->logLevel; }  // build the message only then
  Bytes takeBuffer();
  // An answer's builder over a recycled buffer (sent answers come back through recycle()).
  stun::MessageBuilder answerTo(const stun::MessageView& request, stun::Class c) {
    return stun::MessageBuilder::responseTo(request, c, takeBuffer());
  }

  // response.cpp
  Bytes finish(stun::MessageBuilder& b, const stun::MessageView& request, const Credentials* credentials) const;
  Bytes errorReply(const Request& r, uint16_t code);
  Bytes challenge(const stun::MessageView& request, const ClientTuple& tuple, uint16_t code, const Now& now);

  // One handler per method, each in its own file, each walking its RFC section step by step.
  Bytes onAllocate(const Request& r);          // allocate.cpp, RFC 8656 §7.2
  Bytes onRefresh(const Request& r);           // refresh.cpp, RFC 8656 §7.3
  Bytes onCreatePermission(const Request& r);  // permission.cpp, RFC 8656 §9.2
  Bytes onChannelBind(const Request& r);       // channel_bind.cpp, RFC 8656 §11.2

  // allocate.cpp
  struct AllocatePlan {
    Family family = Family::V4;
    std::optional<uint64_t> token;  // RESERVATION-TOKEN
    bool even = false;              // EVEN-PORT
    bool reserveNext = false;       // EVEN-PORT's R bit
    bool dual = false;              // ADDITIONAL-ADDRESS-FAMILY (IPv6)
  };
  uint16_t checkAllocate(const Request& r, AllocatePlan& plan) const;
  Bytes admissionReply(const Request& r);  // bans (403) and drain (300/508); empty: go on
  Bytes capacityReply(const Request& r);   // the node is full: 300 to another node, else 508
  Bytes tryAlternateReply(const Request& r, const std::optional<AlternateServer>& alternate);
  // The lifetime to grant at `now`, capped by the class's maximum life from the allocation's start.
  Seconds grantedLifetime(const stun::MessageView& m, const QuotaClass& cls, Instant started, Instant now) const;
  Allocation& createAllocation(const Request& r, const RelayPort* relays, uint8_t count);
  // relay_ports.cpp: picking and binding relay ports; reservations (EVEN-PORT R bit, RESERVATION-TOKEN)
  std::optional<uint16_t> bindPort(Family f, bool even, bool reservePair);
  bool portInUse(RelayPort p) const;
  uint64_t reserve(RelayPort p, IdentityQuota* lease, const Now& now);
  std::optional<RelayPort> takeReservation(uint64_t token, const Now& now);
  void releasePort(RelayPort p);

  // permission.cpp, channel_bind.cpp
  void installPermission(Allocation& a, const IpAddress& peer, Instant now);
  void bindChannel(Allocation& a, uint16_t channel, RelayPort relay, const Endpoint& peer, Instant now);
  void removeChannel(Allocation& a, uint16_t channel, const Now& now);

  // quota.cpp's engine side (quota_path.cpp): admission per packet, ends by quota, their tombstones
  bool admit(AllocationMeter& meter, bool toPeer, size_t bytes, const ClientTuple& tuple, const Now& now);
  void endByQuota(const ClientTuple& tuple, EndReason reason, const Now& now);
  // 437 for a request without allocation, or 486 when its allocation was ended by a quota recently.
  uint16_t noAllocationCode(const Request& r);
  void checkBudgets(const Now& now);  // the metering tick: idle allocations of a spent identity end too

  // kernel_path.cpp: which channels the kernel fast path carries, their allowances, what it forwarded
  bool kernelEligible(const ChannelBinding& c, Instant now) const;
  void syncKernel(ChannelBinding& c, const Allocation& a, const Now& now);
  void allowKernel(const ChannelBinding& c, const Allocation& a, int64_t unixNow);
  // Counts what the kernel forwarded on `c` as if the engine had relayed it; false when the allocation
  // ended on a quota (only when mayEnd).
  bool foldKernel(ChannelBinding& c, const KernelTraffic& t, const Now& now, bool mayEnd);
  void kernelCollect(const Now& now);  // metering tick, before emitUsage
  // The allocation's kernel channels: collect what they forwarded (false: a quota ended the allocation),
  // and re-issue their allowances after user space relayed for it.
  bool kernelSettle(const ClientTuple& tuple, const Now& now, bool mayEnd);
  void kernelReallow(const ClientTuple& tuple, const Now& now);
  void kernelTick(const Now& now);     // metering tick, after checkBudgets

  // data_path.cpp: the relayed traffic
  void onClientChannelData(ByteSpan packet, const ClientTuple& tuple, const Now& now);
  void onSendIndication(const stun::MessageView& m, const ClientTuple& tuple, const Now& now);
  void peerInput(RelayPort relay, const Endpoint& peer, ByteSpan packet, const Now& now);
  void sendDataIndication(Allocation& a, const Endpoint& peer, ByteSpan packet, const Now& now);
  // A forwarding decision for the current input: recorded (batch form) or turned into a command.
  void forward(Forward& f);

  // expiry.cpp: one heap of deadlines for the whole Server
  void schedule(Allocation& a, Instant at);
  void sweep(const TimerEntry& e, const Now& now);
  void endAllocation(const ClientTuple& tuple, EndReason reason, const Now& now);
  // Both directions over the indication path, live channels and closed channels.
  struct Traffic {
    TrafficCounters toPeer;
    TrafficCounters toClient;
  };
  Traffic trafficOf(const Allocation& a) const;
  AllocationInfo totalsOf(const Allocation& a) const;
  // Metering tick: one AllocationUsage (delta) per allocation whose counters moved.
  void emitUsage(const Now& now);

  std::shared_ptr<const Config> config_;
  RelaySocketBinder& binder_;
  Rng& rng_;
  std::optional<Authenticator> auth_;  // rebuilt by reconfigure() (it reads config_)
  SourceRateLimiter unauthorizedLimiter_;
  SourceRateLimiter allocateLimiter_;  // Allocates per source IP (Config::allocateRate)
  Stats stats_;
  std::shared_ptr<QuotaBook> quota_;  // shared by every worker (Config::quota), or this Server's own
  std::shared_ptr<LiveRelayPorts> live_;  // shared by every worker (Config::liveRelays), or this Server's own
  KernelPath* kernel_ = nullptr;          // Config::kernelPath, or setKernelPath(); nullptr: no fast path
  uint64_t nextAllocationId_ = 1;
  // The next metering tick; empty while there is no allocation.
  std::optional<Instant> nextUsage_;

  // Primary store: every allocation, stored once and found by its client 5-tuple (RFC 8656 §2.2: the
  // 5-tuple names the allocation on every client request) or by a relay port it holds (peer datagrams
  // without a channel, i.e. Data indications, and port bookkeeping); both indexes hold 32-bit handles.
  AllocationTable allocations_;
  // Every channel binding, keyed the way client ChannelData names it (5-tuple, channel number): the
  // client->peer hot path is one lookup.
  std::unordered_map<ChannelKey, ChannelBinding> channels_;
  // Why: a datagram arriving on a relay socket names only (relay port, peer). This finds the channel to
  // wrap it in without scanning, and enforces "a peer is bound to one channel" (RFC 8656 §11.2). It
  // points at the record in channels_ (a node-based map: the address holds until that entry is erased,
  // and removeChannel() erases both together), so the peer->client hot path is one lookup, like the
  // client->peer one.
  std::unordered_map<PeerKey, ChannelBinding*> channelByPeer_;
  // RESERVATION-TOKEN -> the port held for it (RFC 8656 §7.2, EVEN-PORT with R).
  std::unordered_map<uint64_t, Reservation> reservations_;
  // Why: port picking must skip ports held by reservations without scanning them.
  std::unordered_map<RelayPort, uint64_t> reservedPorts_;
  // Why: a client whose allocation a quota ended should learn why (486) on its next request, not get a
  // bare 437. Bounded: entries lapse after the default lifetime; pruned when the map grows.
  struct QuotaTombstone {
    Instant expires{};
  };
  std::unordered_map<ClientTuple, QuotaTombstone> quotaEnded_;
  // Why: the per-username allocation cap (486) needs the count without scanning allocations. Also the
  // allocations' one copy of each username (AllocationFacts::username points at a key here; the entry
  // lives while its count is above zero).
  std::unordered_map<std::string, uint32_t> allocationsPerUser_;

  // Every lifetime, permission, channel and reservation expiry goes through this one min-heap: one
  // timer per worker, none per allocation. Entries are dropped lazily (see expiry.cpp).
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;

  std::vector<Command> commands_;
  size_t commandHead_ = 0;
  // Batch form: the forwarding decisions of the current batch. Single-input form (batchInput_ empty):
  // forward() turns each into a command from currentInput_.
  std::vector<Forward> forwards_;
  // Data indications' transaction ids (RFC 8656 §10.3: no response ever matches them, so they need not
  // come from the CSPRNG per packet): splitmix64 seeded once from the injected Rng, on first use.
  uint64_t indicationTidState_ = 0;
  bool indicationTidSeeded_ = false;
  std::optional<uint32_t> batchInput_;
  ByteSpan currentInput_;
  std::vector<Bytes> bufferPool_;
};

}  // namespace rdv::relay
