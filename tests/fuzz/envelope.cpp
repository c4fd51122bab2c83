// Signalling envelopes (docs/signalling.md), as the hub and the recipient receive them. The first byte
// picks:
//   0: the binary form (the SQLite mailbox's rows): decodes -> re-encodes to the same bytes, the JSON
//      form round-trips, verify() and open() refuse or accept without crashing;
//   1: the JSON form (WebSocket frames): decodes -> JSON and binary round-trip;
//   2: seal() (v1) or sealV2() of a fuzzed header and body by a fixed sender: it verifies and opens to the body; with one
//      byte of its binary form flipped it never opens to anything else.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "signalling/envelope/envelope.h"
#include "signalling/envelope/envelope_codec.h"
#include "signalling/envelope/envelope_v2.h"
#include "tests/fuzz/check.h"
#include "tests/fuzz/fuzz_input.h"

using namespace rdv;
using namespace rdv::signalling;

namespace {

const identity::PrivateKey& senderKey() {
  static const auto k = identity::PrivateKey::fromHex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318");
  return *k;
}
const identity::PrivateKey& recipientKey() {
  static const auto k = identity::PrivateKey::fromHex("b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
  return *k;
}

// Deterministic randomness from the input (a zero stream past its end).
class InputRng final : public Rng {
 public:
  explicit InputRng(fuzz::FuzzInput& in) : in_(in) {}
  bool fill(std::span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(in_.u8() ^ ++counter_);
    return true;
  }

 private:
  fuzz::FuzzInput& in_;
  uint8_t counter_ = 0;
};

void roundTrips(const Envelope& e) {
  auto binary = decodeBinary(encodeBinary(e));
  FUZZ_CHECK(binary.ok() && *binary == e);
  // JSON carries a v2 envelope as its wire bytes, which name neither the sender (whoever signed) nor,
  // with a short `to`, the whole recipient: what must survive the framing is those signed bytes.
  auto same = [&e](const Envelope& x) { return e.version == kEnvelopeVersion2 ? encodeV2(x) == encodeV2(e) : x == e; };
  auto json = fromJsonText(toJsonText(e));
  FUZZ_CHECK(json.ok() && same(*json));
  auto dom = fromJson(toJson(e));
  FUZZ_CHECK(dom.ok() && same(*dom));
}

void verifyAndOpen(Envelope e) {
  Envelope expected = e;
  auto verified = verify(std::move(e));
  if (!verified) return;
  // A v2 envelope that names no sender gets the signer's id from verify().
  if (expected.version == kEnvelopeVersion2 && expected.header.from == NodeId{})
    expected.header.from = verified->senderKey().nodeId();
  FUZZ_CHECK(verified->envelope() == expected);
  FUZZ_CHECK(verified->senderKey().nodeId() == expected.header.from);
  (void)open(*verified, recipientKey());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const ByteSpan in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      if (auto e = decodeBinary(in)) {
        const Bytes again = encodeBinary(*e);
        FUZZ_CHECK(again.size() == in.size() && std::equal(again.begin(), again.end(), in.begin()));
        roundTrips(*e);
        verifyAndOpen(*e);
      }
      break;
    case 1:
      if (auto e = fromJsonText(asString(in))) {
        roundTrips(*e);
        verifyAndOpen(*e);
      }
      break;
    case 2: {
      fuzz::FuzzInput f(in.data(), in.size());
      EnvelopeHeader h;
      h.from = senderKey().nodeId();
      h.to = f.flag() ? recipientKey().nodeId() : senderKey().nodeId();
      h.type = typeFromByte(f.u8()).value_or(EnvelopeType::Message);
      h.seq = f.u32();
      h.timestampMs = f.u32();
      const ByteSpan body = f.bytes(2048);
      const uint16_t flipAt = f.u16();
      const uint8_t flip = f.u8();
      const bool v2 = f.flag();
      const bool shortTo = f.flag();
      InputRng rng(f);
      // v2 is always sealed to the recipient (it takes no header).
      if (v2) h.to = recipientKey().nodeId();
      auto sealed = v2 ? sealV2(senderKey(), recipientKey().publicKey(), h.type, h.seq, body, rng, shortTo)
                       : seal(senderKey(), recipientKey().publicKey(), h, body, rng);
      if (!sealed) break;
      roundTrips(*sealed);
      auto verified = verify(*sealed);
      FUZZ_CHECK(verified.ok());
      auto opened = open(*verified, recipientKey());
      if (h.to == recipientKey().nodeId()) {
        FUZZ_CHECK(opened.ok() && opened->size() == body.size() &&
                   std::equal(body.begin(), body.end(), opened->begin()));
      } else {
        FUZZ_CHECK(!opened.ok());  // WrongRecipient
      }
      // Tampering: one flipped byte anywhere never opens to something else (a v2 row keeps the whole
      // recipient id beside its short `to`: a flip in the redundant part may still open, to the same body).
      Bytes binary = encodeBinary(*sealed);
      if (flip != 0) {
        binary[flipAt % binary.size()] ^= flip;
        if (auto tampered = decodeBinary(binary)) {
          if (auto v = verify(*tampered)) {
            auto o = open(*v, recipientKey());
            FUZZ_CHECK(!o.ok() || (o->size() == body.size() && std::equal(body.begin(), body.end(), o->begin())));
          }
        }
      }
      break;
    }
  }
  return 0;
}
