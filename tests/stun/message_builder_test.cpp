// MessageBuilder: every attribute of constants.h through build -> parse -> getter.
#include <gtest/gtest.h>

#include <set>

#include "stun/integrity.h"
#include "stun/message.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

using test::ep;
using test::tidOf;

TEST(MessageBuilder, HeaderAndPadding) {
  MessageBuilder b(Method::Allocate, Class::Request, tidOf(9));
  EXPECT_EQ(b.bytes().size(), kHeaderSize);
  EXPECT_EQ(loadBe16(b.bytes().data() + 2), 0);
  b.addString(attr::Software, "abcde");  // 5 bytes -> 8 with padding
  EXPECT_EQ(b.bytes().size(), kHeaderSize + 4 + 8);
  EXPECT_EQ(loadBe16(b.bytes().data() + 2), 12);
  EXPECT_EQ(loadBe16(b.bytes().data() + 22), 5);  // the attribute length excludes padding
  EXPECT_EQ(b.bytes()[29], 0);
  EXPECT_EQ(b.bytes()[31], 0);
  b.addFlag(attr::DontFragment);
  EXPECT_EQ(loadBe16(b.bytes().data() + 2), 16);
  EXPECT_EQ(loadBe16(b.bytes().data()), 0x0003);
  EXPECT_EQ(loadBe32(b.bytes().data() + 4), kMagicCookie);
}

TEST(MessageBuilder, MessageTypes) {
  EXPECT_EQ(messageType(Method::Binding, Class::Request), 0x0001);
  EXPECT_EQ(messageType(Method::Binding, Class::Success), 0x0101);
  EXPECT_EQ(messageType(Method::Binding, Class::Error), 0x0111);
  EXPECT_EQ(messageType(Method::Send, Class::Indication), 0x0016);
  EXPECT_EQ(messageType(0xFFF, Class::Error), 0x3FFF);
  for (uint16_t t = 0; t < 0x4000; ++t) EXPECT_EQ(messageType(methodOf(t), classOf(t)), t);
}

