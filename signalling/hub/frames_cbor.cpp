#include "signalling/hub/frames_cbor.h"

#include <array>
#include <cstring>

#include "signalling/cbor/cbor.h"
#include "signalling/envelope/envelope_v2.h"
#include "signalling/hub/frames_cbor_fields.h"

namespace rdv::signalling {

namespace {

using cbor::Type;
using cbor::Value;
using cbor::Writer;
using namespace cbor_frames;

// ---- encoding: keys written in increasing order by construction ----

void writeEnvelope(std::string& out, const Envelope& e) {
  Writer w(out);
  if (e.version == kEnvelopeVersion2) {  // {0:18, 1:the v2 bytes}
    const Bytes wire = encodeV2(e);
    out.reserve(out.size() + 8 + wire.size());
    FrameMap(w, CborFrameType::EnvelopeV2, 2).bytes(1, wire);
    return;
  }
  out.reserve(out.size() + 220 + e.ciphertext.size());
  FrameMap(w, CborFrameType::Envelope, 10)
      .uint(1, static_cast<uint8_t>(e.header.type))
      .bytes(2, e.header.from.bytes)
      .bytes(3, e.header.to.bytes)
      .uint(4, e.header.seq)
      .uint(5, e.header.timestampMs)
      .bytes(6, e.ephemeralKey)
      .bytes(7, e.nonce)
      .bytes(8, e.ciphertext)
      .bytes(9, e.signature);
}

struct Encoder {
  Writer& w;
  std::string& out;
  // Topic and presence frames: written by writePubSub before this visitor runs.
  template <class F>
  void operator()(const F&) const {}
  void operator()(const ChallengeFrame& f) const {
    FrameMap(w, CborFrameType::Challenge, 4).bytes(1, f.hub.bytes).bytes(2, f.nonce).uint(3, f.expiresInMs);
  }
  void operator()(const AuthFrame& f) const {
    FrameMap(w, CborFrameType::Auth, f.presence ? 4 : 3).bytes(1, f.node.bytes).bytes(2, f.signature).flag(3, f.presence);
  }
  void operator()(const WelcomeFrame& f) const {
    FrameMap(w, CborFrameType::Welcome, 3).bytes(1, f.node.bytes).uint(2, f.stored);
  }
  void operator()(const EnvelopeFrame& f) const { writeEnvelope(out, f.envelope); }
  void operator()(const AckFrame& f) const {
    FrameMap(w, CborFrameType::Ack, 4).bytes(1, f.to.bytes).uint(2, f.seq).uint(3, f.status == AckStatus::Stored ? 1 : 0);
  }
  void operator()(const ErrorFrame& f) const {
    FrameMap(w, CborFrameType::Error, 3 + (f.to ? 1 : 0) + (f.seq ? 1 : 0) + (f.topic ? 1 : 0))
        .text(1, f.code)
        .text(2, f.message)
        .optionalNode(3, f.to)
        .optionalUint(4, f.seq)
        .optionalText(5, f.topic);
  }
  void operator()(const ReceivedFrame& f) const {
    FrameMap(w, CborFrameType::Received, 3).bytes(1, f.from.bytes).uint(2, f.seq);
  }
  void operator()(const PathReportFrame& f) const {
    FrameMap(w, CborFrameType::PathReport, 4).text(1, f.path).text(2, f.local).text(3, f.remote);
  }
};

// ---- decoding ----

Decoded decodeEnvelope(const Fields& f) {
  uint64_t type = 0;
  if (!f.uint(1, type)) return malformed();
  auto t = type <= 0xff ? typeFromByte(static_cast<uint8_t>(type)) : std::nullopt;
  if (!t) return unexpected(FrameError{FrameErrorKind::Envelope, EnvelopeError::UnknownType});
  Envelope e;
  e.header.type = *t;
  const Value* ct = f.at[8];
  if (!f.bytes(2, e.header.from.bytes) || !f.bytes(3, e.header.to.bytes) || !f.uint(4, e.header.seq) ||
      !f.uint(5, e.header.timestampMs) || !f.bytes(6, e.ephemeralKey) || !f.bytes(7, e.nonce) ||
      !f.bytes(9, e.signature) || !ct || ct->type != Type::Bytes) {
    return unexpected(FrameError{FrameErrorKind::Envelope, EnvelopeError::Malformed});
  }
  if (ct->bytes.size() < kGcmTagSize) return unexpected(FrameError{FrameErrorKind::Envelope, EnvelopeError::Malformed});
  if (ct->bytes.size() > kMaxCiphertextSize)
    return unexpected(FrameError{FrameErrorKind::Envelope, EnvelopeError::BodyTooLarge});
  e.ciphertext.assign(ct->bytes.begin(), ct->bytes.end());
  return Frame{EnvelopeFrame{std::move(e)}};
}

Decoded decodeAck(const Fields& f) {
  AckFrame a;
  uint64_t status = 0;
  if (!f.bytes(1, a.to.bytes) || !f.uint(2, a.seq) || !f.uint(3, status) || status > 1) return malformed();
  a.status = status == 1 ? AckStatus::Stored : AckStatus::Delivered;
  return Frame{a};
}

Decoded decodeError(const Fields& f) {
  ErrorFrame e;
  if (!f.text(1, e.code) || !f.text(2, e.message) || !f.node(3, e.to) || !f.uint(4, e.seq) || !f.text(5, e.topic))
    return malformed();
  return Frame{e};
}

bool candidateType(const std::string& t) { return t == "host" || t == "srflx" || t == "prflx" || t == "relay"; }

Decoded decodePathReport(const Fields& f) {
  PathReportFrame p;
  if (!f.text(1, p.path) || !f.text(2, p.local) || !f.text(3, p.remote)) return malformed();
  if ((p.path != "direct" && p.path != "relayed") || !candidateType(p.local) || !candidateType(p.remote))
    return malformed();
  return Frame{p};
}

}  // namespace

std::string encodeFrameCbor(const Frame& f) {
  std::string out;
  Writer w(out);
  if (!writePubSub(w, f)) std::visit(Encoder{w, out}, f);
  return out;
}

std::string encodeEnvelopeFrameCbor(const Envelope& e) {
  std::string out;
  writeEnvelope(out, e);
  return out;
}

Result<Frame, FrameError> decodeFrameCbor(std::string_view bytes) {
  cbor::Limits limits;
  limits.maxDepth = 1;  // one flat map
  limits.maxItems = 1 + 2 * (cbor_frames::kMaxKey + 1);
  auto doc = cbor::decode(asBytes(bytes), limits);
  if (!doc || doc->type != Type::Map) return unexpected(FrameError{FrameErrorKind::NotJson});
  const Value* type = doc->find(0);
  // Key 0 sorts first among unsigned keys; a text key would sort after them and is refused below.
  if (!type || type != &doc->items[1] || type->type != Type::Unsigned)
    return unexpected(FrameError{FrameErrorKind::UnknownType});
  Fields f;
  switch (type->number) {
    case static_cast<uint8_t>(CborFrameType::Challenge): {
      ChallengeFrame c;
      if (!collect(*doc, keys({1, 2, 3}), f) || !f.bytes(1, c.hub.bytes) || !f.bytes(2, c.nonce) ||
          !f.uint(3, c.expiresInMs))
        return malformed();
      return Frame{c};
    }
    case static_cast<uint8_t>(CborFrameType::Auth): {
      AuthFrame a;
      if (!collect(*doc, keys({1, 2, 3}), f) || !f.bytes(1, a.node.bytes) || !f.bytes(2, a.signature)) return malformed();
      if (f.at[3]) {  // present only as true
        if (f.at[3]->type != Type::True) return malformed();
        a.presence = true;
      }
      return Frame{a};
    }
    case static_cast<uint8_t>(CborFrameType::Welcome): {
      WelcomeFrame w;
      if (!collect(*doc, keys({1, 2}), f) || !f.bytes(1, w.node.bytes) || !f.uint(2, w.stored)) return malformed();
      return Frame{w};
    }
    case static_cast<uint8_t>(CborFrameType::Envelope):
      if (!collect(*doc, keys({1, 2, 3, 4, 5, 6, 7, 8, 9}), f)) return malformed();
      return decodeEnvelope(f);
    case static_cast<uint8_t>(CborFrameType::EnvelopeV2): {
      const Value* wire = nullptr;
      if (!collect(*doc, keys({1}), f) || !(wire = f.at[1]) || wire->type != Type::Bytes) return malformed();
      auto e = decodeV2(wire->bytes);
      if (!e) return unexpected(FrameError{FrameErrorKind::Envelope, e.error()});
      return Frame{EnvelopeFrame{std::move(*e)}};
    }
    case static_cast<uint8_t>(CborFrameType::Ack):
      if (!collect(*doc, keys({1, 2, 3}), f)) return malformed();
      return decodeAck(f);
    case static_cast<uint8_t>(CborFrameType::Error):
      if (!collect(*doc, keys({1, 2, 3, 4, 5}), f)) return malformed();
      return decodeError(f);
    case static_cast<uint8_t>(CborFrameType::Received): {
      ReceivedFrame r;
      if (!collect(*doc, keys({1, 2}), f) || !f.bytes(1, r.from.bytes) || !f.uint(2, r.seq)) return malformed();
      return Frame{r};
    }
    case static_cast<uint8_t>(CborFrameType::PathReport):
      if (!collect(*doc, keys({1, 2, 3}), f)) return malformed();
      return decodePathReport(f);
    default:
      if (auto pubsub = decodePubSub(type->number, *doc)) return std::move(*pubsub);
      return unexpected(FrameError{FrameErrorKind::UnknownType});
  }
}

}  // namespace rdv::signalling
