// Keys, HMACs, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <openssl/evp.h>
#include <openssl/hmac.h>

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

TEST(Integrity, EmptyKeyKnownAnswersBetweenKeyedCalls) {
  // HMAC("", "") (published values); an empty key between keyed calls must neither reuse the previous
  // key nor leave its own behind (the per-thread contexts are re-keyed on every call).
  EXPECT_EQ(toHex(hmacSha1(asBytes("Jefe"), asBytes("x"))), toHex(hmacSha1(asBytes("Jefe"), asBytes("x"))));
  EXPECT_EQ(toHex(hmacSha1({}, {})), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
  EXPECT_EQ(toHex(hmacSha256({}, {})), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  EXPECT_EQ(toHex(hmacSha1(asBytes("Jefe"), asBytes("what do ya want for nothing?"))),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(Integrity, AlternatingKeysAndAlgorithmsOnOneThread) {
  // RFC 4231 test case 1 (key 20 x 0x0b, "Hi There") and test case 2 ("Jefe"), interleaved with SHA-1,
  // MD5 and SHA-256 digests: each call stands alone.
  const Bytes k1(20, 0x0b);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(toHex(hmacSha256(k1, asBytes("Hi There"))),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(toHex(md5(asBytes("abc"))), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(toHex(hmacSha256(asBytes("Jefe"), asBytes("what do ya want for nothing?"))),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(toHex(hmacSha1(k1, asBytes("Hi There"))), "b617318655057264e28bc0b6fb378c8ef146be00");  // RFC 2202
    EXPECT_EQ(toHex(sha256(asBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}

TEST(Integrity, ConcurrentThreadsGetTheKnownAnswers) {
  // Workers hash at the same time, each with contexts of its own: every result must be the published one.
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&wrong] {
      for (int i = 0; i < 500; ++i) {
        if (toHex(hmacSha1(asBytes("Jefe"), asBytes("what do ya want for nothing?"))) !=
                "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" ||
            toHex(md5(asBytes("abc"))) != "900150983cd24fb0d6963f7d28e17f72") {
          ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// The keyed states each thread keeps (a few keys, evicted in turn, keys longer than a block hashed first):
// against OpenSSL's own one-shot HMAC(), keys of every length 0-100 interleaved so that lookups hit, miss,
// evict and meet keys of one length with other bytes; the buffer form gives the same MAC as the Bytes one.
TEST(Integrity, HmacKeyedStatesMatchOpenSslsHmacForEveryKeyLength) {
  std::vector<Bytes> keys;
  for (size_t n = 0; n <= 100; ++n) {
    Bytes k(n);
    for (size_t i = 0; i < n; ++i) k[i] = static_cast<uint8_t>(n * 131 + i * 7);
    keys.push_back(k);
    if (n == 16 || n == 32 || n == 64) {
      k.assign(n, 0);
      if (n) k.back() = 1;
      keys.push_back(k);  // same length, other bytes
    }
  }
  const ByteSpan data = asBytes(std::string_view("a message of a few blocks, longer than sixty-four bytes, so that the "
                                              "inner hash takes more than one compression of its own"));
  int wrong = 0;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < keys.size(); ++i) {
      // i, then a key seen a little earlier (a hit while it is among the last few), then i again.
      for (size_t j : {i, i > 2 ? i - 2 : 0, i}) {
        const Bytes& k = keys[j];
        uint8_t ref1[EVP_MAX_MD_SIZE], ref256[EVP_MAX_MD_SIZE];
        unsigned n1 = 0, n256 = 0;
        static const uint8_t kNone = 0;
        HMAC(EVP_sha1(), k.empty() ? &kNone : k.data(), static_cast<int>(k.size()), data.data(), data.size(), ref1, &n1);
        HMAC(EVP_sha256(), k.empty() ? &kNone : k.data(), static_cast<int>(k.size()), data.data(), data.size(), ref256,
             &n256);
        uint8_t out1[20], out256[32];
        hmacSha1(k, data, out1);
        hmacSha256(k, data, out256);
        if (Bytes(ref1, ref1 + n1) != Bytes(out1, out1 + 20) || Bytes(ref1, ref1 + n1) != hmacSha1(k, data) ||
            Bytes(ref256, ref256 + n256) != Bytes(out256, out256 + 32) ||
            Bytes(ref256, ref256 + n256) != hmacSha256(k, data)) {
          ++wrong;
          ADD_FAILURE() << "key of " << k.size() << " bytes";
        }
      }
    }
  }
  EXPECT_EQ(wrong, 0);
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
  // 43 bytes: five 8-byte steps and a 3-byte tail (published CRC-32 of this sentence).
  EXPECT_EQ(fingerprintOf(asBytes("The quick brown fox jumps over the lazy dog")) ^ kFingerprintXor, 0x414FA339u);
  // The RFC 5769 messages (rfc5769_test.cpp) check other lengths against published FINGERPRINTs.
}

}  // namespace
}  // namespace rdv::stun
