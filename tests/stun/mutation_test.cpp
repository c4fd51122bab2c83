// Deterministic mutation test: 200k mutated, truncated, re-framed and random inputs through every entry
// point (exercise.h). Fixed seed, so a failure reproduces; run under ASan/UBSan with -DRDV_SANITIZE=ON.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "stun/integrity.h"
#include "tests/stun/exercise.h"
#include "tests/stun/test_util.h"

namespace rdv::stun {
namespace {

std::vector<Bytes> seeds() {
  std::vector<Bytes> s;
  s.push_back(test::hex(
      "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c69656e74002400046e0001ff"
      "80290008932ff9b151263b36000600096576746a3a68367659202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249"
      "c1b571a280280004e57a3bcf"));
  s.push_back(test::hex(
      "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f7220002000140002a1470113a9fa"
      "a5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784c97c8292c275bfe3ed4180280004c8fb0b4c"));
  MessageBuilder b(Method::Allocate, Class::Request, test::tidOf(1));
  const PasswordAlgorithm algs[] = {PasswordAlgorithm::Md5, PasswordAlgorithm::Sha256};
  const uint16_t unknown[] = {1, 2, 3};
  b.addXorAddress(attr::XorPeerAddress, test::ep("[2001:db8::1]:9")).addXorAddress(attr::XorPeerAddress, test::ep("1.2.3.4:5"));
  b.addErrorCode(438).addUnknownAttributes(unknown).addChannelNumber(0x4001).addRequestedTransport(17);
  b.addEvenPort(true).addChangeRequest({true, true}).addResponsePort(9).addPasswordAlgorithms(algs);
  b.addPasswordAlgorithm(PasswordAlgorithm::Sha256).addRequestedAddressFamily(Family::V6).addPadding(5);
  b.addAddress(attr::OtherAddress, test::ep("1.2.3.4:5")).addString(attr::Username, "u");
  b.addMessageIntegrity(Bytes{1, 2, 3}).addMessageIntegritySha256(Bytes{1, 2, 3}).addFingerprint();
  s.push_back(b.bytes());
  MessageBuilder bind(Method::Binding, Class::Request, test::tidOf(2));
  bind.addChangeRequest({false, true}).addFingerprint();
  s.push_back(bind.bytes());
  Bytes cd;
  appendChannelData(cd, 0x4001, Bytes(13, 7), true);
  s.push_back(cd);
  return s;
}

// Rewrites the header length to match the buffer and, half the time, re-seals the FINGERPRINT, so that
// mutations reach attribute parsing and the getters instead of stopping at the framing checks.
void reframe(Bytes& b, std::mt19937_64& rng) {
  if (b.size() < kHeaderSize) return;
  b.resize(kHeaderSize + ((b.size() - kHeaderSize) & ~size_t{3}));
  b[0] &= 0x3F;
  storeBe16(b.data() + 2, static_cast<uint16_t>(b.size() - kHeaderSize));
  if (b.size() >= kHeaderSize + 8 && (rng() & 1) && loadBe16(b.data() + b.size() - 8) == attr::Fingerprint) {
    storeBe32(b.data() + b.size() - 4, fingerprintOf(ByteSpan(b).first(b.size() - 8)));
  }
}

Bytes mutate(const std::vector<Bytes>& pool, std::mt19937_64& rng, uint64_t i) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  Bytes b = pool[pick(pool.size())];
  switch (i % 6) {
    case 0:  // bit flips
      for (size_t k = 0, n = 1 + pick(4); k < n && !b.empty(); ++k) b[pick(b.size())] ^= static_cast<uint8_t>(1u << pick(8));
      break;
    case 1:  // truncation
      b.resize(pick(b.size() + 1));
      break;
    case 2:  // random bytes of random length
      b.resize(pick(200));
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      break;
    case 3:  // overwrite bytes, then fix the framing
      for (size_t k = 0, n = 1 + pick(8); k < n && !b.empty(); ++k) b[pick(b.size())] = static_cast<uint8_t>(rng());
      reframe(b, rng);
      break;
    case 4: {  // a valid header followed by random TLVs with plausible types and lengths
      b.resize(kHeaderSize);
      b[0] = static_cast<uint8_t>(rng() & 0x3F);
      storeBe32(b.data() + 4, (rng() % 4) ? kMagicCookie : static_cast<uint32_t>(rng()));
      for (size_t k = 0, n = pick(12); k < n; ++k) {
        const uint16_t types[] = {1, 3, 6, 8, 9, 0xA, 0xC, 0xD, 0x12, 0x13, 0x17, 0x18, 0x19, 0x1C, 0x1D, 0x20,
                                  0x26, 0x27, 0x8000, 0x8002, 0x8022, 0x8028, 0x802B, 0x802C};
        appendBe16(b, types[pick(std::size(types))]);
        const size_t len = pick(24);
        appendBe16(b, static_cast<uint16_t>(len));
        for (size_t j = 0; j < ((len + 3) & ~size_t{3}); ++j) b.push_back(static_cast<uint8_t>(rng()));
      }
      reframe(b, rng);
      break;
    }
    default: {  // splice two seeds (stream framing with back-to-back frames)
      const Bytes& other = pool[pick(pool.size())];
      b.insert(b.end(), other.begin(), other.begin() + static_cast<long>(pick(other.size() + 1)));
      break;
    }
  }
  return b;
}

TEST(Mutation, TwoHundredThousandInputs) {
  std::mt19937_64 rng(0x5EED5EEDull);
  const std::vector<Bytes> pool = seeds();
  size_t parsed = 0;
  for (uint64_t i = 0; i < 200000; ++i) {
    const Bytes input = mutate(pool, rng, i);
    ASSERT_TRUE(test::exerciseOne(input)) << "input " << i << ": " << toHex(input);
    parsed += MessageView::parse(input).ok();
  }
  // Enough inputs got past the framing checks to exercise the getters.
  EXPECT_GT(parsed, 20000u);
  std::printf("mutation: %zu of 200000 inputs parsed as STUN\n", parsed);
}

}  // namespace
}  // namespace rdv::stun
