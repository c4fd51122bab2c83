// ChannelData (RFC 8656 §12) and the TCP/TLS stream framing (RFC 8656 §12.5, RFC 8489 §6.2.2): what a
// TURN port makes of a datagram or of the bytes buffered on a stream connection.
#include <cstdint>

#include "stun/channel_data.h"
#include "tests/fuzz/check.h"

using namespace rdv;
using namespace rdv::stun;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  const PacketKind kind = classify(in);

  if (auto cd = parseChannelData(in)) {
    FUZZ_CHECK(kind == PacketKind::ChannelData);
    FUZZ_CHECK(cd->channel >= kMinChannel && cd->channel <= kMaxChannel);
    FUZZ_CHECK(cd->data.data() == data + kChannelDataHeaderSize);
    FUZZ_CHECK(cd->data.size() + kChannelDataHeaderSize <= size);
    // Re-encoding gives the same header and body (the datagram may carry padding after it).
    Bytes again;
    appendChannelData(again, cd->channel, cd->data, /*pad=*/false);
    FUZZ_CHECK(again.size() == cd->data.size() + kChannelDataHeaderSize);
    FUZZ_CHECK(std::equal(again.begin(), again.end(), data));
    Bytes padded;
    appendChannelData(padded, cd->channel, cd->data, /*pad=*/true);
    FUZZ_CHECK(padded.size() % 4 == 0);
    auto frame = nextFrame(padded);
    FUZZ_CHECK(frame && frame->has_value() && (*frame)->kind == PacketKind::ChannelData &&
               (*frame)->size == padded.size());
  }

  // A stream: cut it into frames the way the daemon's TCP/TLS reader does, until more bytes are needed
  // or the stream is refused. Every frame lies inside the buffer and makes progress.
  ByteSpan rest = in;
  while (!rest.empty()) {
    auto frame = nextFrame(rest);
    if (!frame || !frame->has_value()) break;
    const Frame f = **frame;
    FUZZ_CHECK(f.size > 0 && f.size <= rest.size());
    const ByteSpan one = rest.first(f.size);
    if (f.kind == PacketKind::ChannelData) {
      auto cd = parseChannelData(one);
      FUZZ_CHECK(cd.ok());
    } else {
      FUZZ_CHECK(f.kind == PacketKind::Stun);
      FUZZ_CHECK(f.size >= 20);
      (void)MessageView::parse(one);
    }
    rest = rest.subspan(f.size);
  }
  return 0;
}
