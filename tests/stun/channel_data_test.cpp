// ChannelData parsing, demultiplexing and stream framing.
#include <gtest/gtest.h>

#include "stun/channel_data.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

TEST(ChannelData, Classify) {
  EXPECT_EQ(classify({}), PacketKind::Other);
  for (int b = 0; b < 256; ++b) {
    const uint8_t byte = static_cast<uint8_t>(b);
    const PacketKind expected = b <= 3 ? PacketKind::Stun : (b >= 64 && b <= 127) ? PacketKind::ChannelData
                                                                                 : PacketKind::Other;
    EXPECT_EQ(classify(ByteSpan(&byte, 1)), expected) << b;
  }
}

TEST(ChannelData, RoundTripUnpaddedAndPadded) {
  Bytes out;
  appendChannelData(out, 0x4001, asBytes("hello"), false);
  EXPECT_EQ(out.size(), 9u);
  auto cd = parseChannelData(out);
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->channel, 0x4001);
  EXPECT_EQ(asString(cd->data), "hello");

  Bytes padded;
  appendChannelData(padded, 0x4FFF, asBytes("hello"), true);
  EXPECT_EQ(padded.size(), 12u);
  EXPECT_EQ(padded[9] | padded[10] | padded[11], 0);
  auto p = parseChannelData(padded);
  ASSERT_TRUE(p);
  EXPECT_EQ(asString(p->data), "hello");  // the length field excludes padding

  Bytes empty;
  appendChannelData(empty, 0x4000, {}, true);
  EXPECT_EQ(empty.size(), 4u);
  EXPECT_TRUE(parseChannelData(empty));
}

TEST(ChannelData, Malformed) {
  EXPECT_EQ(parseChannelData(Bytes{0x40, 0x00, 0x00}).error(), ParseError::TooShort);
  EXPECT_EQ(parseChannelData(Bytes{0x3F, 0xFF, 0x00, 0x00}).error(), ParseError::BadChannelNumber);
  EXPECT_EQ(parseChannelData(Bytes{0x80, 0x00, 0x00, 0x00}).error(), ParseError::BadChannelNumber);
  EXPECT_EQ(parseChannelData(Bytes{0x40, 0x00, 0x00, 0x02, 1}).error(), ParseError::TooShort);  // overrun
}

Bytes stunMessage(size_t softwareLen) {
  MessageBuilder b(Method::Refresh, Class::Request, test::tidOf(1));
  b.addString(attr::Software, std::string(softwareLen, 's'));
  return std::move(b).finish();
}

TEST(Framing, NeedsMoreAndComplete) {
  const Bytes m = stunMessage(5);
  for (size_t n = 0; n < m.size(); ++n) {
    auto f = nextFrame(ByteSpan(m).first(n));
    ASSERT_TRUE(f) << n;
    EXPECT_FALSE(f->has_value()) << n;
  }
  auto f = nextFrame(m);
  ASSERT_TRUE(f && f->has_value());
  EXPECT_EQ((*f)->kind, PacketKind::Stun);
  EXPECT_EQ((*f)->size, m.size());
}

TEST(Framing, BackToBackFramesWithPadding) {
  Bytes stream;
  appendChannelData(stream, 0x4002, asBytes("abcde"), true);  // 12 bytes
  const Bytes m = stunMessage(3);
  stream.insert(stream.end(), m.begin(), m.end());
  appendChannelData(stream, 0x4003, {}, true);  // 4 bytes
  appendChannelData(stream, 0x4004, asBytes("xyz"), true);  // 8 bytes

  std::vector<Frame> frames;
  ByteSpan rest = stream;
  while (true) {
    auto f = nextFrame(rest);
    ASSERT_TRUE(f);
    if (!f->has_value()) break;
    frames.push_back(**f);
    if ((*f)->kind == PacketKind::Stun) {
      EXPECT_TRUE(MessageView::parse(rest.first((*f)->size)));
    } else {
      EXPECT_TRUE(parseChannelData(rest.first((*f)->size)));
    }
    rest = rest.subspan((*f)->size);
  }
  EXPECT_TRUE(rest.empty());
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].size, 12u);
  EXPECT_EQ(frames[1].size, m.size());
  EXPECT_EQ(frames[2].size, 4u);
  EXPECT_EQ(frames[3].size, 8u);
}

TEST(Framing, SplitStreamByteByByte) {
  Bytes stream;
  appendChannelData(stream, 0x4002, asBytes("abcdefg"), true);
  const Bytes m = stunMessage(9);
  stream.insert(stream.end(), m.begin(), m.end());
  // Feed one byte at a time into a buffer and pull frames as they complete.
  Bytes buffer;
  std::vector<size_t> sizes;
  for (uint8_t byte : stream) {
    buffer.push_back(byte);
    auto f = nextFrame(buffer);
    ASSERT_TRUE(f);
    if (f->has_value()) {
      sizes.push_back((*f)->size);
      buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>((*f)->size));
    }
  }
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(sizes, (std::vector<size_t>{12, m.size()}));
}

TEST(Framing, Errors) {
  EXPECT_EQ(nextFrame(Bytes{0x80}).error(), ParseError::NotStun);
  EXPECT_EQ(nextFrame(Bytes{0x16, 0x03, 0x01}).error(), ParseError::NotStun);  // a TLS record
  EXPECT_EQ(nextFrame(Bytes{0x00, 0x01, 0x00, 0x02}).error(), ParseError::BadLength);
  auto empty = nextFrame({});
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
}

}  // namespace
}  // namespace rdv::stun
