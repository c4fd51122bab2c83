// The Data Channel Establishment Protocol (RFC 8832) and the SCTP payload protocol identifiers of
// WebRTC data channels (RFC 8831 §8): a pure codec over byte spans.
//
//   DATA_CHANNEL_OPEN (type 0x03): channel type, priority, reliability parameter, label, protocol
//   DATA_CHANNEL_ACK  (type 0x02): the type byte alone
// Both travel on the channel's own SCTP stream with PPID 50. Messages use PPID 51 (string),
// 53 (binary), and 56/57 for an empty string/binary (one zero byte on the wire, RFC 8831 §6.6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "rendezvous/base/bytes.h"

namespace rdv::agent::dcep {

enum Ppid : uint32_t {
  kDcep = 50,
  kString = 51,
  kBinary = 53,
  kStringEmpty = 56,
  kBinaryEmpty = 57,
};

// RFC 8832 §5.1 channel types (the high bit: unordered).
enum ChannelType : uint8_t {
  kReliable = 0x00,
  kPartialReliableRexmit = 0x01,
  kPartialReliableTimed = 0x02,
  kReliableUnordered = 0x80,
  kPartialReliableRexmitUnordered = 0x81,
  kPartialReliableTimedUnordered = 0x82,
};

struct Open {
  uint8_t channelType = kReliable;
  uint16_t priority = 0;
  uint32_t reliability = 0;
  std::string label;
  std::string protocol;
  bool ordered() const { return (channelType & 0x80) == 0; }
};

struct Ack {};

using Message = std::variant<Open, Ack>;

enum class ParseError { Empty, UnknownType, Truncated, TrailingBytes };
const char* describe(ParseError e);

// Returns the message or why the bytes are not one (never throws on hostile input).
std::variant<Message, ParseError> parse(ByteSpan bytes);
Bytes encode(const Open& open);
Bytes encode(const Ack&);

}  // namespace rdv::agent::dcep
