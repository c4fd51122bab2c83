// The state of one allocation (RFC 8656 §2.2, §5) and its forwarding records, as plain values.
// An Allocation lives in Server::allocations_ (relay/allocation_table.h: stored once, found by its
// ClientTuple or a relay port); its channel bindings live in Server::channels_ (see server.h for every
// index and why it exists).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "relay/commands.h"
#include "relay/quota.h"
#include "relay/types.h"
#include "rendezvous/base/address.h"
#include "rendezvous/base/bytes.h"
#include "rendezvous/base/small_vector.h"
#include "stun/message.h"

namespace rdv::relay {

// An allocation's quota state, at a fixed address for the allocation's life: its identity's shared state
// in the QuotaBook (class, buckets, bytes today) and what it relayed per direction (the per-allocation cap).
// Every channel record points at it, so both framings and both directions meet one meter.
struct AllocationMeter {
  IdentityQuota* quota = nullptr;
  uint64_t toPeer = 0;
  uint64_t toClient = 0;
  // Channels of the allocation that the kernel fast path forwards (kernel_path.cpp): while any is, a
  // packet user space admits first collects what the kernel forwarded, and then re-issues the
  // kernel's allowances, so the caps hold across both paths.
  uint32_t kernelChannels = 0;
};

// RFC 8656 §2.3: a permission is an IP address (no port) and an expiry.
struct Permission {
  IpAddress peer;
  Instant expires{};
};

// One channel binding (RFC 8656 §2.5, §11): every fact needed to forward ChannelData either way, in one
// fixed-size record with no pointers, so a kernel fast path can later mirror it into a BPF map as is
// (DESIGN principle 2). `permissionExpires` mirrors the permission for peer.ip() so the hot path
// needs no second lookup; it is updated whenever that permission is installed or refreshed.
struct ChannelBinding {
  ClientTuple client;
  uint16_t channel = 0;
  RelayPort relay;
  Endpoint peer;
  Instant expires{};
  Instant permissionExpires{};
  TrafficCounters toPeer;
  TrafficCounters toClient;
  AllocationMeter* meter = nullptr;  // the allocation's quota meter (rate state); owned by the Allocation
  // The peer is a relay socket of this node, allowed only while its allocation lives (peer policy rule
  // 3): the hot path checks this flag and, only when it is set, the live set again.
  bool toOwnRelay = false;
  // Mirrored into the kernel fast path (ChannelToKernel sent, ChannelFromKernel not yet).
  bool inKernel = false;
  // The identity's rate bucket refused what the kernel forwarded: out of the kernel until it conforms.
  bool overRate = false;
};

// What an allocation keeps of its AllocationInfo. The identity and the quota class are not copied: they
// are its lease's (meter.quota: IdentityQuota::identity and ::cls, which a reload may move), and
// Server::totalsOf() puts them into the AllocationInfo of events and the admin view.
// The username is interned: it points at the key of Server::allocationsPerUser_, which counts the
// allocations holding it and keeps the string while any does (one copy per user, not per allocation).
struct AllocationFacts {
  uint64_t id = 0;  // unique within the node run: from Config::firstAllocationId, increasing
  ClientTuple tuple;
  const std::string* username = nullptr;
  uint32_t peers = 0;  // distinct peer IPs that got a permission during the allocation
  RelayPort relays[2];
  uint8_t relayCount = 0;
  Instant started{};
  int64_t startedUnix = 0;
  // Payload relayed outside the live channels: over the indication path, and by channel bindings that
  // ended (their counters are folded in when they go). With the live channels': the allocation's totals.
  TrafficCounters toPeer;    // client -> peer
  TrafficCounters toClient;  // peer -> client
};

// An allocation's name in its Server's AllocationTable (a slot number, reused once the allocation ended):
// timer entries and index entries hold this instead of the 56-byte client 5-tuple.
using AllocationHandle = uint32_t;

struct Allocation {
  AllocationFacts info;  // tuple, username, relays, start; counters outside the live channels
  AllocationHandle handle = 0;  // set by AllocationTable::insert
  Instant expires{};
  // At a fixed address for the allocation's life (channel records point at it): the Allocation lives in a
  // chunk of Server::allocations_, which never moves it.
  AllocationMeter meter;
  // Small inline lists (1-4 entries almost always, no heap block then); scanned linearly, capped by Config.
  SmallVector<Permission, 1> permissions;
  SmallVector<uint16_t, 4> channels;  // channel numbers bound on this allocation (keys into channels_)
  // Metering: the totals already reported in AllocationUsage events (the next delta starts from these).
  TrafficCounters reportedToPeer;
  TrafficCounters reportedToClient;
  // Distinct peer IPs that got a permission (info.peers counts them). Scanned linearly; past
  // kMaxPeersRemembered new IPs are counted without being remembered (the count may then over-count).
  static constexpr size_t kMaxPeersRemembered = 1024;
  SmallVector<IpAddress, 1> peersSeen;
  // RFC 8489 §6.3.1 / RFC 8656 §7.2: a retransmitted request (same transaction id, same 5-tuple) gets the
  // same answer. The last request's transaction id and response bytes (an exact-size block, not a vector).
  stun::TransactionId lastTransaction;
  uint16_t lastResponseSize = 0;
  std::unique_ptr<uint8_t[]> lastResponse;
  ByteSpan lastResponseBytes() const { return {lastResponse.get(), lastResponseSize}; }
  void keepResponse(ByteSpan response) {
    if (response.empty() || response.size() > UINT16_MAX) {  // never for a server's answers; keep nothing
      lastResponse.reset();
      lastResponseSize = 0;
      return;
    }
    if (response.size() != lastResponseSize) lastResponse = std::make_unique_for_overwrite<uint8_t[]>(response.size());
    std::copy(response.begin(), response.end(), lastResponse.get());
    lastResponseSize = static_cast<uint16_t>(response.size());
  }
  // The earliest time this allocation is queued in the timer heap (see Server::schedule()).
  Instant scheduledAt = Instant::max();

  const ClientTuple& tuple() const { return info.tuple; }
  const std::string& username() const { return *info.username; }
  // The identity it is metered under and its current quota class (its lease; set from Allocate to the end).
  const std::string& identity() const { return meter.quota->identity; }
  const std::string& quotaClass() const { return meter.quota->cls.load(std::memory_order_acquire)->name; }
  bool hasFamily(Family f) const {
    for (uint8_t i = 0; i < info.relayCount; ++i) {
      if (info.relays[i].family == f) return true;
    }
    return false;
  }
  const RelayPort* relayFor(Family f) const {
    for (uint8_t i = 0; i < info.relayCount; ++i) {
      if (info.relays[i].family == f) return &info.relays[i];
    }
    return nullptr;
  }
  const Permission* findPermission(const IpAddress& ip) const {
    for (const Permission& p : permissions) {
      if (p.peer == ip) return &p;
    }
    return nullptr;
  }
};

}  // namespace rdv::relay
