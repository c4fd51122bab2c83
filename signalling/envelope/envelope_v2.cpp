#include "signalling/envelope/envelope_v2.h"

#include <openssl/crypto.h>

#include <cstring>

namespace rdv::signalling {

namespace {

void appendBe64(Bytes& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

uint64_t loadBe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

uint8_t headOf(const Envelope& e) {
  return static_cast<uint8_t>(kEnvelopeVersion2 << 4) | (e.shortTo ? kV2ShortToFlag : 0) |
         static_cast<uint8_t>(e.header.type);
}

// head || to (as carried) || seq || nonce: the AES-GCM additional data and the start of the signed bytes.
Bytes prefixOf(const Envelope& e) {
  Bytes out;
  out.reserve(1 + 32 + 8 + kV2NonceSize);
  out.push_back(headOf(e));
  out.insert(out.end(), e.header.to.bytes.begin(), e.header.to.bytes.begin() + (e.shortTo ? kShortToSize : 32));
  appendBe64(out, e.header.seq);
  out.insert(out.end(), e.nonce.begin(), e.nonce.begin() + kV2NonceSize);
  return out;
}

// The one-message key: both full ids (so direction matters), the head, seq and the random nonce.
Result<AesKey, EnvelopeError> keyFor(const identity::PrivateKey& own, const identity::PublicKey& peer,
                                     const NodeId& from, const NodeId& to, const Envelope& e) {
  auto shared = own.ecdh(peer);
  if (!shared) return unexpected(EnvelopeError::CryptoFailed);
  Bytes info(kHkdfInfoV2.begin(), kHkdfInfoV2.end());
  info.insert(info.end(), from.bytes.begin(), from.bytes.end());
  info.insert(info.end(), to.bytes.begin(), to.bytes.end());
  info.push_back(headOf(e));
  appendBe64(info, e.header.seq);
  info.insert(info.end(), e.nonce.begin(), e.nonce.begin() + kV2NonceSize);
  auto key = hkdfSha256(*shared, asBytes(kHkdfSaltV2), info);
  OPENSSL_cleanse(shared->data(), shared->size());
  if (!key) return unexpected(EnvelopeError::CryptoFailed);
  return *key;
}

constexpr GcmNonce kZeroNonce{};  // the key is used once

}  // namespace

std::array<uint8_t, kCompactSignatureSize> compactSignature(const identity::RecoverableSignature& sig) {
  std::array<uint8_t, kCompactSignatureSize> out{};
  std::memcpy(out.data(), sig.data(), kCompactSignatureSize);
  out[32] |= static_cast<uint8_t>((sig[64] & 1) << 7);
  return out;
}

identity::RecoverableSignature expandSignature(ByteSpan sig64) {
  identity::RecoverableSignature sig{};
  std::memcpy(sig.data(), sig64.data(), kCompactSignatureSize);
  sig[64] = sig[32] >> 7;
  sig[32] &= 0x7f;
  return sig;
}

bool recipientMatches(const Envelope& e, const NodeId& id) {
  const size_t n = e.shortTo ? kShortToSize : 32;
  return std::memcmp(e.header.to.bytes.data(), id.bytes.data(), n) == 0;
}

identity::Hash256 signingDigestV2(const Envelope& e) {
  identity::Keccak256 k;
  k.update(asBytes(kSignatureDomainV2));
  k.update(prefixOf(e));
  k.update(e.ciphertext);
  return k.finish();
}

Bytes encodeV2(const Envelope& e) {
  Bytes out = prefixOf(e);
  out.reserve(out.size() + e.ciphertext.size() + kCompactSignatureSize);
  out.insert(out.end(), e.ciphertext.begin(), e.ciphertext.end());
  const size_t s = out.size();
  out.insert(out.end(), e.signature.begin(), e.signature.begin() + kCompactSignatureSize);
  out[s + 32] |= static_cast<uint8_t>((e.signature[64] & 1) << 7);  // yParity into s's top bit
  return out;
}

Result<Envelope, EnvelopeError> decodeV2(ByteSpan in) {
  if (in.empty()) return unexpected(EnvelopeError::Malformed);
  const uint8_t head = in[0];
  if ((head >> 4) != kEnvelopeVersion2) return unexpected(EnvelopeError::UnsupportedVersion);
  Envelope e;
  e.version = kEnvelopeVersion2;
  e.shortTo = (head & kV2ShortToFlag) != 0;
  auto type = typeFromByte(head & 0x07);
  if (!type) return unexpected(EnvelopeError::UnknownType);
  e.header.type = *type;
  const size_t fixed = e.shortTo ? kV2FixedShort : kV2FixedFull;
  if (in.size() < fixed + kGcmTagSize) return unexpected(EnvelopeError::Malformed);
  const size_t ct = in.size() - fixed;
  if (ct > kMaxCiphertextSize) return unexpected(EnvelopeError::BodyTooLarge);
  const size_t toSize = e.shortTo ? kShortToSize : 32;
  const uint8_t* p = in.data() + 1;
  std::memcpy(e.header.to.bytes.data(), p, toSize);
  p += toSize;
  e.header.seq = loadBe64(p);
  p += 8;
  std::memcpy(e.nonce.data(), p, kV2NonceSize);
  p += kV2NonceSize;
  e.ciphertext.assign(p, p + ct);
  p += ct;
  std::memcpy(e.signature.data(), p, kCompactSignatureSize);
  e.signature[64] = e.signature[32] >> 7;
  e.signature[32] &= 0x7f;
  return e;
}

Result<identity::PublicKey, EnvelopeError> recoverV2(const Envelope& e) {
  if (e.signature[64] > 1) return unexpected(EnvelopeError::BadSignature);
  if (e.ciphertext.size() < kGcmTagSize) return unexpected(EnvelopeError::Malformed);
  if (e.ciphertext.size() > kMaxCiphertextSize) return unexpected(EnvelopeError::BodyTooLarge);
  auto signer = identity::PublicKey::recover(signingDigestV2(e), e.signature);
  if (!signer) return unexpected(EnvelopeError::BadSignature);
  return *signer;
}

Result<Envelope, EnvelopeError> sealV2(const identity::PrivateKey& sender, const identity::PublicKey& recipient,
                                       EnvelopeType type, uint64_t seq, ByteSpan body, Rng& rng, bool shortTo) {
  if (!typeFromByte(static_cast<uint8_t>(type))) return unexpected(EnvelopeError::UnknownType);
  if (body.size() > kMaxCiphertextSize - kGcmTagSize) return unexpected(EnvelopeError::BodyTooLarge);
  Envelope e;
  e.version = kEnvelopeVersion2;
  e.shortTo = shortTo;
  e.header = EnvelopeHeader{sender.nodeId(), recipient.nodeId(), type, seq, 0};
  if (!rng.fill(std::span<uint8_t>(e.nonce.data(), kV2NonceSize))) return unexpected(EnvelopeError::RandomFailed);
  auto key = keyFor(sender, recipient, e.header.from, e.header.to, e);
  if (!key) return unexpected(key.error());
  auto sealed = aes256GcmSeal(*key, kZeroNonce, prefixOf(e), body);
  OPENSSL_cleanse(key->data(), key->size());
  if (!sealed) return unexpected(EnvelopeError::CryptoFailed);
  e.ciphertext = std::move(*sealed);
  auto sig = sender.signRecoverable(signingDigestV2(e));
  if (!sig || (*sig)[64] > 1) return unexpected(EnvelopeError::CryptoFailed);
  e.signature = *sig;
  return e;
}

Result<Bytes, EnvelopeError> openV2(const Envelope& e, const identity::PublicKey& sender,
                                    const identity::PrivateKey& recipient) {
  if (!recipientMatches(e, recipient.nodeId())) return unexpected(EnvelopeError::WrongRecipient);
  auto key = keyFor(recipient, sender, sender.nodeId(), recipient.nodeId(), e);
  if (!key) return unexpected(key.error());
  auto body = aes256GcmOpen(*key, kZeroNonce, prefixOf(e), e.ciphertext);
  OPENSSL_cleanse(key->data(), key->size());
  if (!body) return unexpected(EnvelopeError::DecryptFailed);
  return std::move(*body);
}

}  // namespace rdv::signalling
