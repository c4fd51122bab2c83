// Keys, HMACs, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT.
#include <gtest/gtest.h>

#include "stun/integrity.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

using test::tidOf;

TEST(Integrity, LongTermKeyMd5) {
  // MD5("user:realm:pass"), computed independently.
  EXPECT_EQ(toHex(longTermKey("user", "realm", "pass")), toHex(md5(asBytes("user:realm:pass"))));
  EXPECT_EQ(toHex(md5(asBytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(longTermKey("user", "realm", "pass").size(), 16u);
}

TEST(Integrity, LongTermKeySha256) {
  EXPECT_EQ(toHex(sha256(asBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const Bytes k = longTermKey("user", "realm", "pass", PasswordAlgorithm::Sha256);
  EXPECT_EQ(k.size(), 32u);
  EXPECT_EQ(toHex(k), toHex(sha256(asBytes("user:realm:pass"))));
}

TEST(Integrity, ShortTermKeyAndUserhash) {
  EXPECT_EQ(asString(shortTermKey("secret")), "secret");
  EXPECT_EQ(toHex(userhash("u", "r")), toHex(sha256(asBytes("u:r"))));
}

TEST(Integrity, HmacKnownAnswers) {
  // RFC 2202 / RFC 4231 test case 2.
  EXPECT_EQ(toHex(hmacSha1(asBytes("Jefe"), asBytes("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  EXPECT_EQ(toHex(hmacSha256(asBytes("Jefe"), asBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmacSha1({}, asBytes("x")).size(), 20u);  // an empty key is valid
}

Bytes signedMessage(const Bytes& key, bool sha1, bool sha256, bool fingerprint) {
  MessageBuilder b(Method::Allocate, Class::Request, tidOf(7));
  b.addString(attr::Username, "alice").addString(attr::Realm, "r").addRequestedTransport(kTransportUdp);
  if (sha1) b.addMessageIntegrity(key);
  if (sha256) b.addMessageIntegritySha256(key);
  if (fingerprint) b.addFingerprint();
  return std::move(b).finish();
}

TEST(Integrity, VerifyMd5KeyAndWrongKey) {
  const Bytes key = longTermKey("alice", "r", "pw");
  const Bytes bytes = signedMessage(key, true, false, true);
  auto m = MessageView::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(verifyMessageIntegrity(*m, key), IntegrityCheck::Ok);
  EXPECT_EQ(verifyMessageIntegrity(*m, longTermKey("alice", "r", "pW")), IntegrityCheck::Mismatch);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, key), IntegrityCheck::Missing);
}

TEST(Integrity, VerifySha256KeyBothMacs) {
  const Bytes key = longTermKey("alice", "r", "pw", PasswordAlgorithm::Sha256);
  const Bytes bytes = signedMessage(key, true, true, true);
  auto m = MessageView::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(verifyMessageIntegrity(*m, key), IntegrityCheck::Ok);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, key), IntegrityCheck::Ok);
  const Bytes wrong = longTermKey("alice", "r", "px", PasswordAlgorithm::Sha256);
  EXPECT_EQ(verifyMessageIntegrity(*m, wrong), IntegrityCheck::Mismatch);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, wrong), IntegrityCheck::Mismatch);
}

TEST(Integrity, Sha256Alone) {
  const Bytes key = shortTermKey("pw");
  const Bytes bytes = signedMessage(key, false, true, false);
  auto m = MessageView::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(verifyMessageIntegrity(*m, key), IntegrityCheck::Missing);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, key), IntegrityCheck::Ok);
}

TEST(Integrity, TamperedBodyIsMismatch) {
  const Bytes key = shortTermKey("pw");
  Bytes bytes = signedMessage(key, true, true, false);
  bytes[25] ^= 0x01;  // inside USERNAME
  auto m = MessageView::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(verifyMessageIntegrity(*m, key), IntegrityCheck::Mismatch);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, key), IntegrityCheck::Mismatch);
}

TEST(Integrity, TruncatedSha256Forms) {
  const Bytes key = shortTermKey("pw");
  MessageBuilder b(Method::Binding, Class::Request, tidOf(8));
  b.addString(attr::Username, "u");
  Bytes bytes = b.bytes();
  // Hand-build a 16-byte MI-SHA256: the MAC covers the message with the length ending after it.
  storeBe16(bytes.data() + 2, static_cast<uint16_t>(bytes.size() - kHeaderSize + 20));
  const Bytes mac = hmacSha256(key, bytes);
  appendBe16(bytes, attr::MessageIntegritySha256);
  appendBe16(bytes, 16);
  bytes.insert(bytes.end(), mac.begin(), mac.begin() + 16);
  auto m = MessageView::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(verifyMessageIntegritySha256(*m, key), IntegrityCheck::Ok);
  // 12 bytes is below the minimum: never Ok.
  Bytes shortForm = bytes;
  storeBe16(shortForm.data() + 2, static_cast<uint16_t>(shortForm.size() - kHeaderSize - 4));
  storeBe16(shortForm.data() + shortForm.size() - 18, 12);
  shortForm.resize(shortForm.size() - 4);
  auto s = MessageView::parse(shortForm);
  ASSERT_TRUE(s);
  EXPECT_EQ(verifyMessageIntegritySha256(*s, key), IntegrityCheck::Mismatch);
}

TEST(Integrity, WrongSizeMiIsMismatch) {
  MessageBuilder b(Method::Binding, Class::Request, tidOf(8));
  b.add(attr::MessageIntegrity, Bytes(16, 0));
  auto m = MessageView::parse(b.bytes());
  ASSERT_TRUE(m);
  EXPECT_EQ(verifyMessageIntegrity(*m, shortTermKey("x")), IntegrityCheck::Mismatch);
}

TEST(Integrity, Fingerprint) {
  // CRC-32("123456789") = 0xCBF43926, the standard check value.
  EXPECT_EQ(fingerprintOf(asBytes("123456789")) ^ kFingerprintXor, 0xCBF43926u);
  EXPECT_EQ(fingerprintOf({}) ^ kFingerprintXor, 0u);
}

}  // namespace
}  // namespace rdv::stun
