// The compact forms of the topic and presence frames (frames_cbor.h lists the keys; docs/signalling.md
// "Compact wire"). Lists of node ids are one byte string of 32 * n bytes, so every frame stays one flat
// map; bodies and signatures are raw bytes.
#include "signalling/envelope/envelope_v2.h"
#include "signalling/hub/frames_cbor_fields.h"

namespace rdv::signalling::cbor_frames {

namespace {

using cbor::Type;
using cbor::Value;
using cbor::Writer;

struct PubSubWriter {
  Writer& w;
  template <class F>
  bool operator()(const F&) const {
    return false;
  }
  bool operator()(const PublishFrame& f) const {
    const Publication& p = f.publication;
    if (p.version != 1) {  // {0:19, 1:topic, 2:seq, 3:body, 4:sig bstr64}
      FrameMap(w, CborFrameType::PublishV2, 5)
          .text(1, p.topic)
          .uint(2, p.seq)
          .bytes(3, p.body)
          .bytes(4, compactSignature(p.signature));
      return true;
    }
    FrameMap(w, CborFrameType::Publish, 7)
        .bytes(1, p.from.bytes)
        .text(2, p.topic)
        .uint(3, p.seq)
        .uint(4, p.timestampMs)
        .bytes(5, p.body)
        .bytes(6, p.signature);
    return true;
  }
  bool operator()(const SubscribeFrame& f) const { return topicOnly(CborFrameType::Subscribe, f.topic); }
  bool operator()(const UnsubscribeFrame& f) const { return topicOnly(CborFrameType::Unsubscribe, f.topic); }
  bool operator()(const SubscribedFrame& f) const {
    FrameMap(w, CborFrameType::Subscribed, 3).text(1, f.topic).uint(2, f.history);
    return true;
  }
  bool operator()(const PublishedFrame& f) const {
    FrameMap(w, CborFrameType::Published, 4).text(1, f.topic).uint(2, f.seq).uint(3, f.subscribers);
    return true;
  }
  bool operator()(const TopicMembersFrame& f) const {
    const MembersRecord& r = f.record;
    FrameMap(w, CborFrameType::TopicMembers, 6)
        .text(1, r.topic)
        .bytes(2, r.owner.bytes)
        .nodes(3, r.members)
        .uint(4, r.seq)
        .bytes(5, r.signature);
    return true;
  }
  bool operator()(const WatchFrame& f) const { return nodes(CborFrameType::Watch, f.nodes, f.ns); }
  bool operator()(const UnwatchFrame& f) const { return nodes(CborFrameType::Unwatch, f.nodes, f.ns); }
  bool operator()(const PresenceFrame& f) const {
    const PresenceEvent& e = f.event;
    FrameMap(w, CborFrameType::Presence, 5)
        .uint(1, e.event == PresenceState::Online ? 1 : 0)
        .bytes(2, e.node.bytes)
        .uint(3, e.lastSeenMs)
        .bytes(4, e.signature);
    return true;
  }

