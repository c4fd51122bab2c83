// Topics: publish/subscribe on the hub (docs/signalling.md, "Topics"). A sans-I/O part of the Hub: the
// hub authenticates the connection, checks the publication's signature and that its publisher is the
// connection's identity, then hands the frame here; this fans it out to every subscriber, keeps the last
// messages of each topic for late joiners, and enforces the limits. Messages are signed, not encrypted.
//
// Hostile by default: topics in total, subscriptions per connection, retained bytes in total, a
// message's size, the publish rate per publisher (per identity, so reconnecting refills nothing) and
// per topic are all bounded, and every refusal is an error frame naming the topic, counted in stats().
// A restricted topic ("<owner node id hex>/name", publication.h) admits only its owner and the members
// of the owner's latest signed MembersRecord, for subscribing and publishing alike.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "rendezvous/base/token_bucket.h"
#include "signalling/hub/hub_commands.h"
#include "signalling/hub/mailbox_store.h"
#include "signalling/hub/publication.h"

namespace rdv::signalling {

struct TopicLimits {
  size_t historyMessages = 16;           // retained per topic for late joiners (0: none)
  std::chrono::seconds historyTtl{300};  // how long a retained message is kept
  size_t maxTopics = 10'000;             // topics alive (subscribed, retaining or restricted)
  size_t subscriptionsPerConnection = 64;
  size_t historyBytes = 64 * 1024 * 1024;  // retained frames in total, all topics
  size_t maxBodyBytes = 8 * 1024;          // body of one published message
  double publishPerSecond = 10;            // per publisher
  double publishBurst = 20;
  double topicPerSecond = 100;             // per topic, all publishers together
  double topicBurst = 200;
};

struct TopicStats {
  uint64_t published = 0;        // publications accepted
  uint64_t fannedOut = 0;        // publish frames queued to subscribers (history replays included)
  uint64_t rateLimited = 0;      // publications over the publisher's rate
  uint64_t topicRateLimited = 0; // publications over the topic's rate
  uint64_t notMember = 0;        // subscribes or publications refused on a restricted topic
  uint64_t limitRefused = 0;     // refused at the topic, subscription or size limits
  uint64_t historyEvicted = 0;   // retained messages dropped for the history byte limit
  uint64_t historyExpired = 0;   // retained messages dropped at their TTL
  uint64_t membersAccepted = 0;  // members records accepted
};

class Topics {
 public:
  // `framingOf` names each connection's framing: every frame is sent in its recipient's.
  Topics(const TopicLimits& limits, std::deque<HubCommand>& out, FramingLookup framingOf);

  // `who` is the connection's authenticated identity.
  void subscribe(ConnId conn, const NodeId& who, const std::string& topic, TimePoint now);
  void unsubscribe(ConnId conn, const std::string& topic);
  // `p` is signed by `who` (checked by the hub).
  void publish(ConnId conn, const NodeId& who, const Publication& p, TimePoint now);
  // `r` verified (verifyMembers): signed by the owner the topic's name binds.
  void setMembers(ConnId conn, const MembersRecord& r);
  void dropConnection(ConnId conn);

  std::optional<TimePoint> nextDeadline() const;
  void expire(TimePoint now);

  size_t topics() const { return topics_.size(); }
  size_t historyBytes() const { return historyBytes_; }
  size_t publishers() const { return publishers_.size(); }
  static constexpr size_t kMaxPublishers = 100'000;
  const TopicStats& stats() const { return stats_; }

 private:
  struct Retained {
    uint64_t id = 0;
    TimePoint expiresAt;
    // The publish frame in both framings (Framing::Json, Framing::Cbor), sent as is; both count
    // against historyBytes.
    std::array<std::string, 2> frames;
    size_t bytes() const { return frames[0].size() + frames[1].size(); }
    const std::string& as(Framing f) const { return frames[f == Framing::Cbor ? 1 : 0]; }
  };
  struct Topic {
    std::set<ConnId> subscribers;  // ordered, so fan-out order is stable
    std::deque<Retained> history;  // oldest first; ids increasing
    TokenBucket bucket;
    std::optional<MembersRecord> members;
    std::unordered_set<NodeId, identity::NodeIdHash> allowed;  // members of `members`
  };
  struct ConnState {
    NodeId who;  // the connection's identity
    std::unordered_set<std::string> subscriptions;
  };
  struct RetainedRef {  // the global age order of retained messages (expiry and the byte limit)
    TimePoint expiresAt;
    std::string topic;
    uint64_t id = 0;
  };

  bool mayAccess(const std::string& name, const Topic* topic, const NodeId& who) const;
  Topic* findOrCreate(const std::string& name);
  void eraseIfIdle(const std::string& name);
  bool isLive(const RetainedRef& ref) const;
  void dropOldestRetained();
  void compactOrder();
  void sweepPublishers(int64_t nowNs);
  void send(ConnId conn, const Frame& f);
  void refuse(ConnId conn, std::string code, std::string message, const std::string& topic,
              std::optional<uint64_t> seq = std::nullopt);

  TopicLimits limits_;
  std::deque<HubCommand>* out_;
  FramingLookup framingOf_;
  std::unordered_map<std::string, Topic> topics_;
  std::unordered_map<ConnId, ConnState> conns_;
  // Publications per second, per publisher identity. A full bucket is the same as none, so those are
  // swept (expire()); kMaxPublishers bounds the rest.
  std::unordered_map<NodeId, TokenBucket, identity::NodeIdHash> publishers_;
  // Every retained message in age order (TTLs are equal, so this is expiry order too). Entries whose
  // message already left its topic (count limit, topic gone) are skipped, and compacted away when they
  // outnumber the live ones.
  std::deque<RetainedRef> retainedOrder_;
  size_t retainedCount_ = 0;
  size_t historyBytes_ = 0;
  uint64_t nextId_ = 1;
  TopicStats stats_;
};

}  // namespace rdv::signalling
