#include "signalling/envelope/envelope_codec.h"

#include <cstring>
#include <optional>

#include "rendezvous/enr/base64url.h"
#include "signalling/envelope/envelope_v2.h"

namespace rdv::signalling {

namespace {

uint64_t loadBe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// Exactly 2 * N hex digits into `out`.
template <size_t N>
bool hexInto(const nlohmann::json& j, std::array<uint8_t, N>& out) {
  if (!j.is_string()) return false;
  const auto& s = j.get_ref<const std::string&>();
  Bytes raw;
  if (s.size() != 2 * N || !fromHex(s, raw) || raw.size() != N) return false;
  std::memcpy(out.data(), raw.data(), N);
  return true;
}

bool nodeIdFrom(const nlohmann::json& j, NodeId& out) { return hexInto(j, out.bytes); }

bool uintFrom(const nlohmann::json& j, uint64_t& out) {
  if (!j.is_number_unsigned()) return false;
  out = j.get<uint64_t>();
  return true;
}

// Parses the 82 header bytes (version and type checked).
Result<EnvelopeHeader, EnvelopeError> decodeHeader(const uint8_t* p) {
  if (p[0] != kEnvelopeVersion) return unexpected(EnvelopeError::UnsupportedVersion);
  auto type = typeFromByte(p[1]);
  if (!type) return unexpected(EnvelopeError::UnknownType);
  EnvelopeHeader h;
  h.type = *type;
  std::memcpy(h.from.bytes.data(), p + 2, 32);
  std::memcpy(h.to.bytes.data(), p + 34, 32);
  h.seq = loadBe64(p + 66);
  h.timestampMs = loadBe64(p + 74);
  return h;
}

std::optional<EnvelopeError> ciphertextSizeError(size_t n) {
  if (n < kGcmTagSize) return EnvelopeError::Malformed;
  if (n > kMaxCiphertextSize) return EnvelopeError::BodyTooLarge;
  return std::nullopt;
}

}  // namespace

// v2 rows: 0x02 || from (32, recovered) || to (32, the full id) || the v2 bytes.
constexpr size_t kV2RowPrefix = 1 + 32 + 32;

Bytes encodeBinary(const Envelope& e) {
  if (e.version == kEnvelopeVersion2) {
    Bytes out{kEnvelopeVersion2};
    out.insert(out.end(), e.header.from.bytes.begin(), e.header.from.bytes.end());
    out.insert(out.end(), e.header.to.bytes.begin(), e.header.to.bytes.end());
    const Bytes wire = encodeV2(e);
    out.insert(out.end(), wire.begin(), wire.end());
    return out;
  }
  Bytes out;
  out.reserve(kBinaryFixedSize + e.ciphertext.size());
  const auto header = encodeHeader(e.header);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), e.ephemeralKey.begin(), e.ephemeralKey.end());
  out.insert(out.end(), e.nonce.begin(), e.nonce.end());
  out.insert(out.end(), e.signature.begin(), e.signature.end());
  out.insert(out.end(), e.ciphertext.begin(), e.ciphertext.end());
  return out;
}

Result<Envelope, EnvelopeError> decodeBinary(ByteSpan in) {
  if (!in.empty() && in[0] == kEnvelopeVersion2) {
    if (in.size() < kV2RowPrefix) return unexpected(EnvelopeError::Malformed);
    auto e = decodeV2(in.subspan(kV2RowPrefix));
    if (!e) return unexpected(e.error());
    NodeId to;
    std::memcpy(e->header.from.bytes.data(), in.data() + 1, 32);
    std::memcpy(to.bytes.data(), in.data() + 33, 32);
    if (!recipientMatches(*e, to)) return unexpected(EnvelopeError::Malformed);
    e->header.to = to;
    return e;
  }
  if (in.size() < kHeaderSize) return unexpected(EnvelopeError::Malformed);
  auto header = decodeHeader(in.data());
  if (!header) return unexpected(header.error());
  if (in.size() < kBinaryFixedSize) return unexpected(EnvelopeError::Malformed);
  if (auto err = ciphertextSizeError(in.size() - kBinaryFixedSize)) return unexpected(*err);
  Envelope e;
  e.header = *header;
  const uint8_t* p = in.data() + kHeaderSize;
  std::memcpy(e.ephemeralKey.data(), p, kEphemeralKeySize);
  p += kEphemeralKeySize;
  std::memcpy(e.nonce.data(), p, kNonceSize);
  p += kNonceSize;
  std::memcpy(e.signature.data(), p, kSignatureSize);
  e.ciphertext.assign(in.begin() + kBinaryFixedSize, in.end());
  return e;
}

