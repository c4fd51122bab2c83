#include "signalling/agent/dcep.h"

namespace rdv::agent::dcep {

namespace {

constexpr uint8_t kTypeAck = 0x02;
constexpr uint8_t kTypeOpen = 0x03;
constexpr size_t kOpenHeader = 12;  // RFC 8832 §5.1: type .. protocol length

uint16_t read16(ByteSpan b, size_t at) { return static_cast<uint16_t>((b[at] << 8) | b[at + 1]); }
uint32_t read32(ByteSpan b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}
void put16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put32(Bytes& out, uint32_t v) {
  put16(out, static_cast<uint16_t>(v >> 16));
  put16(out, static_cast<uint16_t>(v));
}

}  // namespace

const char* describe(ParseError e) {
  switch (e) {
    case ParseError::Empty:
      return "empty DCEP message";
    case ParseError::UnknownType:
      return "unknown DCEP message type";
    case ParseError::Truncated:
      return "DCEP message shorter than its lengths say";
    case ParseError::TrailingBytes:
      return "bytes after the DCEP message";
  }
  return "?";
}

std::variant<Message, ParseError> parse(ByteSpan b) {
  if (b.empty()) return ParseError::Empty;
  if (b[0] == kTypeAck) {
    // RFC 8832 §5.2: the ACK is the type byte alone.
    if (b.size() != 1) return ParseError::TrailingBytes;
    return Message{Ack{}};
  }
  if (b[0] != kTypeOpen) return ParseError::UnknownType;
  if (b.size() < kOpenHeader) return ParseError::Truncated;
  Open o;
  o.channelType = b[1];
  o.priority = read16(b, 2);
  o.reliability = read32(b, 4);
  const size_t labelLength = read16(b, 8);
  const size_t protocolLength = read16(b, 10);
  if (b.size() < kOpenHeader + labelLength + protocolLength) return ParseError::Truncated;
  if (b.size() > kOpenHeader + labelLength + protocolLength) return ParseError::TrailingBytes;
  const auto* p = reinterpret_cast<const char*>(b.data()) + kOpenHeader;
  o.label.assign(p, labelLength);
  o.protocol.assign(p + labelLength, protocolLength);
  return Message{o};
}

Bytes encode(const Open& o) {
  Bytes out;
  out.reserve(kOpenHeader + o.label.size() + o.protocol.size());
  out.push_back(kTypeOpen);
  out.push_back(o.channelType);
  put16(out, o.priority);
  put32(out, o.reliability);
  put16(out, static_cast<uint16_t>(o.label.size()));
  put16(out, static_cast<uint16_t>(o.protocol.size()));
  out.insert(out.end(), o.label.begin(), o.label.end());
  out.insert(out.end(), o.protocol.begin(), o.protocol.end());
  return out;
}

Bytes encode(const Ack&) { return Bytes{kTypeAck}; }

}  // namespace rdv::agent::dcep
