// MessageView::parse: framing rules, order rules, and the typed getters on malformed values.
#include <gtest/gtest.h>

#include <functional>

#include "stun/integrity.h"
#include "stun/message.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

using test::tidOf;

Bytes header(uint16_t type, uint16_t length, uint32_t cookie = kMagicCookie) {
  Bytes b;
  appendBe16(b, type);
  appendBe16(b, length);
  appendBe32(b, cookie);
  const TransactionId t = tidOf(1);
  b.insert(b.end(), t.bytes.begin(), t.bytes.end());
  return b;
}

void appendAttr(Bytes& b, uint16_t type, Bytes value) {
  appendBe16(b, type);
  appendBe16(b, static_cast<uint16_t>(value.size()));
  b.insert(b.end(), value.begin(), value.end());
  while (b.size() % 4 != 0) b.push_back(0);
}

void fixLength(Bytes& b) { storeBe16(b.data() + 2, static_cast<uint16_t>(b.size() - kHeaderSize)); }

Bytes withAttrs(std::initializer_list<std::pair<uint16_t, Bytes>> attrs) {
  Bytes b = header(0x0001, 0);
  for (const auto& [t, v] : attrs) appendAttr(b, t, v);
  fixLength(b);
  return b;
}

Bytes goodMessage() {
  return std::move(MessageBuilder(Method::Binding, Class::Request, tidOf(1)).addString(attr::Software, "abc")).finish();
}

struct MalformedCase {
  const char* name;
  std::function<Bytes()> make;
  ParseError expected;
};

class Malformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(Malformed, IsATypedError) {
  const Bytes b = GetParam().make();
  auto m = MessageView::parse(b);
  ASSERT_FALSE(m) << GetParam().name;
  EXPECT_EQ(m.error(), GetParam().expected) << GetParam().name << ": got " << toString(m.error());
}

Bytes fingerprinted(Bytes b) {
  // Appends a correct FINGERPRINT to raw bytes.
  storeBe16(b.data() + 2, static_cast<uint16_t>(b.size() - kHeaderSize + 8));
  const uint32_t crc = fingerprintOf(b);
  appendBe16(b, attr::Fingerprint);
  appendBe16(b, 4);
  appendBe32(b, crc);
  return b;
}

const MalformedCase kMalformed[] = {
    {"empty", [] { return Bytes{}; }, ParseError::TooShort},
    {"19 bytes", [] { return Bytes(19, 0); }, ParseError::TooShort},
    {"truncated body", [] { Bytes b = goodMessage(); b.pop_back(); return b; }, ParseError::TooShort},
    {"length says more", [] { Bytes b = header(1, 8); return b; }, ParseError::TooShort},
    {"trailing bytes", [] { Bytes b = goodMessage(); b.insert(b.end(), 4, 0); return b; }, ParseError::BadLength},
    {"length not multiple of 4", [] { Bytes b = header(1, 2); b.insert(b.end(), 2, 0); return b; },
     ParseError::BadLength},
    {"top bit set", [] { Bytes b = goodMessage(); b[0] |= 0x80; return b; }, ParseError::NotStun},
    {"second top bit set", [] { Bytes b = goodMessage(); b[0] |= 0x40; return b; }, ParseError::NotStun},
    {"attribute overrun", [] { Bytes b = goodMessage(); storeBe16(b.data() + 22, 9); return b; },
     ParseError::AttributeOverrun},
    {"attribute value missing", [] { Bytes b = header(1, 4); b.insert(b.end(), {0x80, 0x22, 0x00, 0x04}); return b; },
     ParseError::AttributeOverrun},
    {"padding overrun", [] { Bytes b = header(1, 8); b.insert(b.end(), {0x80, 0x22, 0x00, 0x05, 'a', 'b', 'c', 'd'});
       return b; },
     ParseError::AttributeOverrun},
    {"duplicate fingerprint", [] { return fingerprinted(fingerprinted(goodMessage())); }, ParseError::DuplicateFingerprint},
    {"attribute after fingerprint",
     [] { Bytes b = fingerprinted(goodMessage()); appendAttr(b, attr::Software, {'x'}); fixLength(b); return b; },
     ParseError::AttributeAfterFingerprint},
    {"attribute after integrity",
     [] { return withAttrs({{attr::MessageIntegrity, Bytes(20, 1)}, {attr::Software, {'x'}}}); },
     ParseError::AttributeAfterIntegrity},
    {"integrity twice",
     [] { return withAttrs({{attr::MessageIntegrity, Bytes(20, 1)}, {attr::MessageIntegrity, Bytes(20, 1)}}); },
     ParseError::AttributeAfterIntegrity},
    {"attribute after integrity-sha256",
     [] { return withAttrs({{attr::MessageIntegritySha256, Bytes(32, 1)}, {attr::MessageIntegrity, Bytes(20, 1)}}); },
     ParseError::AttributeAfterIntegrity},
    {"bad fingerprint", [] { Bytes b = fingerprinted(goodMessage()); b.back() ^= 1; return b; }, ParseError::BadFingerprint},
    {"fingerprint wrong size", [] { return withAttrs({{attr::Fingerprint, Bytes(8, 0)}}); }, ParseError::BadFingerprint},
    {"too many attributes",
     [] {
       Bytes b = header(1, 0);
       for (size_t i = 0; i <= MessageView::kMaxAttributes; ++i) appendAttr(b, attr::Software, {'x'});
       fixLength(b);
       return b;
     },
     ParseError::TooManyAttributes},
};

