// The hub's direct writers for envelope and ack frames give exactly the bytes of the generic JSON
// encoder (so clients, the worked example in docs/signalling.md and older hubs agree), and both
// decode back to the same frame.
#include <gtest/gtest.h>

#include <random>

#include "signalling/envelope/envelope_codec.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/hub.h"

namespace rdv::signalling {
namespace {

Envelope randomEnvelope(std::mt19937_64& rng, size_t ciphertextBytes, EnvelopeType type, uint64_t seq) {
  Envelope e;
  auto fill = [&](auto& bytes) {
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  };
  fill(e.header.from.bytes);
  fill(e.header.to.bytes);
  e.header.type = type;
  e.header.seq = seq;
  e.header.timestampMs = rng();
  fill(e.ephemeralKey);
  fill(e.nonce);
  fill(e.signature);
  e.ciphertext.resize(ciphertextBytes);
  fill(e.ciphertext);
  return e;
}

TEST(HubFrames, DirectWritersMatchTheGenericEncoder) {
  std::mt19937_64 rng(7);
  const EnvelopeType types[] = {EnvelopeType::Offer, EnvelopeType::Answer, EnvelopeType::Candidate,
                                EnvelopeType::EndOfCandidates, EnvelopeType::Bye, EnvelopeType::Message};
  const uint64_t seqs[] = {0, 1, 1700000000000000ull, UINT64_MAX};
  for (size_t size = 16; size < 40; ++size) {  // every base64 tail (size mod 3)
    for (auto type : types) {
      for (uint64_t seq : seqs) {
        const Envelope e = randomEnvelope(rng, size, type, seq);
        const std::string direct = encodeFrame(EnvelopeFrame{e});
        ASSERT_EQ(direct, encodeFrameGeneric(EnvelopeFrame{e}));
        ASSERT_EQ(encodeEnvelopeFrame(e), direct);
        auto back = decodeFrame(direct);
        ASSERT_TRUE(back.ok());
        ASSERT_EQ(std::get<EnvelopeFrame>(*back).envelope, e);
        for (auto status : {AckStatus::Delivered, AckStatus::Stored}) {
          const AckFrame ack{e.header.to, seq, status};
          ASSERT_EQ(encodeFrame(ack), encodeFrameGeneric(ack));
        }
      }
    }
  }
  const Envelope large = randomEnvelope(rng, 65536, EnvelopeType::Message, 9);
  EXPECT_EQ(encodeEnvelopeFrame(large), encodeFrameGeneric(EnvelopeFrame{large}));
  EXPECT_LE(encodeEnvelopeFrame(large).size(), maxEnvelopeFrameBytes(65536));
}

}  // namespace
}  // namespace rdv::signalling
