// ChannelData (RFC 8656 §12), demultiplexing (RFC 7983) and stream framing.
#include "stun/channel_data.h"

namespace rdv::stun {

PacketKind classify(ByteSpan packet) {
  if (packet.empty()) return PacketKind::Other;
  const uint8_t b = packet[0];
  if (b <= 3) return PacketKind::Stun;
  if (b >= 64 && b <= 127) return PacketKind::ChannelData;  // see kMaxChannel
  return PacketKind::Other;
}

Result<ChannelData, ParseError> parseChannelData(ByteSpan packet) {
  if (packet.size() < kChannelDataHeaderSize) return unexpected(ParseError::TooShort);
  const uint16_t channel = loadBe16(packet.data());
  if (channel < kMinChannel || channel > kMaxChannel) return unexpected(ParseError::BadChannelNumber);
  const size_t length = loadBe16(packet.data() + 2);
  if (length > packet.size() - kChannelDataHeaderSize) return unexpected(ParseError::TooShort);
  return ChannelData{channel, packet.subspan(kChannelDataHeaderSize, length)};
}

void appendChannelData(Bytes& out, uint16_t channel, ByteSpan data, bool pad) {
  appendBe16(out, channel);
  appendBe16(out, static_cast<uint16_t>(data.size()));
  out.insert(out.end(), data.begin(), data.end());
  if (pad) out.resize(out.size() + ((4 - data.size() % 4) % 4), 0);
}

Result<std::optional<Frame>, ParseError> nextFrame(ByteSpan buffered) {
  using Out = Result<std::optional<Frame>, ParseError>;
  if (buffered.empty()) return Out(std::nullopt);
  const PacketKind kind = classify(buffered);
  if (kind == PacketKind::Other) return unexpected(ParseError::NotStun);
  if (buffered.size() < 4) return Out(std::nullopt);
  const size_t length = loadBe16(buffered.data() + 2);
  size_t size = 0;
  if (kind == PacketKind::Stun) {
    // RFC 8489 §6.2.2: a STUN message over a stream is its 20-byte header plus its length.
    if (length % 4 != 0) return unexpected(ParseError::BadLength);
    size = kHeaderSize + length;
  } else {
    // RFC 8656 §12.5: over streams a ChannelData message is padded to a multiple of 4.
    const uint16_t channel = loadBe16(buffered.data());
    if (channel < kMinChannel || channel > kMaxChannel) return unexpected(ParseError::BadChannelNumber);
    size = kChannelDataHeaderSize + ((length + 3) & ~size_t{3});
  }
  if (buffered.size() < size) return Out(std::nullopt);
  return Out(Frame{kind, size});
}

}  // namespace rdv::stun
