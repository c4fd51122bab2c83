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
// costs a signature): watchesPerConnection per minute, as a burst. A namespace watch counts as one watch,
// and each online event it answers with takes from the same rate.
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
  // Namespaces (watch a namespace: its opted-in registered identities): the namespaces an identity is
  // registered under, and the identities registered under a namespace (at most kMaxNamespaceMembers).
  // The daemon answers from its registry; without them a namespace watch sees nothing.
  using NamespacesOf = std::function<std::vector<std::string>(const NodeId&)>;
  using MembersOf = std::function<std::vector<NodeId>(const std::string&)>;
  static constexpr size_t kMaxNamespaceMembers = 1024;
  void setNamespaceLookup(NamespacesOf namespacesOf, MembersOf membersOf) {
    namespacesOf_ = std::move(namespacesOf);
    membersOf_ = std::move(membersOf);
  }
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
  // A namespace watch counts as one watch against the connection's limit and rate; it answers with an
  // online event for each opted-in identity registered there and online now (nothing for the others:
  // opted-out, offline or absent look alike), then every change of an opted-in identity registered
  // there.
  void watchNamespace(ConnId conn, const std::string& ns, TimePoint now);
  void unwatchNamespace(ConnId conn, const std::string& ns);
  void dropConnection(ConnId conn);

  bool isOnline(const NodeId& id) const { return online_.contains(id); }
  size_t watches() const { return watchCount_; }
  const PresenceStats& stats() const { return stats_; }

 private:
  struct Watcher {
    std::unordered_set<NodeId, identity::NodeIdHash> ids;
    std::set<std::string> namespaces;
    TokenBucket newWatches;
  };
  // The current signed event frame of `id` (online, offline with its last-seen time, or offline 0).
  std::optional<Frame> eventFrame(const NodeId& id, TimePoint now);
  void tellWatchers(const NodeId& id, TimePoint now);
  Watcher& watcherOf(ConnId conn);
  bool admitWatch(Watcher& w, TimePoint now);
  void refuseWatches(ConnId conn, size_t refused, const char* what);
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
  std::unordered_map<std::string, std::set<ConnId>> namespaceWatchers_;
  NamespacesOf namespacesOf_;
  MembersOf membersOf_;
  size_t watchCount_ = 0;
  // Opted-in identities that left: their disconnect time, oldest first in leftOrder_ (bounded).
  std::unordered_map<NodeId, uint64_t, identity::NodeIdHash> lastSeen_;
  std::deque<std::pair<NodeId, uint64_t>> leftOrder_;
  PresenceStats stats_;
};

}  // namespace rdv::signalling