nlohmann::json toJson(const Envelope& e) {
  if (e.version == kEnvelopeVersion2) return enr::base64UrlEncode(encodeV2(e));
  return nlohmann::json{
      {"v", kEnvelopeVersion},
      {"from", e.header.from.hex()},
      {"to", e.header.to.hex()},
      {"type", typeName(e.header.type)},
      {"seq", e.header.seq},
      {"ts", e.header.timestampMs},
      {"epk", toHex(e.ephemeralKey)},
      {"nonce", toHex(e.nonce)},
      {"ct", enr::base64UrlEncode(e.ciphertext)},
      {"sig", toHex(e.signature)},
  };
}

Result<Envelope, EnvelopeError> fromJson(const nlohmann::json& j) {
  if (j.is_string()) {  // version 2: its bytes in unpadded base64url
    const auto& text = j.get_ref<const std::string&>();
    if (text.size() > ((kMaxCiphertextSize + kV2FixedFull) / 3 + 1) * 4) return unexpected(EnvelopeError::BodyTooLarge);
    auto raw = enr::base64UrlDecode(text);
    if (!raw) return unexpected(EnvelopeError::Malformed);
    return decodeV2(*raw);
  }
  if (!j.is_object()) return unexpected(EnvelopeError::Malformed);
  auto field = [&j](const char* name) -> const nlohmann::json& {
    static const nlohmann::json kMissing;
    auto it = j.find(name);
    return it == j.end() ? kMissing : *it;
  };
  const auto& v = field("v");
  if (!v.is_number_integer()) return unexpected(EnvelopeError::Malformed);
  if (!v.is_number_unsigned() || v.get<uint64_t>() != kEnvelopeVersion) {
    return unexpected(EnvelopeError::UnsupportedVersion);
  }
  const auto& type = field("type");
  if (!type.is_string()) return unexpected(EnvelopeError::Malformed);
  auto t = typeFromName(type.get_ref<const std::string&>());
  if (!t) return unexpected(EnvelopeError::UnknownType);
  Envelope e;
  e.header.type = *t;
  if (!nodeIdFrom(field("from"), e.header.from) || !nodeIdFrom(field("to"), e.header.to) ||
      !uintFrom(field("seq"), e.header.seq) || !uintFrom(field("ts"), e.header.timestampMs) ||
      !hexInto(field("epk"), e.ephemeralKey) || !hexInto(field("nonce"), e.nonce) ||
      !hexInto(field("sig"), e.signature) || !field("ct").is_string()) {
    return unexpected(EnvelopeError::Malformed);
  }
  const auto& ct = field("ct").get_ref<const std::string&>();
  // Bound the work before decoding: base64 carries 3 bytes per 4 characters.
  if (ct.size() > (kMaxCiphertextSize / 3 + 1) * 4) return unexpected(EnvelopeError::BodyTooLarge);
  auto raw = enr::base64UrlDecode(ct);
  if (!raw) return unexpected(EnvelopeError::Malformed);
  if (auto err = ciphertextSizeError(raw->size())) return unexpected(*err);
  e.ciphertext = std::move(*raw);
  return e;
}

std::string toJsonText(const Envelope& e) { return toJson(e).dump(); }

Result<Envelope, EnvelopeError> fromJsonText(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return unexpected(EnvelopeError::Malformed);
  return fromJson(j);
}

}  // namespace rdv::signalling
