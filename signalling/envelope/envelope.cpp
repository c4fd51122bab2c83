#include "signalling/envelope/envelope.h"

#include "signalling/envelope/envelope_v2.h"

#include <openssl/crypto.h>

#include <cstring>

namespace rdv::signalling {

namespace {

constexpr std::array<std::string_view, 6> kTypeNames = {"offer", "answer", "candidate",
                                                         "end-of-candidates", "bye", "message"};

void appendBe64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

// info = kHkdfInfo || from || to || type || seq (8, BE) || epk: binds the key to who, to whom,
// what and which, and to this ephemeral key.
Bytes hkdfInfo(const EnvelopeHeader& h, ByteSpan epk) {
  Bytes info(kHkdfInfo.begin(), kHkdfInfo.end());
  info.insert(info.end(), h.from.bytes.begin(), h.from.bytes.end());
  info.insert(info.end(), h.to.bytes.begin(), h.to.bytes.end());
  info.push_back(static_cast<uint8_t>(h.type));
  uint8_t seq[8];
  appendBe64(seq, h.seq);
  info.insert(info.end(), seq, seq + 8);
  info.insert(info.end(), epk.begin(), epk.end());
  return info;
}

// ECDH(secret, peer).x through HKDF; the raw shared secret is wiped before returning.
Result<AesKey, EnvelopeError> deriveKey(const identity::PrivateKey& secret, const identity::PublicKey& peer,
                                        const EnvelopeHeader& h, ByteSpan epk) {
  auto shared = secret.ecdh(peer);
  if (!shared) return unexpected(EnvelopeError::CryptoFailed);
  auto key = hkdfSha256(*shared, asBytes(kHkdfSalt), hkdfInfo(h, epk));
  OPENSSL_cleanse(shared->data(), shared->size());
  if (!key) return unexpected(EnvelopeError::CryptoFailed);
  return *key;
}

// A valid scalar from the Rng; a 32-byte draw is invalid with probability ~2^-128, so a few
// attempts only guard against a broken test Rng.
Result<identity::PrivateKey, EnvelopeError> drawEphemeral(Rng& rng) {
  std::array<uint8_t, 32> secret;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (!rng.fill(secret)) return unexpected(EnvelopeError::RandomFailed);
    auto key = identity::PrivateKey::fromBytes(secret);
    OPENSSL_cleanse(secret.data(), secret.size());
    if (key) return std::move(key).value();
  }
  return unexpected(EnvelopeError::RandomFailed);
}

}  // namespace

std::string_view typeName(EnvelopeType t) {
  const auto i = static_cast<size_t>(t) - 1;
  return i < kTypeNames.size() ? kTypeNames[i] : std::string_view("unknown");
}

std::optional<EnvelopeType> typeFromName(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<EnvelopeType>(i + 1);
  }
  return std::nullopt;
}

std::optional<EnvelopeType> typeFromByte(uint8_t b) {
  if (b < 1 || b > kTypeNames.size()) return std::nullopt;
  return static_cast<EnvelopeType>(b);
}

std::array<uint8_t, kHeaderSize> encodeHeader(const EnvelopeHeader& h) {
  std::array<uint8_t, kHeaderSize> out{};
  out[0] = kEnvelopeVersion;
  out[1] = static_cast<uint8_t>(h.type);
  std::memcpy(out.data() + 2, h.from.bytes.data(), 32);
  std::memcpy(out.data() + 34, h.to.bytes.data(), 32);
  appendBe64(out.data() + 66, h.seq);
  appendBe64(out.data() + 74, h.timestampMs);
  return out;
}

identity::Hash256 signingDigest(const Envelope& e) {
  if (e.version == kEnvelopeVersion2) return signingDigestV2(e);
  identity::Keccak256 k;
  k.update(asBytes(kSignatureDomain));
  k.update(encodeHeader(e.header));
  k.update(e.ephemeralKey);
  k.update(e.nonce);
  k.update(e.ciphertext);
  return k.finish();
}

