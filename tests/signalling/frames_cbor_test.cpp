// The compact framing (signalling/hub/frames_cbor.h, subprotocol rdv.cbor.1): every frame round-trips,
// decodes to the very frame its JSON form decodes to, carries envelopes whose signatures verify and
// bodies open after the trip; malformed frames are refused with the JSON decoder's error kinds. And the
// measurement issue 17 asks for: bytes on the wire per unicast envelope, JSON vs CBOR.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "signalling/cbor/cbor.h"
#include "signalling/hub/frames.h"
#include "signalling/hub/frames_cbor.h"
#include "signalling/hub/framing.h"
#include "tests/signalling/test_support.h"

namespace rdv::signalling {
namespace {

using test::keyFromHex;

struct Sealed {
  identity::PrivateKey sender = keyFromHex(test::kSenderSecret);
  identity::PrivateKey recipient = keyFromHex(test::kRecipientSecret);
  Envelope envelope;
};

// A real envelope (sealed, signed) with a body of `bodyBytes`; seq and ts as rdv send makes them
// (ts = unix ms, seq = ts * 1000), so the sizes measured are those of real traffic.
Sealed sealed(size_t bodyBytes) {
  Sealed s;
  test::ScriptedRng rng;
  const uint64_t ts = 1'764'900'000'000ull;  // December 2025, unix ms
  EnvelopeHeader h{s.sender.nodeId(), s.recipient.nodeId(), EnvelopeType::Message, ts * 1000, ts};
  const std::string body(bodyBytes, 'x');
  s.envelope = *seal(s.sender, s.recipient.publicKey(), h, asBytes(body), rng);
  return s;
}

std::vector<Frame> everyFrame() {
  auto s = sealed(40);
  NodeId id = s.sender.nodeId();
  ChallengeNonce nonce{};
  nonce[0] = 7;
  return {
      ChallengeFrame{id, nonce, 30000},
      AuthFrame{id, s.envelope.signature},
      WelcomeFrame{id, 3},
      EnvelopeFrame{s.envelope},
      AckFrame{id, 42, AckStatus::Delivered},
      AckFrame{id, 43, AckStatus::Stored},
      ErrorFrame{"rate-limited", "too many", std::nullopt, std::nullopt},
      ErrorFrame{"bad-signature", "no", id, 99},
      ReceivedFrame{id, 1u << 20},
      PathReportFrame{"relayed", "host", "relay"},
  };
}

TEST(CborFrames, EveryFrameRoundTripsAndAgreesWithJson) {
  for (const auto& f : everyFrame()) {
    const std::string bytes = encodeFrameCbor(f);
    auto back = decodeFrameCbor(bytes);
    ASSERT_TRUE(back) << frameErrorCode(back.error()) << " for 0x" << toHex(asBytes(bytes));
    EXPECT_EQ(*back, f);
    auto viaJson = decodeFrame(encodeFrame(f));
    ASSERT_TRUE(viaJson);
    EXPECT_EQ(*viaJson, *back);
    // Deterministic: the strict decoder's value writes back to the same bytes.
    auto value = cbor::decode(asBytes(bytes));
    ASSERT_TRUE(value);
    EXPECT_EQ(cbor::encode(*value), bytes);
    EXPECT_EQ(encodeFrameAs(Framing::Cbor, f), bytes);
  }
}

TEST(CborFrames, TheSameSignedBytesVerifyAndOpenAfterEitherFraming) {
  auto s = sealed(100);
  const std::string viaCbor = encodeEnvelopeFrameCbor(s.envelope);
  EXPECT_EQ(viaCbor, encodeFrameCbor(EnvelopeFrame{s.envelope}));
  auto frame = decodeFrameCbor(viaCbor);
  ASSERT_TRUE(frame);
  const Envelope& e = std::get<EnvelopeFrame>(*frame).envelope;
  EXPECT_EQ(signingDigest(e), signingDigest(s.envelope));
  auto v = verify(e);
  ASSERT_TRUE(v);
  auto body = open(*v, s.recipient);
  ASSERT_TRUE(body);
  EXPECT_EQ(std::string(asString(*body)), std::string(100, 'x'));
  // JSON in, CBOR out (what the hub does between a JSON sender and a CBOR recipient): the same envelope.
  auto fromJson = decodeFrame(encodeEnvelopeFrame(s.envelope));
  ASSERT_TRUE(fromJson);
  EXPECT_EQ(encodeFrameCbor(*fromJson), viaCbor);
}

TEST(CborFrames, TheWorkedBytesOfAnAckFrame) {
  NodeId to;
  to.bytes.fill(0xab);
  const std::string bytes = encodeFrameCbor(AckFrame{to, 7, AckStatus::Stored});
  // {0: 5, 1: h'abab..', 2: 7, 3: 1}
  EXPECT_EQ(toHex(asBytes(bytes)), "a4" "0005" "015820" + toHex(to.bytes) + "0207" "0301");
}

TEST(CborFrames, MalformedFramesAreRefusedWithTheJsonKinds) {
  struct Case {
    const char* what;
    std::string hex;
    FrameErrorKind kind;
  };
  const std::string id(64, '1');
  const std::vector<Case> cases = {
      {"not CBOR", "ff", FrameErrorKind::NotJson},
      {"JSON text", toHex(asBytes(std::string("{\"type\":\"ack\"}"))), FrameErrorKind::NotJson},
      {"an array", "8100", FrameErrorKind::NotJson},
      {"trailing bytes", "a1000700", FrameErrorKind::NotJson},
      {"nested map", "a20007 01a0", FrameErrorKind::NotJson},
      {"no type", "a10100", FrameErrorKind::UnknownType},
      {"empty map", "a0", FrameErrorKind::UnknownType},
      {"unknown type 9", "a10009", FrameErrorKind::UnknownType},
      {"type as text", "a1006161", FrameErrorKind::UnknownType},
      {"received: short id", "a3000701581f" + std::string(62, '1') + "0201", FrameErrorKind::Malformed},
      {"received: missing seq", "a200070158 20" + id, FrameErrorKind::Malformed},
      {"received: unknown key 3", "a4000701 5820" + id + "0201 0300", FrameErrorKind::Malformed},
      {"received: text key", "a300070158 20" + id + "6173 01", FrameErrorKind::Malformed},
      {"received: negative seq", "a3000701 5820" + id + "0220", FrameErrorKind::Malformed},
      {"ack: status 2", "a4000501 5820" + id + "0201 0302", FrameErrorKind::Malformed},
      {"path-report: bad path", "a400080163666f6f 0264686f7374 0364686f7374", FrameErrorKind::Malformed},
      {"envelope: type 7", "a2000401 07", FrameErrorKind::Envelope},
      {"envelope: fields missing", "a2000401 06", FrameErrorKind::Envelope},
  };
  for (const auto& c : cases) {
    Bytes raw;
    ASSERT_TRUE(fromHex(c.hex, raw)) << c.what;
    auto f = decodeFrameCbor(asString(raw));
    ASSERT_FALSE(f) << c.what;
    EXPECT_EQ(f.error().kind, c.kind) << c.what << ": " << frameErrorCode(f.error());
  }
  // A short ciphertext is the envelope's Malformed, as in JSON.
  auto s = sealed(0);
  s.envelope.ciphertext.resize(15);
  auto f = decodeFrameCbor(encodeEnvelopeFrameCbor(s.envelope));
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().kind, FrameErrorKind::Envelope);
  EXPECT_EQ(f.error().envelope, EnvelopeError::Malformed);
}

TEST(CborFrames, SubprotocolNames) {
  EXPECT_EQ(framingOf(""), Framing::Json);
  EXPECT_EQ(framingOf("rdv.json.1"), Framing::Json);
  EXPECT_EQ(framingOf("rdv.cbor.1"), Framing::Cbor);
  EXPECT_EQ(framingOf("rdv.cbor.2"), std::nullopt);
  EXPECT_EQ(subprotocolOf(Framing::Cbor), "rdv.cbor.1");
}

// The size of a WebSocket frame header for a payload of n bytes (RFC 6455 §5.2): from the hub
// (unmasked) and from a client (+4 bytes of mask).
size_t wsHeader(size_t n, bool masked) { return (n < 126 ? 2 : n <= 0xffff ? 4 : 10) + (masked ? 4 : 0); }

// Issue 17: bytes on the wire per unicast envelope, JSON vs CBOR, overhead = everything but the body's
// ciphertext (ciphertext = body + 16-byte GCM tag; the tag counts as overhead here). The numbers are
// printed (docs/signalling.md "Compact wire" quotes them) and the CBOR bound asserted.
TEST(CborFrames, BytesOnTheWirePerUnicastEnvelope) {
  std::printf("%-6s %-10s %-10s %-14s %-14s %-10s\n", "body", "json msg", "cbor msg", "json overhead",
              "cbor overhead", "saved");
  for (size_t body : {size_t{0}, size_t{32}, size_t{100}, size_t{1000}}) {
    auto s = sealed(body);
    const size_t json = encodeEnvelopeFrame(s.envelope).size();
    const size_t cbor = encodeEnvelopeFrameCbor(s.envelope).size();
    // On the wire from the hub to the recipient: message + WebSocket header.
    const size_t jsonWire = json + wsHeader(json, false);
    const size_t cborWire = cbor + wsHeader(cbor, false);
    const size_t jsonOverhead = jsonWire - body;
    const size_t cborOverhead = cborWire - body;
    std::printf("%-6zu %-10zu %-10zu %-14zu %-14zu %-10zu\n", body, jsonWire, cborWire, jsonOverhead, cborOverhead,
                jsonWire - cborWire);
    // The envelope's fixed fields in raw bytes: from 32 + to 32 + epk 33 + nonce 12 + sig 65 + tag 16 =
    // 190 bytes, plus 1 type, 9 seq, 9 ts, the CBOR keys and heads (23) and the WebSocket header (2-4):
    // measured 235-237. Nothing is hex or base64, so it does not grow with the body (JSON's does).
    EXPECT_LE(cborOverhead, 240u) << "body " << body;
    EXPECT_LT(cborOverhead * 2, jsonOverhead) << "body " << body;
  }
}

}  // namespace
}  // namespace rdv::signalling
