// ChannelData framing (RFC 8656 §12) and stream framing for TCP/TLS (RFC 8656 §12.5, RFC 8489 §6.2.2).
#pragma once

#include <cstdint>
#include <optional>

#include "rendezvous/base/bytes.h"
#include "stun/message.h"
#include "rendezvous/base/result.h"

namespace rdv::stun {

constexpr uint16_t kMinChannel = 0x4000;
// RFC 8656 §12 narrowed channel numbers to 0x4000-0x4FFF, but RFC 5766 allowed 0x4000-0x7FFF and
// deployed clients (coturn's turnutils_uclient among them) still pick numbers up to 0x7FFF. We accept
// the RFC 5766 range so those clients work; nothing else uses first bytes 0x50-0x7F on a TURN port.
constexpr uint16_t kMaxChannel = 0x7FFF;
constexpr size_t kChannelDataHeaderSize = 4;

struct ChannelData {
  uint16_t channel = 0;
  ByteSpan data;  // view into the parsed buffer
};

// What the first byte says a packet is (RFC 7983 demultiplexing on a STUN/TURN port).
enum class PacketKind { Stun, ChannelData, Other };
PacketKind classify(ByteSpan packet);

// Parses one ChannelData message from a datagram: the length field may be shorter than the datagram
// (padding, RFC 8656 §12.5) but never longer.
Result<ChannelData, ParseError> parseChannelData(ByteSpan packet);
// Writes header + data (+ zero padding to a multiple of 4 when `pad`, as stream transports require).
void appendChannelData(Bytes& out, uint16_t channel, ByteSpan data, bool pad);

// Stream framing: given the bytes buffered so far on a TCP/TLS connection, the size of the first
// complete frame (a STUN message, or a ChannelData message including its padding), nullopt when more
// bytes are needed, or an error when the stream cannot be STUN/TURN (the connection should be closed).
struct Frame {
  PacketKind kind = PacketKind::Stun;
  size_t size = 0;
};
Result<std::optional<Frame>, ParseError> nextFrame(ByteSpan buffered);

}  // namespace rdv::stun
