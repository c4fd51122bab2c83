// Presence: online/offline events of identities that opted in (docs/signalling.md, "Presence"). A
// sans-I/O part of the Hub. An identity opts in with "presence":true in its auth frame; connections
// watch identities and receive a "presence" frame for each (its current state at once, then every
// change), signed by the node's key so that a watcher can check the hub said it.
//
// Nothing is revealed about an identity that did not opt in: whether it is connected, never seen or
// unknown, its watchers get exactly what they get for an id nobody ever used: "offline" with
// last_seen 0. An opted-in identity that left is "offline" with the time of its disconnect (remembered
// for the most recent maxRemembered identities; older ones fall back to 0). Disconnects are the I/O
// layer's: a peer that dies without closing is dropped by the WebSocket ping (signal-ping-interval).
//
// Hostile by default: watches per connection are bounded, and so is the rate of new watches (each
// costs a signature): watchesPerConnection per minute, as a burst.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rendezvous/base/token_bucket.h"
#include "signalling/hub/hub_commands.h"
#include "signalling/hub/mailbox_store.h"
#include "signalling/hub/publication.h"

namespace rdv::signalling {

struct PresenceLimits {
  size_t watchesPerConnection = 256;
  size_t maxRemembered = 100'000;  // last-seen times kept for opted-in identities that left
};

struct PresenceStats {
  uint64_t events = 0;        // presence frames queued (one per watcher)
  uint64_t signatures = 0;    // events signed (one per change, shared by its watchers)
  uint64_t watchRefused = 0;  // watches refused at the per-connection limit or rate
  uint64_t unsigned_ = 0;     // events not sent because the node could not sign
};

class Presence {
 public:
  // Signs a presence digest with the node's key (the daemon's node key; tests a test key).
  using Signer = std::function<std::optional<identity::RecoverableSignature>(const identity::Hash256&)>;

  // `framingOf` names each connection's framing: every event is sent in its watcher's.
  Presence(const NodeId& hubId, const PresenceLimits& limits, std::deque<HubCommand>& out, FramingLookup framingOf);
  void setSigner(Signer signer) { signer_ = std::move(signer); }

  // An opted-in identity authenticated / its connection closed.
  void online(const NodeId& id, TimePoint now);
  void offline(const NodeId& id, TimePoint now);
  void watch(ConnId conn, const std::vector<NodeId>& ids, TimePoint now);
  void unwatch(ConnId conn, const std::vector<NodeId>& ids);
  void dropConnection(ConnId conn);

  bool isOnline(const NodeId& id) const { return online_.contains(id); }
  size_t watches() const { return watchCount_; }
  const PresenceStats& stats() const { return stats_; }

 private:
  struct Watcher {
    std::unordered_set<NodeId, identity::NodeIdHash> ids;
    TokenBucket newWatches;
  };
  // The current signed event frame of `id` (online, offline with its last-seen time, or offline 0).
  std::optional<Frame> eventFrame(const NodeId& id, TimePoint now);
  void tellWatchers(const NodeId& id, TimePoint now);
  void forgetOldest();

  NodeId hubId_;
  PresenceLimits limits_;
  std::deque<HubCommand>* out_;
  FramingLookup framingOf_;
  Signer signer_;
  std::unordered_set<NodeId, identity::NodeIdHash> online_;
  // watched id -> the connections watching it (ordered: stable event order); conn -> what it watches.
  std::unordered_map<NodeId, std::set<ConnId>, identity::NodeIdHash> watchers_;
  std::unordered_map<ConnId, Watcher> watching_;
  size_t watchCount_ = 0;
  // Opted-in identities that left: their disconnect time, oldest first in leftOrder_ (bounded).
  std::unordered_map<NodeId, uint64_t, identity::NodeIdHash> lastSeen_;
  std::deque<std::pair<NodeId, uint64_t>> leftOrder_;
  PresenceStats stats_;
};

}  // namespace rdv::signalling
