#include "tests/vectors/interop_vectors.h"

#include <deque>

#include "rendezvous/enr/base64url.h"
#include "rendezvous/enr/enr_builder.h"
#include "rendezvous/enr/rlp.h"
#include "rendezvous/identity/api_signature.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/registry/unregister_message.h"
#include "signalling/envelope/envelope_codec.h"
#include "signalling/hub/auth.h"
#include "signalling/hub/frames.h"

namespace rdv::vectors {

namespace {

using Json = nlohmann::json;
namespace sig = rdv::signalling;

// The keys of docs/signalling.md's worked example, and one more (EIP-778's example key is the second).
constexpr const char* kSecrets[] = {
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291",
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",  // n - 1, the largest key
};

identity::PrivateKey key(const char* hex) { return *identity::PrivateKey::fromHex(hex); }

Bytes hexBytes(std::string_view hex) {
  Bytes b;
  fromHex(hex, b);
  return b;
}

// Hands out exactly the bytes it was given (then fails).
class FixedRng final : public sig::Rng {
 public:
  explicit FixedRng(std::string_view hex) {
    const Bytes b = hexBytes(hex);
    queue_.assign(b.begin(), b.end());
  }
  bool fill(std::span<uint8_t> out) override {
    if (out.size() > queue_.size()) return false;
    for (auto& byte : out) {
      byte = queue_.front();
      queue_.pop_front();
    }
    return true;
  }