INSTANTIATE_TEST_SUITE_P(Parse, Malformed, ::testing::ValuesIn(kMalformed),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& c : n) if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(MessageParse, AcceptsMaxAttributesAndMetadata) {
  Bytes b = header(messageType(Method::Allocate, Class::Error), 0);
  for (size_t i = 0; i < MessageView::kMaxAttributes; ++i) appendAttr(b, 0x7777, {1, 2, 3});
  fixLength(b);
  auto m = MessageView::parse(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->attributes().size(), MessageView::kMaxAttributes);
  EXPECT_EQ(m->method(), static_cast<uint16_t>(Method::Allocate));
  EXPECT_EQ(m->cls(), Class::Error);
  EXPECT_EQ(m->attributes()[1].offset, 28u);
  EXPECT_EQ(m->attributes()[1].value.size(), 3u);
  EXPECT_EQ(m->raw().size(), b.size());
}

TEST(MessageParse, IntegrityThenSha256ThenFingerprintIsFine) {
  Bytes b = withAttrs({{attr::MessageIntegrity, Bytes(20, 1)}, {attr::MessageIntegritySha256, Bytes(32, 2)}});
  EXPECT_TRUE(MessageView::parse(fingerprinted(b)));
}

TEST(MessageParse, UnknownAttributesArePreserved) {
  const Bytes b = withAttrs({{0x7F01, {9}}, {0xC001, {8, 7}}});
  auto m = MessageView::parse(b);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->attributes().size(), 2u);
  EXPECT_EQ(m->attributes()[0].type, 0x7F01);
  EXPECT_EQ(m->attributes()[1].value.size(), 2u);
  const uint16_t known[] = {attr::Software};
  EXPECT_EQ(m->unknownComprehensionRequired(known), std::vector<uint16_t>{0x7F01});
}

TEST(MessageParse, LegacyRfc3489Message) {
  MessageBuilder mb(Method::Binding, Class::Success, tidOf(3), 0x01020304);
  mb.addAddress(attr::MappedAddress, test::ep("192.0.2.1:1000"));
  mb.addXorAddress(attr::XorMappedAddress, test::ep("192.0.2.1:1000"));
  const Bytes b = std::move(mb).finish();
  auto m = MessageView::parse(b);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->hasMagicCookie());
  EXPECT_EQ(m->cookie(), 0x01020304u);
  EXPECT_EQ(m->address(attr::MappedAddress), test::ep("192.0.2.1:1000"));
  EXPECT_FALSE(m->xorAddress(attr::XorMappedAddress));
  EXPECT_TRUE(m->xorAddresses(attr::XorMappedAddress).empty());
}

