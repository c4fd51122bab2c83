#include "signalling/hub/frames.h"

#include <nlohmann/json.hpp>

#include <cstring>

#include "signalling/envelope/envelope_codec.h"

namespace rdv::signalling {

namespace {

using nlohmann::json;

template <size_t N>
bool hexField(const json& j, const char* key, std::array<uint8_t, N>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  Bytes raw;
  if (s.size() != 2 * N || !fromHex(s, raw) || raw.size() != N) return false;
  std::memcpy(out.data(), raw.data(), N);
  return true;
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
    return {{"type", "auth"}, {"node", f.node.hex()}, {"sig", toHex(f.signature)}};
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
    return j;
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
  return Frame{f};
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
  return unexpected(FrameError{FrameErrorKind::UnknownType});
}

}  // namespace rdv::signalling