 private:
  std::deque<uint8_t> queue_;
};

Bytes pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
  return b;
}

const char* rlpErrorCode(enr::RlpError e) {
  switch (e) {
    case enr::RlpError::Empty: return "empty";
    case enr::RlpError::Truncated: return "truncated";
    case enr::RlpError::NonCanonicalSingle: return "non-canonical-single";
    case enr::RlpError::NonCanonicalLength: return "non-canonical-length";
    case enr::RlpError::LeadingZeroLength: return "leading-zero-length";
    case enr::RlpError::LengthOverflow: return "length-overflow";
    case enr::RlpError::TrailingBytes: return "trailing-bytes";
    case enr::RlpError::TooDeep: return "too-deep";
    case enr::RlpError::ExpectedList: return "expected-list";
    case enr::RlpError::ExpectedString: return "expected-string";
    case enr::RlpError::LeadingZeroInteger: return "leading-zero-integer";
    case enr::RlpError::IntegerTooLarge: return "integer-too-large";
  }
  return "unknown";
}

const char* enrErrorCode(enr::EnrError e) {
  switch (e) {
    case enr::EnrError::MissingPrefix: return "missing-prefix";
    case enr::EnrError::BadBase64: return "bad-base64";
    case enr::EnrError::TooLarge: return "too-large";
    case enr::EnrError::MalformedRlp: return "malformed-rlp";
    case enr::EnrError::NotAList: return "not-a-list";
    case enr::EnrError::BadShape: return "bad-shape";
    case enr::EnrError::BadSeq: return "bad-seq";
    case enr::EnrError::KeysNotSorted: return "keys-not-sorted";
    case enr::EnrError::DuplicateKey: return "duplicate-key";
    case enr::EnrError::MissingId: return "missing-id";
    case enr::EnrError::UnsupportedScheme: return "unsupported-scheme";
    case enr::EnrError::MissingPublicKey: return "missing-public-key";
    case enr::EnrError::BadPublicKey: return "bad-public-key";
    case enr::EnrError::BadSignature: return "bad-signature";
    case enr::EnrError::InvalidValue: return "invalid-value";
    case enr::EnrError::SigningFailed: return "signing-failed";
  }
  return "unknown";
}

Json keys() {
  Json out = Json::array();
  for (const char* s : kSecrets) {
    const auto k = key(s);
    out.push_back({{"secret", s},
                   {"public_compressed", toHex(k.publicKey().compressed())},
                   {"public_uncompressed", toHex(k.publicKey().uncompressed())},
                   {"node_id", k.nodeId().hex()}});
  }
  return out;
}

Json keccak() {
  Json out = Json::array();
  for (const Bytes& input : {Bytes{}, Bytes(asBytes("abc").begin(), asBytes("abc").end()), pattern(135), pattern(136),
                             pattern(137), pattern(500)}) {
    out.push_back({{"input", toHex(input)}, {"hash", toHex(identity::keccak256(input))}});
  }
  return out;
}

// Deterministic (RFC 6979) signatures: 64-byte r||s and 65-byte r||s||v over digests.
Json signatures() {
  Json out = Json::array();
  int i = 0;
  for (const char* s : kSecrets) {
    const auto k = key(s);
    const auto digest = identity::keccak256(asBytes("rdv interop digest " + std::to_string(i++)));
    out.push_back({{"secret", s},
                   {"digest", toHex(digest)},
                   {"signature", toHex(*k.sign(digest))},
                   {"recoverable", toHex(*k.signRecoverable(digest))}});
  }
  return out;
}

Json ecdh() {
  Json out = Json::array();
  for (size_t i = 0; i + 1 < std::size(kSecrets); ++i) {
    const auto a = key(kSecrets[i]);
    const auto b = key(kSecrets[i + 1]);
    out.push_back({{"secret", kSecrets[i]},
                   {"peer_public", toHex(b.publicKey().compressed())},
                   {"x", toHex(*a.ecdh(b.publicKey()))}});
  }
  return out;
}

Json rlp() {
  Json strings = Json::array();
  for (const Bytes& s : {Bytes{}, Bytes{0x00}, Bytes{0x7f}, Bytes{0x80}, Bytes{0xff}, pattern(55), pattern(56), pattern(300),
                         Bytes(asBytes("dog").begin(), asBytes("dog").end())}) {
    Bytes enc;
    enr::encodeString(enc, s);
    strings.push_back({{"bytes", toHex(s)}, {"encoded", toHex(enc)}});
  }
  Json uints = Json::array();
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{255}, uint64_t{256},
                     uint64_t{1024}, uint64_t{0xFFFFFFFF}, uint64_t{1} << 53, ~uint64_t{0}}) {
    Bytes enc;
    enr::encodeUint(enc, v);
    uints.push_back({{"value", std::to_string(v)}, {"encoded", toHex(enc)}});
  }
  // Lists of the strings "cat", "dog" (short) and of 20 copies of "abcd" (payload 100: long form),
  // and [[], [[]], [[], [[]]]] (the set-theoretic three).
  Json lists = Json::array();
  {
    Bytes payload, enc;
    enr::encodeString(payload, asBytes("cat"));
    enr::encodeString(payload, asBytes("dog"));
    enr::encodeList(enc, payload);
    lists.push_back({{"items", {"636174", "646f67"}}, {"encoded", toHex(enc)}});
    Bytes longPayload, longEnc;
    Json items = Json::array();
    for (int i = 0; i < 20; ++i) {
      enr::encodeString(longPayload, asBytes("abcd"));
      items.push_back("61626364");
    }
    enr::encodeList(longEnc, longPayload);
    lists.push_back({{"items", items}, {"encoded", toHex(longEnc)}});
  }
  Json nested = {{"encoded", "c7c0c1c0c3c0c1c0"}};
  auto decodedNested = enr::decodeItem(hexBytes("c7c0c1c0c3c0c1c0"));
  nested["valid"] = decodedNested.ok();
  // Encodings a strict decoder must refuse, with the C++ decoder's reason.
  Json invalid = Json::array();
  Bytes deepBytes;  // 17 nested lists: c0 wrapped 16 times
  deepBytes.push_back(0xc0);
  for (int i = 0; i < 16; ++i) {
    Bytes wrapped;
    enr::encodeList(wrapped, deepBytes);
    deepBytes = wrapped;
  }
  for (const std::string& hex : {std::string(""), std::string("8100"), std::string("817f"), std::string("b800"),
                                 std::string("b80100"), std::string("b90037") + std::string(110, '0'),
                                 std::string("83646f"), std::string("c38363"), std::string("826f6b00"),
                                 std::string("f800"), std::string("c0c0"), toHex(deepBytes)}) {
    auto r = enr::decodeItem(hexBytes(hex));
    invalid.push_back({{"encoded", hex}, {"error", r.ok() ? "accepted" : rlpErrorCode(r.error())}});
  }
  Json badUints = Json::array();
  for (const std::string& hex : {std::string("820001"), std::string("89010000000000000000"), std::string("c0")}) {
    const Bytes raw = hexBytes(hex);  // the decoded item is a view into it
    auto item = enr::decodeItem(raw);
    auto v = enr::decodeUint(*item);
    badUints.push_back({{"encoded", hex}, {"error", v.ok() ? "accepted" : rlpErrorCode(v.error())}});
  }
  return {{"strings", strings}, {"uints", uints}, {"lists", lists}, {"nested", nested},
          {"invalid", invalid}, {"invalid_uints", badUints}};
}

