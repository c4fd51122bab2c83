#include "signalling/hub/frames.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "rendezvous/enr/base64url.h"
#include "signalling/envelope/envelope_codec.h"
#include "signalling/envelope/envelope_v2.h"

namespace rdv::signalling {

namespace {

using nlohmann::json;

template <size_t N>
bool hexValue(const json& v, std::array<uint8_t, N>& out) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  Bytes raw;
  if (s.size() != 2 * N || !fromHex(s, raw) || raw.size() != N) return false;
  std::memcpy(out.data(), raw.data(), N);
  return true;
}

template <size_t N>
bool hexField(const json& j, const char* key, std::array<uint8_t, N>& out) {
  auto it = j.find(key);
  return it != j.end() && hexValue(*it, out);
}

bool uintField(const json& j, const char* key, uint64_t& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return false;
  out = it->get<uint64_t>();
  return true;
}

bool stringField(const json& j, const char* key, std::string& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

struct Encoder {
  json operator()(const ChallengeFrame& f) const {
    return {{"type", "challenge"}, {"v", 1}, {"hub", f.hub.hex()}, {"nonce", toHex(f.nonce)},
            {"expiresInMs", f.expiresInMs}};
  }
  json operator()(const AuthFrame& f) const {
    json j{{"type", "auth"}, {"node", f.node.hex()}, {"sig", toHex(f.signature)}};
    if (f.presence) j["presence"] = true;
    return j;
  }
  json operator()(const WelcomeFrame& f) const {
    return {{"type", "welcome"}, {"node", f.node.hex()}, {"stored", f.stored}};
  }
  json operator()(const EnvelopeFrame& f) const { return {{"type", "envelope"}, {"envelope", toJson(f.envelope)}}; }
  json operator()(const AckFrame& f) const {
    return {{"type", "ack"}, {"to", f.to.hex()}, {"seq", f.seq}, {"status", ackStatusName(f.status)}};
  }
  json operator()(const ReceivedFrame& f) const {
    return {{"type", "received"}, {"from", f.from.hex()}, {"seq", f.seq}};
  }
  json operator()(const PathReportFrame& f) const {
    return {{"type", "path-report"}, {"path", f.path}, {"local", f.local}, {"remote", f.remote}};
  }
  json operator()(const ErrorFrame& f) const {
    json j{{"type", "error"}, {"code", f.code}, {"message", f.message}};
    if (f.to) j["to"] = f.to->hex();
    if (f.seq) j["seq"] = *f.seq;
    if (f.topic) j["topic"] = *f.topic;
    return j;
  }
  json operator()(const PublishFrame& f) const {
    const auto& p = f.publication;
    if (p.version != 1)  // v2: no from, no ts, a 64-byte signature
      return {{"type", "publish"}, {"v", 2}, {"topic", p.topic}, {"seq", p.seq},
              {"body", enr::base64UrlEncode(p.body)}, {"sig", toHex(compactSignature(p.signature))}};
    return {{"type", "publish"}, {"from", p.from.hex()}, {"topic", p.topic},  {"seq", p.seq},
            {"ts", p.timestampMs}, {"body", enr::base64UrlEncode(p.body)}, {"sig", toHex(p.signature)}};
  }
  json operator()(const SubscribeFrame& f) const { return {{"type", "subscribe"}, {"topic", f.topic}}; }
  json operator()(const UnsubscribeFrame& f) const { return {{"type", "unsubscribe"}, {"topic", f.topic}}; }
  json operator()(const SubscribedFrame& f) const {
    return {{"type", "subscribed"}, {"topic", f.topic}, {"history", f.history}};
  }
  json operator()(const PublishedFrame& f) const {
    return {{"type", "published"}, {"topic", f.topic}, {"seq", f.seq}, {"subscribers", f.subscribers}};
  }
  json operator()(const TopicMembersFrame& f) const {
    const auto& r = f.record;
    json members = json::array();
    for (const auto& m : r.members) members.push_back(m.hex());
    return {{"type", "topic-members"}, {"topic", r.topic}, {"owner", r.owner.hex()}, {"members", members},
            {"seq", r.seq}, {"sig", toHex(r.signature)}};
  }
  json operator()(const WatchFrame& f) const { return watchJson("watch", f.nodes, f.ns); }
  json operator()(const UnwatchFrame& f) const { return watchJson("unwatch", f.nodes, f.ns); }
  static json watchJson(const char* type, const std::vector<NodeId>& nodes, const std::optional<std::string>& ns) {
    json j{{"type", type}, {"nodes", nodeList(nodes)}};
    if (ns) j["namespace"] = *ns;
    return j;
  }
  json operator()(const PresenceFrame& f) const {
    const auto& e = f.event;
    return {{"type", "presence"}, {"event", e.event == PresenceState::Online ? "online" : "offline"},
            {"node", e.node.hex()}, {"last_seen", e.lastSeenMs}, {"sig", toHex(e.signature)}};
  }
  static json nodeList(const std::vector<NodeId>& nodes) {
    json out = json::array();
    for (const auto& n : nodes) out.push_back(n.hex());
    return out;
  }
};

// The two frames the hub sends per forwarded envelope (the envelope to its recipient, the ack to its
// sender) are written directly: the same bytes nlohmann's dump() makes of the DOM above (keys sorted,
// no whitespace; every value here is hex, base64url, a type name or an integer, so nothing needs
// escaping), without building the DOM. tests/signalling checks the two agree.
void appendHex(std::string& out, ByteSpan bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  char* p = out.data() + at;
  for (uint8_t b : bytes) {
    *p++ = kDigits[b >> 4];
    *p++ = kDigits[b & 15];
  }
}

void appendBase64Url(std::string& out, ByteSpan bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t n = bytes.size();
  out.reserve(out.size() + (n + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{bytes[i]} << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{bytes[i]} << 16) | (uint32_t{bytes[i + 1]} << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
}

void appendEnvelopeJson(std::string& out, const Envelope& e) {
  out += "{\"ct\":\"";
  appendBase64Url(out, e.ciphertext);
  out += "\",\"epk\":\"";
  appendHex(out, e.ephemeralKey);
  out += "\",\"from\":\"";
  appendHex(out, e.header.from.bytes);
  out += "\",\"nonce\":\"";
  appendHex(out, e.nonce);
  out += "\",\"seq\":";
  out += std::to_string(e.header.seq);
  out += ",\"sig\":\"";
  appendHex(out, e.signature);
  out += "\",\"to\":\"";
  appendHex(out, e.header.to.bytes);
  out += "\",\"ts\":";
  out += std::to_string(e.header.timestampMs);
  out += ",\"type\":\"";
  out += typeName(e.header.type);
  out += "\",\"v\":";
  out += std::to_string(kEnvelopeVersion);
  out += "}";
}

std::string writeEnvelopeFrame(const Envelope& e) {
  if (e.version != kEnvelopeVersion) {  // v2: {"envelope":"<base64url of its bytes>","type":"envelope"}
    std::string out = "{\"envelope\":\"";
    appendBase64Url(out, encodeV2(e));
    out += "\",\"type\":\"envelope\"}";
    return out;
  }
  std::string out;
  out.reserve(620 + e.ciphertext.size() * 4 / 3);
  out += "{\"envelope\":";
  appendEnvelopeJson(out, e);
  out += ",\"type\":\"envelope\"}";
  return out;
}

std::string encodeAckFrame(const AckFrame& f) {
  std::string out;
  out.reserve(128);
  out += "{\"seq\":";
  out += std::to_string(f.seq);
  out += ",\"status\":\"";
  out += ackStatusName(f.status);
  out += "\",\"to\":\"";
  appendHex(out, f.to.bytes);
  out += "\",\"type\":\"ack\"}";
  return out;
}

using Decoded = Result<Frame, FrameError>;
Decoded malformed() { return unexpected(FrameError{FrameErrorKind::Malformed}); }

Decoded decodeChallenge(const json& j) {
  ChallengeFrame f;
  uint64_t v = 0;
  if (!uintField(j, "v", v) || v != 1 || !hexField(j, "hub", f.hub.bytes) || !hexField(j, "nonce", f.nonce) ||
      !uintField(j, "expiresInMs", f.expiresInMs)) {
    return malformed();
  }
  return Frame{f};
}

Decoded decodeAuth(const json& j) {
  AuthFrame f;
  if (!hexField(j, "node", f.node.bytes) || !hexField(j, "sig", f.signature)) return malformed();
  if (auto p = j.find("presence"); p != j.end()) {
    if (!p->is_boolean()) return malformed();
    f.presence = p->get<bool>();
  }
  return Frame{f};
}

Decoded decodeWelcome(const json& j) {
  WelcomeFrame f;
  if (!hexField(j, "node", f.node.bytes) || !uintField(j, "stored", f.stored)) return malformed();
  return Frame{f};
}

Decoded decodeEnvelope(const json& j) {
  auto it = j.find("envelope");
  if (it == j.end()) return malformed();
  auto e = fromJson(*it);
  if (!e) return unexpected(FrameError{FrameErrorKind::Envelope, e.error()});
  return Frame{EnvelopeFrame{std::move(*e)}};
}

Decoded decodeAck(const json& j) {
  AckFrame f;
  std::string status;
  if (!hexField(j, "to", f.to.bytes) || !uintField(j, "seq", f.seq) || !stringField(j, "status", status)) {
    return malformed();
  }
  if (status == "delivered") {
    f.status = AckStatus::Delivered;
  } else if (status == "stored") {
    f.status = AckStatus::Stored;
  } else {
    return malformed();
  }
  return Frame{f};
}

Decoded decodeReceived(const json& j) {
  ReceivedFrame f;
  if (!hexField(j, "from", f.from.bytes) || !uintField(j, "seq", f.seq)) return malformed();
  return Frame{f};
}

bool candidateType(const std::string& t) { return t == "host" || t == "srflx" || t == "prflx" || t == "relay"; }

Decoded decodePathReport(const json& j) {
  PathReportFrame f;
  if (!stringField(j, "path", f.path) || !stringField(j, "local", f.local) || !stringField(j, "remote", f.remote))
    return malformed();
  if ((f.path != "direct" && f.path != "relayed") || !candidateType(f.local) || !candidateType(f.remote))
    return malformed();
  return Frame{f};
}

Decoded decodeError(const json& j) {
  ErrorFrame f;
  if (!stringField(j, "code", f.code) || !stringField(j, "message", f.message)) return malformed();
  if (j.contains("to")) {
    NodeId to;
    if (!hexField(j, "to", to.bytes)) return malformed();
    f.to = to;
  }
  if (j.contains("seq")) {
    uint64_t seq = 0;
    if (!uintField(j, "seq", seq)) return malformed();
    f.seq = seq;
  }
  if (j.contains("topic")) {
    std::string topic;
    if (!stringField(j, "topic", topic)) return malformed();
    f.topic = std::move(topic);
  }
  return Frame{f};
}

bool topicField(const json& j, std::string& out) { return stringField(j, "topic", out) && validTopic(out); }

Decoded decodePublish(const json& j) {
  Publication p;
  std::string body;
  if (j.contains("v")) {  // {"type":"publish","v":2,"topic","seq","body","sig":hex128}
    std::array<uint8_t, kCompactSignatureSize> sig64{};
    uint64_t v = 0;
    if (!uintField(j, "v", v) || v != 2 || !topicField(j, p.topic) || !uintField(j, "seq", p.seq) ||
        !stringField(j, "body", body) || !hexField(j, "sig", sig64))
      return malformed();
    p.version = 2;
    p.signature = expandSignature(sig64);
  } else if (!hexField(j, "from", p.from.bytes) || !topicField(j, p.topic) || !uintField(j, "seq", p.seq) ||
             !uintField(j, "ts", p.timestampMs) || !stringField(j, "body", body) || !hexField(j, "sig", p.signature)) {
    return malformed();
  }
  if (body.size() > (kMaxTopicBodySize + 2) / 3 * 4) return malformed();  // bound the work before decoding
  auto raw = enr::base64UrlDecode(body);
  if (!raw || raw->size() > kMaxTopicBodySize) return malformed();
  p.body = std::move(*raw);
  return Frame{PublishFrame{std::move(p)}};
}

template <class F>
Decoded decodeTopicOnly(const json& j) {
  F f;
  if (!topicField(j, f.topic)) return malformed();
  return Frame{std::move(f)};
}

Decoded decodeSubscribed(const json& j) {
  SubscribedFrame f;
  if (!topicField(j, f.topic) || !uintField(j, "history", f.history)) return malformed();
  return Frame{std::move(f)};
}

Decoded decodePublished(const json& j) {
  PublishedFrame f;
  if (!topicField(j, f.topic) || !uintField(j, "seq", f.seq) || !uintField(j, "subscribers", f.subscribers))
    return malformed();
  return Frame{std::move(f)};
}

// A JSON array of at most `max` node ids.
bool nodeListField(const json& j, const char* key, size_t max, std::vector<NodeId>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->size() > max) return false;
  out.reserve(it->size());
  for (const auto& item : *it) {
    NodeId id;
    if (!hexValue(item, id.bytes)) return false;
    out.push_back(id);
  }
  return true;
}

Decoded decodeTopicMembers(const json& j) {
  MembersRecord r;
  if (!topicField(j, r.topic) || !hexField(j, "owner", r.owner.bytes) || !uintField(j, "seq", r.seq) ||
      !hexField(j, "sig", r.signature) || !nodeListField(j, "members", kMaxTopicMembers, r.members))
    return malformed();
  return Frame{TopicMembersFrame{std::move(r)}};
}

template <class F>
Decoded decodeNodes(const json& j) {
  F f;
  if (j.contains("namespace")) {
    std::string ns;
    if (!stringField(j, "namespace", ns) || !validTopic(ns)) return malformed();  // the registry's rule: 1-255 bytes
    f.ns = std::move(ns);
    if (!j.contains("nodes")) return Frame{std::move(f)};
  }
  if (!nodeListField(j, "nodes", kMaxWatchPerFrame, f.nodes)) return malformed();
  return Frame{std::move(f)};
}

Decoded decodePresence(const json& j) {
  PresenceEvent e;
  std::string event;
  if (!stringField(j, "event", event) || !hexField(j, "node", e.node.bytes) ||
      !uintField(j, "last_seen", e.lastSeenMs) || !hexField(j, "sig", e.signature))
    return malformed();
  if (event == "online") {
    e.event = PresenceState::Online;
  } else if (event == "offline") {
    e.event = PresenceState::Offline;
  } else {
    return malformed();
  }
  return Frame{PresenceFrame{e}};
}

}  // namespace

std::string_view ackStatusName(AckStatus s) { return s == AckStatus::Stored ? "stored" : "delivered"; }

std::string frameErrorCode(const FrameError& e) {
  switch (e.kind) {
    case FrameErrorKind::NotJson: return "bad-frame";
    case FrameErrorKind::UnknownType: return "unknown-frame-type";
    case FrameErrorKind::Malformed: return "bad-frame";
    case FrameErrorKind::Envelope: return errorCode(e.envelope);
  }
  return "bad-frame";
}

std::string encodeFrame(const Frame& f) {
  if (const auto* e = std::get_if<EnvelopeFrame>(&f)) return writeEnvelopeFrame(e->envelope);
  if (const auto* a = std::get_if<AckFrame>(&f)) return encodeAckFrame(*a);
  return std::visit(Encoder{}, f).dump();
}

std::string encodeFrameGeneric(const Frame& f) { return std::visit(Encoder{}, f).dump(); }

std::string encodeEnvelopeFrame(const Envelope& e) { return writeEnvelopeFrame(e); }

Result<Frame, FrameError> decodeFrame(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return unexpected(FrameError{FrameErrorKind::NotJson});
  std::string type;
  if (!stringField(j, "type", type)) return unexpected(FrameError{FrameErrorKind::UnknownType});
  if (type == "challenge") return decodeChallenge(j);
  if (type == "auth") return decodeAuth(j);
  if (type == "welcome") return decodeWelcome(j);
  if (type == "envelope") return decodeEnvelope(j);
  if (type == "ack") return decodeAck(j);
  if (type == "error") return decodeError(j);
  if (type == "received") return decodeReceived(j);
  if (type == "path-report") return decodePathReport(j);
  if (type == "publish") return decodePublish(j);
  if (type == "subscribe") return decodeTopicOnly<SubscribeFrame>(j);
  if (type == "unsubscribe") return decodeTopicOnly<UnsubscribeFrame>(j);
  if (type == "subscribed") return decodeSubscribed(j);
  if (type == "published") return decodePublished(j);
  if (type == "topic-members") return decodeTopicMembers(j);
  if (type == "watch") return decodeNodes<WatchFrame>(j);
  if (type == "unwatch") return decodeNodes<UnwatchFrame>(j);
  if (type == "presence") return decodePresence(j);
  return unexpected(FrameError{FrameErrorKind::UnknownType});
}

}  // namespace rdv::signalling