TEST(MessageBuilder, RoundTripEveryAttribute) {
  const TransactionId tid = tidOf(2);
  MessageBuilder b(Method::Allocate, Class::Request, tid);
  const PasswordAlgorithm algs[] = {PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5};
  const uint16_t unknown[] = {0x0031, 0x7FFF, 0x0002};
  b.addAddress(attr::MappedAddress, ep("192.0.2.7:7"))
      .addChangeRequest({true, false})
      .addAddress(attr::SourceAddress, ep("192.0.2.8:8"))
      .addAddress(attr::ChangedAddress, ep("192.0.2.9:9"))
      .addString(attr::Username, "user")
      .addErrorCode(error::StaleNonce)
      .addUnknownAttributes(unknown)
      .addChannelNumber(0x4ABC)
      .addU32(attr::Lifetime, 600)
      .addXorAddress(attr::XorPeerAddress, ep("[2001:db8::9]:65535"))
      .add(attr::Data, Bytes{1, 2, 3, 4, 5})
      .addString(attr::Realm, "example.org")
      .addString(attr::Nonce, "nonce")
      .addXorAddress(attr::XorRelayedAddress, ep("203.0.113.5:49152"))
      .addRequestedAddressFamily(Family::V6)
      .addEvenPort(true)
      .addRequestedTransport(kTransportUdp)
      .addFlag(attr::DontFragment)
      .addString(attr::AccessToken, "token")
      .addPasswordAlgorithm(PasswordAlgorithm::Sha256)
      .add(attr::Userhash, userhash("user", "example.org"))
      .addXorAddress(attr::XorMappedAddress, ep("198.51.100.2:3478"))
      .addU64(attr::ReservationToken, 0x0102030405060708ull)
      .addU32(attr::Priority, 0x6E0001FF)
      .addFlag(attr::UseCandidate)
      .addPadding(7)
      .addResponsePort(40000)
      .addU32(attr::ConnectionId, 77)
      .addAdditionalAddressFamily(Family::V6)
      .add(attr::AddressErrorCode, Bytes{2, 0, 4, 40})
      .addPasswordAlgorithms(algs)
      .addString(attr::AlternateDomain, "alt.example.org")
      .add(attr::Icmp, Bytes{0, 0, 3, 1, 0, 0, 0, 0})
      .addString(attr::Software, "rdv")
      .addAddress(attr::AlternateServer, ep("192.0.2.50:3478"))
      .add(attr::TransactionTransmitCounter, Bytes{0, 0, 1, 2})
      .addU32(attr::CacheTimeout, 10)
      .addU64(attr::IceControlled, 1)
      .addU64(attr::IceControlling, 2)
      .addAddress(attr::ResponseOrigin, ep("192.0.2.1:3478"))
      .addAddress(attr::OtherAddress, ep("192.0.2.2:3479"))
      .add(attr::ThirdPartyAuthorization, Bytes{'s', 'v'});
  const Bytes key = longTermKey("user", "example.org", "pw", PasswordAlgorithm::Sha256);
  b.addMessageIntegrity(key).addMessageIntegritySha256(key).addFingerprint();
  ASSERT_FALSE(b.overflowed());
  const Bytes bytes = b.bytes();

  auto m = MessageView::parse(bytes);
  ASSERT_TRUE(m) << toString(m.error());
  EXPECT_EQ(m->transactionId(), tid);
  EXPECT_EQ(m->address(attr::MappedAddress), ep("192.0.2.7:7"));
  EXPECT_TRUE(m->changeRequest()->changeIp);
  EXPECT_FALSE(m->changeRequest()->changePort);
  EXPECT_EQ(m->address(attr::SourceAddress), ep("192.0.2.8:8"));
  EXPECT_EQ(m->address(attr::ChangedAddress), ep("192.0.2.9:9"));
  EXPECT_EQ(m->string(attr::Username), "user");
  EXPECT_EQ(m->errorCode()->code, 438);
  EXPECT_EQ(m->errorCode()->reason, "Stale Nonce");
  EXPECT_EQ(m->unknownAttributes(), std::vector<uint16_t>(std::begin(unknown), std::end(unknown)));
  EXPECT_EQ(m->channelNumber(), 0x4ABC);
  EXPECT_EQ(m->u32(attr::Lifetime), 600u);
  EXPECT_EQ(m->xorAddress(attr::XorPeerAddress), ep("[2001:db8::9]:65535"));
  EXPECT_EQ(toHex(*m->data()), "0102030405");
  EXPECT_EQ(m->string(attr::Realm), "example.org");
  EXPECT_EQ(m->string(attr::Nonce), "nonce");
  EXPECT_EQ(m->xorAddress(attr::XorRelayedAddress), ep("203.0.113.5:49152"));
  EXPECT_EQ(m->requestedAddressFamily(), Family::V6);
  EXPECT_EQ(m->evenPort(), true);
  EXPECT_EQ(m->requestedTransport(), kTransportUdp);
  EXPECT_TRUE(m->has(attr::DontFragment));
  EXPECT_EQ(m->string(attr::AccessToken), "token");
  EXPECT_EQ(m->passwordAlgorithm(), PasswordAlgorithm::Sha256);
  EXPECT_EQ(m->find(attr::Userhash)->value.size(), 32u);
  EXPECT_EQ(m->xorAddress(attr::XorMappedAddress), ep("198.51.100.2:3478"));
  EXPECT_EQ(m->u64(attr::ReservationToken), 0x0102030405060708ull);
  EXPECT_EQ(m->u32(attr::Priority), 0x6E0001FFu);
  EXPECT_TRUE(m->has(attr::UseCandidate));
  EXPECT_EQ(m->find(attr::Padding)->value.size(), 7u);
  EXPECT_EQ(m->responsePort(), 40000);
  EXPECT_EQ(m->u32(attr::ConnectionId), 77u);
  EXPECT_EQ(m->additionalAddressFamily(), Family::V6);
  EXPECT_EQ(m->find(attr::AddressErrorCode)->value.size(), 4u);
  EXPECT_EQ(m->passwordAlgorithms(), std::vector<PasswordAlgorithm>(std::begin(algs), std::end(algs)));
  EXPECT_EQ(m->string(attr::AlternateDomain), "alt.example.org");
  EXPECT_EQ(m->find(attr::Icmp)->value.size(), 8u);
  EXPECT_EQ(m->string(attr::Software), "rdv");
  EXPECT_EQ(m->address(attr::AlternateServer), ep("192.0.2.50:3478"));
  EXPECT_EQ(m->find(attr::TransactionTransmitCounter)->value.size(), 4u);
  EXPECT_EQ(m->u32(attr::CacheTimeout), 10u);
  EXPECT_EQ(m->u64(attr::IceControlled), 1u);
  EXPECT_EQ(m->u64(attr::IceControlling), 2u);
  EXPECT_EQ(m->address(attr::ResponseOrigin), ep("192.0.2.1:3478"));
  EXPECT_EQ(m->address(attr::OtherAddress), ep("192.0.2.2:3479"));
  EXPECT_EQ(asString(m->find(attr::ThirdPartyAuthorization)->value), "sv");
  EXPECT_EQ(verifyMessageIntegrity(*m, key), IntegrityCheck::Ok);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, key), IntegrityCheck::Ok);
  EXPECT_TRUE(m->has(attr::Fingerprint));

  // Every attribute type was present exactly once (XOR-PEER-ADDRESS too).
  std::set<uint16_t> types;
  for (const Attribute& a : m->attributes()) EXPECT_TRUE(types.insert(a.type).second) << a.type;
  EXPECT_EQ(types.size(), 45u);
}

