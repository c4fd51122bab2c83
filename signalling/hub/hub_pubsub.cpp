// The hub's dispatch of topic and presence frames (topics.h, presence.h): the connection is
// authenticated (hub.cpp checked it); here the publisher binding and the signatures are checked before
// the frame reaches Topics or Presence.
#include "signalling/hub/hub.h"

namespace rdv::signalling {

bool isClientPubSubFrame(const Frame& f) {
  return std::holds_alternative<PublishFrame>(f) || std::holds_alternative<SubscribeFrame>(f) ||
         std::holds_alternative<UnsubscribeFrame>(f) || std::holds_alternative<TopicMembersFrame>(f) ||
         std::holds_alternative<WatchFrame>(f) || std::holds_alternative<UnwatchFrame>(f);
}

bool Hub::handlePubSub(ConnId conn, const NodeId& who, Frame& frame, const CheckedFrame& checked, TimePoint now) {
  auto topicError = [&](std::string code, std::string message, const std::string& topic, uint64_t seq) {
    send(conn, ErrorFrame{std::move(code), std::move(message), std::nullopt, seq, topic});
  };
  if (auto* pub = std::get_if<PublishFrame>(&frame)) {
    Publication& p = pub->publication;
    // A v2 publication's publisher is its signature's (recovered by checkFrame, or here).
    if (p.version != 1 && !(checked.signedChecked ? checked.signedValid : completePublicationV2(p))) {
      topicError("bad-signature", "the publication's signature recovers no key", p.topic, p.seq);
      return true;
    }
    if (p.from != who) {
      topicError("spoofed-sender", "the publication's sender is not this connection's identity", p.topic, p.seq);
      return true;
    }
    // Checked once here (on the verifier pool when the daemon has one); subscribers can check again.
    if (p.version == 1 && config_.verifySignatures &&
        !(checked.signedChecked ? checked.signedValid : verifyPublication(p))) {
      topicError("bad-signature", "the publication's signature does not recover to its sender", p.topic, p.seq);
      return true;
    }
    topics_.publish(conn, who, p, now);
  } else if (auto* sub = std::get_if<SubscribeFrame>(&frame)) {
    topics_.subscribe(conn, who, sub->topic, now);
  } else if (auto* unsub = std::get_if<UnsubscribeFrame>(&frame)) {
    topics_.unsubscribe(conn, unsub->topic);
  } else if (auto* members = std::get_if<TopicMembersFrame>(&frame)) {
    const MembersRecord& r = members->record;
    // Always checked, whatever verifySignatures says: the record grants access.
    if (!(checked.signedChecked ? checked.signedValid : verifyMembers(r))) {
      topicError("bad-members-record",
                 "the record is not signed by the owner its topic names (\"<owner node id hex>/...\")", r.topic, r.seq);
      return true;
    }
    topics_.setMembers(conn, r);
  } else if (auto* watch = std::get_if<WatchFrame>(&frame)) {
    presence_.watch(conn, watch->nodes, now);
    if (watch->ns) presence_.watchNamespace(conn, *watch->ns, now);
  } else if (auto* unwatch = std::get_if<UnwatchFrame>(&frame)) {
    presence_.unwatch(conn, unwatch->nodes);
    if (unwatch->ns) presence_.unwatchNamespace(conn, *unwatch->ns);
  } else {
    return false;
  }
  return true;
}

}  // namespace rdv::signalling