Result<Envelope, EnvelopeError> seal(const identity::PrivateKey& sender, const identity::PublicKey& recipient,
                                     const EnvelopeHeader& header, ByteSpan body, Rng& rng) {
  if (header.from != sender.nodeId()) return unexpected(EnvelopeError::SenderMismatch);
  if (!typeFromByte(static_cast<uint8_t>(header.type))) return unexpected(EnvelopeError::UnknownType);
  if (body.size() > kMaxCiphertextSize - kGcmTagSize) return unexpected(EnvelopeError::BodyTooLarge);
  auto ephemeral = drawEphemeral(rng);
  if (!ephemeral) return unexpected(ephemeral.error());
  Envelope e;
  e.header = header;
  e.ephemeralKey = ephemeral->publicKey().compressed();
  if (!rng.fill(e.nonce)) return unexpected(EnvelopeError::RandomFailed);
  auto key = deriveKey(*ephemeral, recipient, header, e.ephemeralKey);
  if (!key) return unexpected(key.error());
  auto ct = aes256GcmSeal(*key, e.nonce, encodeHeader(header), body);
  OPENSSL_cleanse(key->data(), key->size());
  if (!ct) return unexpected(EnvelopeError::CryptoFailed);
  e.ciphertext = std::move(*ct);
  auto sig = sender.signRecoverable(signingDigest(e));
  if (!sig) return unexpected(EnvelopeError::CryptoFailed);
  e.signature = *sig;
  return e;
}

Result<VerifiedEnvelope, EnvelopeError> verify(Envelope e) {
  if (e.version == kEnvelopeVersion2) {
    if (!typeFromByte(static_cast<uint8_t>(e.header.type))) return unexpected(EnvelopeError::UnknownType);
    auto signer = recoverV2(e);
    if (!signer) return unexpected(signer.error());
    // The sender is whoever signed; a sender already named (the hub's connection, a stored row) must
    // be that one.
    const NodeId recovered = signer->nodeId();
    if (e.header.from != NodeId{} && e.header.from != recovered) return unexpected(EnvelopeError::SenderMismatch);
    e.header.from = recovered;
    return VerifiedEnvelope(std::move(e), *signer);
  }
  if (e.version != kEnvelopeVersion) return unexpected(EnvelopeError::UnsupportedVersion);
  if (!typeFromByte(static_cast<uint8_t>(e.header.type))) return unexpected(EnvelopeError::UnknownType);
  if (e.ciphertext.size() < kGcmTagSize) return unexpected(EnvelopeError::Malformed);
  if (e.ciphertext.size() > kMaxCiphertextSize) return unexpected(EnvelopeError::BodyTooLarge);
  // Only the prefix here: decompressing the point costs as much as a tenth of the signature
  // check, and open() parses it anyway (a bad point only spoils the sender's own envelope).
  if (e.ephemeralKey[0] != 0x02 && e.ephemeralKey[0] != 0x03) return unexpected(EnvelopeError::BadEphemeralKey);
  auto signer = identity::PublicKey::recover(signingDigest(e), e.signature);
  if (!signer) return unexpected(EnvelopeError::BadSignature);
  // A flipped bit anywhere in the signed bytes recovers some other key: the binding to "from" is
  // what makes the signature mean anything.
  if (signer->nodeId() != e.header.from) return unexpected(EnvelopeError::SenderMismatch);
  return VerifiedEnvelope(std::move(e), *signer);
}

Result<Bytes, EnvelopeError> open(const VerifiedEnvelope& v, const identity::PrivateKey& recipient) {
  const Envelope& e = v.envelope();
  if (e.version == kEnvelopeVersion2) return openV2(e, v.senderKey(), recipient);
  if (recipient.nodeId() != e.header.to) return unexpected(EnvelopeError::WrongRecipient);
  auto epk = identity::PublicKey::parse(e.ephemeralKey);
  if (!epk) return unexpected(EnvelopeError::BadEphemeralKey);
  auto key = deriveKey(recipient, *epk, e.header, e.ephemeralKey);
  if (!key) return unexpected(key.error());
  auto body = aes256GcmOpen(*key, e.nonce, encodeHeader(e.header), e.ciphertext);
  OPENSSL_cleanse(key->data(), key->size());
  if (!body) return unexpected(EnvelopeError::DecryptFailed);
  return std::move(*body);
}

}  // namespace rdv::signalling
