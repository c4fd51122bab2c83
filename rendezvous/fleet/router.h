// Signalling across the nodes of a fleet (docs/fleet.md, "Signalling"): presence (which node an identity
// is connected to: conn:<id> = node id, with a TTL refreshed while connected) and one pub/sub channel per
// node (node:<node id>). An envelope for an identity connected elsewhere is published on that node's
// channel with a ticket; that node hands it to the recipient's connection and publishes the result back
// ("ack", written or not), and only then is the sender acknowledged "delivered" (or the envelope is
// stored in the shared mailbox, exactly as for a local recipient that does not read). No answer within
// kForwardTimeout counts as not written. One channel, one subscriber connection per node: envelopes from
// one sender arrive in the order they were published.
//
// Runs on the API thread (the hub's); the subscriber thread hands messages over with onMessage() through
// the API thread's queue (Fleet::start). Redis calls use the API thread's RedisClient.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "rendezvous/fleet/keys.h"
#include "rendezvous/fleet/redis_client.h"
#include "signalling/hub/peer_router.h"

namespace rdv::fleet {

inline constexpr std::chrono::milliseconds kForwardTimeout{3000};
inline constexpr std::chrono::milliseconds kPresenceTtl{60000};
inline constexpr std::chrono::milliseconds kPresenceRefresh{20000};

struct RouterStats {
  uint64_t forwardedOut = 0;    // envelopes published to another node
  uint64_t forwardedIn = 0;     // envelopes received from another node
  uint64_t forwardTimeouts = 0; // no answer in time: stored instead
  uint64_t errors = 0;          // Redis calls that failed
};

class FleetRouter final : public signalling::PeerRouter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Hooks {
    // Hub::deliverRemote(envelope, ref): false when the recipient is not connected here.
    std::function<bool(signalling::Envelope, uint64_t)> deliverRemote;
    // Hub::forwarded(ticket, written, now), then the hub's commands are performed.
    std::function<void(uint64_t, bool)> forwarded;
  };

  FleetRouter(Keys keys, std::string selfHex, std::shared_ptr<RedisClient> redis, Hooks hooks);

  bool forward(uint64_t ticket, const signalling::Envelope& e) override;
  void delivered(uint64_t ref, bool written) override;
  void bound(const signalling::NodeId& id) override;
  void unbound(const signalling::NodeId& id) override;

  // A message from this node's channel (API thread).
  void onMessage(const std::string& text);
  // Once a second on the API thread: forwards past their deadline, presence refresh.
  void tick(Clock::time_point now);
  const RouterStats& stats() const { return stats_; }

 private:
  void publish(const std::string& nodeHex, const std::string& text);

  Keys keys_;
  std::string selfHex_;
  std::shared_ptr<RedisClient> redis_;
  Hooks hooks_;
  // Our forwards awaiting the other node's answer: ticket -> deadline.
  std::unordered_map<uint64_t, Clock::time_point> pending_;
  // Forwards of other nodes handed to our hub: ref -> (origin node, its ticket).
  std::unordered_map<uint64_t, std::pair<std::string, uint64_t>> remote_;
  uint64_t nextRef_ = 1;
  // Identities connected here (presence refreshed for these).
  std::unordered_set<signalling::NodeId, identity::NodeIdHash> local_;
  Clock::time_point nextRefresh_{};
  bool refreshFailed_ = false;
  RouterStats stats_;
};

}  // namespace rdv::fleet