Json base64url() {
  Json out = Json::array();
  for (size_t n : {0, 1, 2, 3, 4, 5, 32, 65}) {
    const Bytes b = pattern(n);
    out.push_back({{"bytes", toHex(b)}, {"text", enr::base64UrlEncode(b)}});
  }
  Json invalid = Json::array();
  for (const char* t : {"A", "AB==", "AB+/", "AB C", "AB", "AAB", "_w"}) {
    invalid.push_back({{"text", t}, {"valid", enr::base64UrlDecode(t).has_value()}});
  }
  return {{"valid", out}, {"checked", invalid}};
}

Json enrCase(const char* secret, uint64_t seq, const Json& fields, enr::EnrBuilder b) {
  b.setSeq(seq);
  const auto record = *b.sign(key(secret));
  return {{"secret", secret},
          {"seq", seq},
          {"fields", fields},
          {"text", record.toText()},
          {"rlp", toHex(record.encoded())},
          {"content", toHex(record.content())},
          {"node_id", record.nodeId().hex()}};
}

Json enrs() {
  Json valid = Json::array();
  {
    enr::EnrBuilder b;
    b.setIp({127, 0, 0, 1}).setUdp(30303);
    valid.push_back(enrCase(kSecrets[1], 1, {{"ip", "127.0.0.1"}, {"udp", 30303}}, b));  // EIP-778's example
  }
  valid.push_back(enrCase(kSecrets[0], 1, Json::object(), enr::EnrBuilder()));
  {
    enr::EnrBuilder b;
    std::array<uint8_t, 16> ip6{0x20, 0x01, 0x0d, 0xb8};
    ip6[15] = 1;
    b.setIp({198, 51, 100, 7}).setIp6(ip6).setTcp(443).setUdp(3478).setTcp6(8080).setUdp6(65535);
    b.setText("mbx", "http://198.51.100.7:8080").setText("nat", "eim/apdf").setBytes("direct", Bytes{0x01});
    valid.push_back(enrCase(kSecrets[2], 1764806400,
                            {{"ip", "198.51.100.7"}, {"ip6", "2001:db8::1"}, {"tcp", 443}, {"udp", 3478},
                             {"tcp6", 8080}, {"udp6", 65535},
                             {"set", {{"mbx", "http://198.51.100.7:8080"}, {"nat", "eim/apdf"}, {"direct", "0x01"}}}},
                            b));
  }
  {
    enr::EnrBuilder b;
    b.setUdp(0).setText("api", "https://rdv.example:8443");
    valid.push_back(enrCase(kSecrets[3], 0xFFFFFFFFFFFFull, {{"udp", 0}, {"set", {{"api", "https://rdv.example:8443"}}}}, b));
  }
  // Texts a decoder must refuse, with the reason.
  const std::string good = valid[0]["text"].get<std::string>();
  std::string flipped = good;
  flipped[20] = flipped[20] == 'A' ? 'B' : 'A';  // inside the signature
  std::string body = good.substr(4);
  Json invalid = Json::array();
  for (const std::string& t : {body, "enr:" + body + "=", "enr:" + body.substr(0, body.size() - 1) + "+", flipped,
                               std::string("enr:") + std::string(401, 'A'), std::string("enr:wA")}) {
    auto r = enr::EnrRecord::fromText(t);
    invalid.push_back({{"text", t}, {"error", r.ok() ? "accepted" : enrErrorCode(r.error())}});
  }
  return {{"valid", valid}, {"invalid", invalid}};
}