  bool topicOnly(CborFrameType type, const std::string& topic) const {
    FrameMap(w, type, 2).text(1, topic);
    return true;
  }
  bool nodes(CborFrameType type, const std::vector<NodeId>& ids, const std::optional<std::string>& ns) const {
    FrameMap(w, type, ns ? 3 : 2).nodes(1, ids).optionalText(2, ns);
    return true;
  }
};

bool topic(const Fields& f, size_t key, std::string& out) { return f.text(key, out) && validTopic(out); }

Decoded decodePublish(const Fields& f) {
  Publication p;
  const Value* body = f.at[5];
  if (!f.bytes(1, p.from.bytes) || !topic(f, 2, p.topic) || !f.uint(3, p.seq) || !f.uint(4, p.timestampMs) ||
      !body || body->type != Type::Bytes || body->bytes.size() > kMaxTopicBodySize || !f.bytes(6, p.signature))
    return malformed();
  p.body.assign(body->bytes.begin(), body->bytes.end());
  return Frame{PublishFrame{std::move(p)}};
}

Decoded decodePublishV2(const Fields& f) {
  Publication p;
  p.version = 2;
  std::array<uint8_t, kCompactSignatureSize> sig64{};
  const Value* body = f.at[3];
  if (!topic(f, 1, p.topic) || !f.uint(2, p.seq) || !body || body->type != Type::Bytes ||
      body->bytes.size() > kMaxTopicBodySize || !f.bytes(4, sig64))
    return malformed();
  p.body.assign(body->bytes.begin(), body->bytes.end());
  p.signature = expandSignature(sig64);
  return Frame{PublishFrame{std::move(p)}};
}

Decoded decodeMembers(const Fields& f) {
  MembersRecord r;
  if (!topic(f, 1, r.topic) || !f.bytes(2, r.owner.bytes) || !f.nodes(3, kMaxTopicMembers, r.members) ||
      !f.uint(4, r.seq) || !f.bytes(5, r.signature))
    return malformed();
  return Frame{TopicMembersFrame{std::move(r)}};
}

Decoded decodePresence(const Fields& f) {
  PresenceEvent e;
  uint64_t event = 0;
  if (!f.uint(1, event) || event > 1 || !f.bytes(2, e.node.bytes) || !f.uint(3, e.lastSeenMs) ||
      !f.bytes(4, e.signature))
    return malformed();
  e.event = event == 1 ? PresenceState::Online : PresenceState::Offline;
  return Frame{PresenceFrame{e}};
}

template <class F>
Decoded decodeTopicOnly(const Value& map) {
  Fields f;
  F frame;
  if (!collect(map, keys({1}), f) || !topic(f, 1, frame.topic)) return malformed();
  return Frame{std::move(frame)};
}

template <class F>
Decoded decodeNodes(const Value& map) {
  Fields f;
  F frame;
  if (!collect(map, keys({1, 2}), f) || !f.nodes(1, kMaxWatchPerFrame, frame.nodes)) return malformed();
  if (f.at[2]) {
    std::string ns;
    if (!topic(f, 2, ns)) return malformed();
    frame.ns = std::move(ns);
  }
  return Frame{std::move(frame)};
}

}  // namespace

bool writePubSub(Writer& w, const Frame& f) { return std::visit(PubSubWriter{w}, f); }

std::optional<Decoded> decodePubSub(uint64_t type, const Value& map) {
  Fields f;
  switch (type) {
    case static_cast<uint8_t>(CborFrameType::Publish):
      if (!collect(map, keys({1, 2, 3, 4, 5, 6}), f)) return malformed();
      return decodePublish(f);
    case static_cast<uint8_t>(CborFrameType::PublishV2):
      if (!collect(map, keys({1, 2, 3, 4}), f)) return malformed();
      return decodePublishV2(f);
    case static_cast<uint8_t>(CborFrameType::Subscribe): return decodeTopicOnly<SubscribeFrame>(map);
    case static_cast<uint8_t>(CborFrameType::Unsubscribe): return decodeTopicOnly<UnsubscribeFrame>(map);
    case static_cast<uint8_t>(CborFrameType::Subscribed): {
      SubscribedFrame s;
      if (!collect(map, keys({1, 2}), f) || !topic(f, 1, s.topic) || !f.uint(2, s.history)) return malformed();
      return Frame{std::move(s)};
    }
    case static_cast<uint8_t>(CborFrameType::Published): {
      PublishedFrame p;
      if (!collect(map, keys({1, 2, 3}), f) || !topic(f, 1, p.topic) || !f.uint(2, p.seq) ||
          !f.uint(3, p.subscribers))
        return malformed();
      return Frame{std::move(p)};
    }
    case static_cast<uint8_t>(CborFrameType::TopicMembers):
      if (!collect(map, keys({1, 2, 3, 4, 5}), f)) return malformed();
      return decodeMembers(f);
    case static_cast<uint8_t>(CborFrameType::Watch): return decodeNodes<WatchFrame>(map);
    case static_cast<uint8_t>(CborFrameType::Unwatch): return decodeNodes<UnwatchFrame>(map);
    case static_cast<uint8_t>(CborFrameType::Presence):
      if (!collect(map, keys({1, 2, 3, 4}), f)) return malformed();
      return decodePresence(f);
    default: return std::nullopt;
  }
}

}  // namespace rdv::signalling::cbor_frames
