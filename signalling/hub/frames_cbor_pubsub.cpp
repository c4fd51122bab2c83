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
      begin(w, CborFrameType::PublishV2, 5);
      w.unsignedInt(1);
      w.text(p.topic);
      w.unsignedInt(2);
      w.unsignedInt(p.seq);
      w.unsignedInt(3);
      w.bytes(p.body);
      w.unsignedInt(4);
      w.bytes(compactSignature(p.signature));
      return true;
    }
    begin(w, CborFrameType::Publish, 7);
    w.unsignedInt(1);
    w.bytes(p.from.bytes);
    w.unsignedInt(2);
    w.text(p.topic);
    w.unsignedInt(3);
    w.unsignedInt(p.seq);
    w.unsignedInt(4);
    w.unsignedInt(p.timestampMs);
    w.unsignedInt(5);
    w.bytes(p.body);
    w.unsignedInt(6);
    w.bytes(p.signature);
    return true;
  }
  bool operator()(const SubscribeFrame& f) const { return topicOnly(CborFrameType::Subscribe, f.topic); }
  bool operator()(const UnsubscribeFrame& f) const { return topicOnly(CborFrameType::Unsubscribe, f.topic); }
  bool operator()(const SubscribedFrame& f) const {
    begin(w, CborFrameType::Subscribed, 3);
    w.unsignedInt(1);
    w.text(f.topic);
    w.unsignedInt(2);
    w.unsignedInt(f.history);
    return true;
  }
  bool operator()(const PublishedFrame& f) const {
    begin(w, CborFrameType::Published, 4);
    w.unsignedInt(1);
    w.text(f.topic);
    w.unsignedInt(2);
    w.unsignedInt(f.seq);
    w.unsignedInt(3);
    w.unsignedInt(f.subscribers);
    return true;
  }
  bool operator()(const TopicMembersFrame& f) const {
    const MembersRecord& r = f.record;
    begin(w, CborFrameType::TopicMembers, 6);
    w.unsignedInt(1);
    w.text(r.topic);
    w.unsignedInt(2);
    w.bytes(r.owner.bytes);
    w.unsignedInt(3);
    writeNodes(w, r.members);
    w.unsignedInt(4);
    w.unsignedInt(r.seq);
    w.unsignedInt(5);
    w.bytes(r.signature);
    return true;
  }
  bool operator()(const WatchFrame& f) const { return nodes(CborFrameType::Watch, f.nodes, f.ns); }
  bool operator()(const UnwatchFrame& f) const { return nodes(CborFrameType::Unwatch, f.nodes, f.ns); }
  bool operator()(const PresenceFrame& f) const {
    const PresenceEvent& e = f.event;
    begin(w, CborFrameType::Presence, 5);
    w.unsignedInt(1);
    w.unsignedInt(e.event == PresenceState::Online ? 1 : 0);
    w.unsignedInt(2);
    w.bytes(e.node.bytes);
    w.unsignedInt(3);
    w.unsignedInt(e.lastSeenMs);
    w.unsignedInt(4);
    w.bytes(e.signature);
    return true;
  }

  bool topicOnly(CborFrameType type, const std::string& topic) const {
    begin(w, type, 2);
    w.unsignedInt(1);
    w.text(topic);
    return true;
  }
  bool nodes(CborFrameType type, const std::vector<NodeId>& ids, const std::optional<std::string>& ns) const {
    begin(w, type, ns ? 3 : 2);
    w.unsignedInt(1);
    writeNodes(w, ids);
    if (ns) {
      w.unsignedInt(2);
      w.text(*ns);
    }
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