Json rdvSig() {
  const auto peer = key(kSecrets[0]);
  const auto node = key(kSecrets[1]);
  const int64_t unixTime = 1700000000;
  const auto digest = identity::apiRequestDigest(identity::kIceServersDomain, node.nodeId(), unixTime);
  const auto s = *peer.signRecoverable(digest);
  return {{"secret", kSecrets[0]},
          {"domain", identity::kIceServersDomain},
          {"node_id", node.nodeId().hex()},
          {"unix_time", unixTime},
          {"digest", toHex(digest)},
          {"authorization", "RDV-Sig " + peer.nodeId().hex() + ":" + std::to_string(unixTime) + ":" + toHex(s)}};
}

// DELETE /v1/registrations (docs/registry.md, "Unregistering"): rdv-unregister-v2 binds the seq and
// a unix time in milliseconds.
Json unregister() {
  const auto peer = key(kSecrets[0]);
  const int64_t time = 1764806400123;
  const auto digest = registry::unregisterDigest("rdv-demo", peer.nodeId(), 7, time);
  return {{"secret", kSecrets[0]},
          {"tag", registry::kUnregisterTag},
          {"namespace", "rdv-demo"},
          {"node_id", peer.nodeId().hex()},
          {"seq", 7},
          {"time", time},
          {"digest", toHex(digest)},
          {"signature", toHex(*peer.sign(digest))}};
}

// POST /v1/registrations (docs/registry.md, "Proof of possession"): the record's own key signs
// rdv-register-v1 over the namespace, keccak256 of the record's RLP, the ttl asked (0: the node's
// default) and a unix time in milliseconds.
Json registration() {
  Json out = Json::array();
  struct Case {
    const char* secret;
    const char* ns;
    uint64_t ttl;
    int64_t time;
  };
  for (const Case& c : {Case{kSecrets[0], "rdv-demo", 600, 1764806400123}, Case{kSecrets[2], "waku/2/rs/0/1", 0, 1},
                        Case{kSecrets[3], "n", 86400, 9007199254740991}}) {
    const auto k = key(c.secret);
    enr::EnrBuilder b;
    b.setSeq(1764806400).setIp({198, 51, 100, 7}).setUdp(3478);
    const auto record = *b.sign(k);
    const auto digest = registry::registerDigest(c.ns, record.encoded(), c.ttl, c.time);
    out.push_back({{"secret", c.secret},
                   {"tag", registry::kRegisterTag},
                   {"namespace", c.ns},
                   {"enr", record.toText()},
                   {"record_hash", toHex(identity::keccak256(record.encoded()))},
                   {"ttl", c.ttl},
                   {"time", c.time},
                   {"digest", toHex(digest)},
                   {"signature", toHex(*k.sign(digest))}});
  }
  return out;
}

Json envelopeCase(const char* from, const char* to, const std::string& ephemeral, const std::string& nonce,
                  sig::EnvelopeType type, uint64_t seq, uint64_t ts, const std::string& body) {
  const auto sender = key(from);
  const auto recipient = key(to);
  FixedRng rng(ephemeral + nonce);
  sig::EnvelopeHeader h{sender.nodeId(), recipient.nodeId(), type, seq, ts};
  const auto e = *sig::seal(sender, recipient.publicKey(), h, asBytes(body), rng);
  return {{"sender_secret", from},
          {"recipient_secret", to},
          {"random", ephemeral + nonce},
          {"type", sig::typeName(type)},
          {"seq", seq},
          {"ts", ts},
          {"body", body},
          {"header", toHex(sig::encodeHeader(h))},
          {"digest", toHex(sig::signingDigest(e))},
          {"binary", toHex(sig::encodeBinary(e))},
          {"json", sig::toJsonText(e)},
          {"frame", sig::encodeFrame(sig::EnvelopeFrame{e})}};
}