TEST(MessageBuilder, ResponseToEchoesTransactionAndCookie) {
  MessageBuilder req(Method::Refresh, Class::Request, tidOf(4), 0xDEADBEEF);
  const Bytes rb = req.bytes();
  auto r = MessageView::parse(rb);
  ASSERT_TRUE(r);
  const Bytes resp = MessageBuilder::responseTo(*r, Class::Error).bytes();
  auto m = MessageView::parse(resp);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is(Method::Refresh, Class::Error));
  EXPECT_EQ(m->cookie(), 0xDEADBEEFu);
  EXPECT_EQ(m->transactionId(), tidOf(4));
}

// A server builds answers into recycled buffers: whatever the buffer held is gone, the bytes are the same
// as from a fresh builder, and the buffer's storage is the one used.
TEST(MessageBuilder, ResponseIntoARecycledBufferIsTheSameMessage) {
  MessageBuilder req(Method::Allocate, Class::Request, tidOf(9));
  req.addRequestedTransport(kTransportUdp);
  const Bytes rb = req.bytes();
  auto r = MessageView::parse(rb);
  ASSERT_TRUE(r);
  auto build = [&](MessageBuilder b) {
    b.addErrorCode(error::Unauthorized).addString(attr::Realm, "realm").addString(attr::Nonce, "nonce-value");
    b.addPasswordAlgorithms(std::vector<PasswordAlgorithm>{PasswordAlgorithm::Md5, PasswordAlgorithm::Sha256});
    b.addMessageIntegrity(asBytes(std::string_view("key"))).addFingerprint();
    return std::move(b).finish();
  };
  const Bytes fresh = build(MessageBuilder::responseTo(*r, Class::Error));
  Bytes old(4096, 0xEE);  // a recycled buffer: larger than the answer, full of another message
  const uint8_t* storage = old.data();
  const Bytes reused = build(MessageBuilder::responseTo(*r, Class::Error, std::move(old)));
  EXPECT_EQ(reused, fresh);
  EXPECT_EQ(reused.data(), storage);
  auto m = MessageView::parse(reused);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->errorCode()->code, 401);
  EXPECT_EQ(m->passwordAlgorithms(), (std::vector<PasswordAlgorithm>{PasswordAlgorithm::Md5, PasswordAlgorithm::Sha256}));
}

TEST(MessageBuilder, ErrorCodeDefaultsAndCustomReason) {
  MessageBuilder b(Method::Binding, Class::Error, tidOf(1));
  b.addErrorCode(error::UnknownAttribute);
  auto m = MessageView::parse(b.bytes());
  EXPECT_EQ(m->errorCode()->code, 420);
  EXPECT_EQ(m->errorCode()->reason, "Unknown Attribute");
  MessageBuilder b2(Method::Binding, Class::Error, tidOf(1));
  b2.addErrorCode(699, "custom");
  auto m2 = MessageView::parse(b2.bytes());
  EXPECT_EQ(m2->errorCode()->code, 699);
  EXPECT_EQ(m2->errorCode()->reason, "custom");
}

TEST(MessageBuilder, OverflowIsRecordedNotWritten) {
  MessageBuilder b(Method::Send, Class::Indication, tidOf(1));
  b.add(attr::Data, Bytes(60000, 1));
  EXPECT_FALSE(b.overflowed());
  b.add(attr::Data, Bytes(6000, 1));
  EXPECT_TRUE(b.overflowed());
  b.addFingerprint();
  auto m = MessageView::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->attributes().size(), 2u);
  MessageBuilder huge(Method::Send, Class::Indication, tidOf(1));
  huge.add(attr::Data, Bytes(70000, 1));
  EXPECT_TRUE(huge.overflowed());
  EXPECT_EQ(huge.bytes().size(), kHeaderSize);
}

TEST(MessageBuilder, LargestMessageOffsetsBeyond16Bits) {
  MessageBuilder b(Method::Send, Class::Indication, tidOf(1));
  b.add(attr::Data, Bytes(65510, 1));
  b.addString(attr::Software, "tail");
  b.addFingerprint();
  ASSERT_FALSE(b.overflowed());
  auto m = MessageView::parse(b.bytes());
  ASSERT_TRUE(m) << toString(m.error());
  EXPECT_GT(m->find(attr::Fingerprint)->offset, 65535u);
}

TEST(MessageBuilder, RandomTransactionIdsDiffer) {
  EXPECT_NE(randomTransactionId(), randomTransactionId());
}

}  // namespace
}  // namespace rdv::stun