TEST(MessageGetters, MalformedValuesAreNullopt) {
  const Bytes b = withAttrs({
      {attr::XorMappedAddress, {0, 1, 0, 1, 1, 2, 3}},          // IPv4 one byte short
      {attr::MappedAddress, {0, 3, 0, 1, 1, 2, 3, 4}},          // family 3
      {attr::OtherAddress, {0, 2, 0, 1, 1, 2, 3, 4}},           // IPv6 family with 4 address bytes
      {attr::Lifetime, {0, 0, 1}},                               // 3-byte u32
      {attr::IceControlling, {1, 2, 3, 4}},                      // 4-byte u64
      {attr::ErrorCode, {0, 0, 2, 0}},                           // class 2
      {attr::ChannelNumber, {0x40, 0}},                          // 2 bytes
      {attr::RequestedTransport, {17, 0, 0}},                    // 3 bytes
      {attr::RequestedAddressFamily, {3, 0, 0, 0}},              // family 3
      {attr::AdditionalAddressFamily, {1, 0, 0}},                // 3 bytes
      {attr::EvenPort, {0x80, 0}},                               // 2 bytes
      {attr::ChangeRequest, {0, 0, 6}},                          // 3 bytes
      {attr::ResponsePort, {0, 1}},                              // 2 bytes
      {attr::UnknownAttributes, {0, 1, 0}},                      // odd
      {attr::PasswordAlgorithms, {0, 1, 0, 8, 0, 0}},            // params overrun
      {attr::PasswordAlgorithm, {0, 1}},                         // short
      {attr::Username, Bytes(513, 'u')},                         // too long
  });
  auto m = MessageView::parse(b);
  ASSERT_TRUE(m) << toString(m.error());
  EXPECT_FALSE(m->xorAddress(attr::XorMappedAddress));
  EXPECT_FALSE(m->address(attr::MappedAddress));
  EXPECT_FALSE(m->address(attr::OtherAddress));
  EXPECT_FALSE(m->u32(attr::Lifetime));
  EXPECT_FALSE(m->u64(attr::IceControlling));
  EXPECT_FALSE(m->errorCode());
  EXPECT_FALSE(m->channelNumber());
  EXPECT_FALSE(m->requestedTransport());
  EXPECT_FALSE(m->requestedAddressFamily());
  EXPECT_FALSE(m->additionalAddressFamily());
  EXPECT_FALSE(m->evenPort());
  EXPECT_FALSE(m->changeRequest());
  EXPECT_FALSE(m->responsePort());
  EXPECT_TRUE(m->unknownAttributes().empty());
  EXPECT_TRUE(m->passwordAlgorithms().empty());
  EXPECT_FALSE(m->passwordAlgorithm());
  EXPECT_FALSE(m->string(attr::Username));
  EXPECT_FALSE(m->data());
  EXPECT_FALSE(m->string(attr::Realm));  // absent
}

TEST(MessageGetters, XorAddressesAllOrNothing) {
  MessageBuilder mb(Method::CreatePermission, Class::Request, tidOf(5));
  mb.addXorAddress(attr::XorPeerAddress, test::ep("198.51.100.1:1"));
  mb.addXorAddress(attr::XorPeerAddress, test::ep("[2001:db8::1]:2"));
  Bytes good = mb.bytes();
  auto m = MessageView::parse(good);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->xorAddresses(attr::XorPeerAddress),
            (std::vector<Endpoint>{test::ep("198.51.100.1:1"), test::ep("[2001:db8::1]:2")}));
  mb.add(attr::XorPeerAddress, Bytes{0, 1, 0, 0});
  const Bytes bad = mb.bytes();
  auto m2 = MessageView::parse(bad);
  ASSERT_TRUE(m2);
  EXPECT_TRUE(m2->xorAddresses(attr::XorPeerAddress).empty());
  EXPECT_EQ(m2->xorAddress(attr::XorPeerAddress), test::ep("198.51.100.1:1"));  // first occurrence
}

TEST(MessageParse, ErrorStrings) {
  for (int e = 0; e <= static_cast<int>(ParseError::BadChannelNumber); ++e) {
    EXPECT_NE(toString(static_cast<ParseError>(e)), "unknown");
  }
}

}  // namespace
}  // namespace rdv::stun