Json envelopes() {
  Json out = Json::array();
  out.push_back(envelopeCase(kSecrets[0], kSecrets[1], kSecrets[2], "000102030405060708090a0b", sig::EnvelopeType::Offer, 1,
                             1700000000000, "hello bob"));
  // A data-channel offer as the browser package sends it (docs/web.md), a long seq from the clock.
  out.push_back(envelopeCase(
      kSecrets[1], kSecrets[0], kSecrets[3], "ffffffffffffffffffffffff", sig::EnvelopeType::Offer, 1764806400123000,
      1764806400123,
      R"({"session":"3f9a","gen":0,"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n","kind":"webrtc"})"));
  out.push_back(envelopeCase(kSecrets[2], kSecrets[0], "1111111111111111111111111111111111111111111111111111111111111111",
                             "222222222222222222222222", sig::EnvelopeType::Message, 9007199254740991, 1,
                             "gr\xc3\xbc\xc3\x9f dich \xf0\x9f\x91\x8b"));
  out.push_back(envelopeCase(kSecrets[0], kSecrets[2], kSecrets[1], "0a0b0c0d0e0f101112131415", sig::EnvelopeType::Bye, 2,
                             1700000000001, ""));
  return out;
}

Json hubAuth() {
  const auto hub = key(kSecrets[2]);
  const auto client = key(kSecrets[0]);
  sig::ChallengeNonce nonce;
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(i);
  const auto s = *sig::signChallenge(client, hub.nodeId(), nonce);
  return {{"hub_secret", kSecrets[2]},
          {"hub_id", hub.nodeId().hex()},
          {"nonce", toHex(nonce)},
          {"client_secret", kSecrets[0]},
          {"digest", toHex(sig::authDigest(hub.nodeId(), nonce, client.nodeId()))},
          {"challenge_frame", sig::encodeFrame(sig::ChallengeFrame{hub.nodeId(), nonce, 30000})},
          {"auth_frame", sig::encodeFrame(sig::AuthFrame{client.nodeId(), s})}};
}

Json frames() {
  const auto a = key(kSecrets[0]).nodeId();
  const auto b = key(kSecrets[1]).nodeId();
  Json out = Json::array();
  for (const sig::Frame& f :
       {sig::Frame{sig::WelcomeFrame{a, 3}}, sig::Frame{sig::AckFrame{b, 1764806400123000, sig::AckStatus::Stored}},
        sig::Frame{sig::AckFrame{b, 2, sig::AckStatus::Delivered}},
        sig::Frame{sig::ErrorFrame{"recipient-mailbox-full", "recipient has 256 envelopes waiting", b, 5}},
        sig::Frame{sig::ErrorFrame{"bad-frame", "the frame is not JSON", std::nullopt, std::nullopt}},
        sig::Frame{sig::ReceivedFrame{b, 42}}, sig::Frame{sig::PathReportFrame{"relayed", "relay", "host"}}}) {
    out.push_back(sig::encodeFrame(f));
  }
  return out;
}

}  // namespace

Json interopVectors() {
  return {{"about", "Shared by tests/vectors/interop_vectors_test.cpp and signalling/web/test (npm test); made by "
                    "build/tests/rdv-make-interop-vectors > tests/vectors/interop.json"},
          {"keys", keys()},
          {"keccak256", keccak()},
          {"signatures", signatures()},
          {"ecdh", ecdh()},
          {"rlp", rlp()},
          {"base64url", base64url()},
          {"enr", enrs()},
          {"rdv_sig", rdvSig()},
          {"registration", registration()},
          {"unregister", unregister()},
          {"envelopes", envelopes()},
          {"hub_auth", hubAuth()},
          {"frames", frames()}};
}

}  // namespace rdv::vectors
