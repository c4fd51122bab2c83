// Envelope version 2, the compact envelope (docs/signalling.md, "Version 2: compact envelopes"): one
// byte string that both framings carry unchanged,
//
//   head (1: 0x20 | 0x08 if short `to` | type) || to (8 or 32) || seq (8, BE) || nonce (8)
//   || ct (body || 16-byte GCM tag) || sig (64: r || s, recovery bit in the top bit of s, EIP-2098)
//
// The sender is not carried: it is the id of the key the signature recovers to (verify() fills
// header.from). Encryption is static-static: key = HKDF-SHA256(ECDH(sender, recipient).x,
// salt = kHkdfSaltV2, info = kHkdfInfoV2 || from || full to || head || seq || nonce), one key per
// envelope, AES-256-GCM with a zero nonce and aad = the bytes before ct. seal/verify/open of envelope.h
// handle both versions; this header has v2's sealing and its wire bytes.
#pragma once

#include "signalling/envelope/envelope.h"

namespace rdv::signalling {

inline constexpr uint8_t kEnvelopeVersion2 = 2;
inline constexpr uint8_t kV2ShortToFlag = 0x08;
inline constexpr size_t kShortToSize = 8;
inline constexpr size_t kV2NonceSize = 8;
inline constexpr size_t kCompactSignatureSize = 64;
// head + to + seq + nonce + sig around the ciphertext: 89 bytes with a short `to`, 113 with a full one.
inline constexpr size_t kV2FixedShort = 1 + kShortToSize + 8 + kV2NonceSize + kCompactSignatureSize;
inline constexpr size_t kV2FixedFull = kV2FixedShort - kShortToSize + 32;

inline constexpr std::string_view kSignatureDomainV2 = "rdv-signal-envelope-v2";
inline constexpr std::string_view kHkdfSaltV2 = "rdv-signal-hkdf-salt-v2";
inline constexpr std::string_view kHkdfInfoV2 = "rdv-signal-hkdf-info-v2";

// Seals a v2 envelope from `sender` to `recipient` (header.timestampMs is ignored: v2 has none).
// `shortTo`: carry only the first 8 bytes of the recipient's id. Draws 8 bytes (nonce) from `rng`.
// CryptoFailed in the ~2^-128 case of a recovery id above 1 (not expressible in 64 bytes).
Result<Envelope, EnvelopeError> sealV2(const identity::PrivateKey& sender, const identity::PublicKey& recipient,
                                       EnvelopeType type, uint64_t seq, ByteSpan body, Rng& rng, bool shortTo = true);

// The wire bytes of a v2 envelope, and back (shapes only: head, sizes, the signature's form; verify()
// checks the signature and fills header.from).
Bytes encodeV2(const Envelope& e);
Result<Envelope, EnvelopeError> decodeV2(ByteSpan in);

// The v2 signing digest: keccak256(kSignatureDomainV2 || encodeV2(e) without its last 64 bytes).
identity::Hash256 signingDigestV2(const Envelope& e);

// The parts envelope.cpp's verify()/open() use for v2.
Result<identity::PublicKey, EnvelopeError> recoverV2(const Envelope& e);
Result<Bytes, EnvelopeError> openV2(const Envelope& e, const identity::PublicKey& sender,
                                    const identity::PrivateKey& recipient);

// The 64-byte form of a recoverable signature with recovery id 0 or 1 (EIP-2098: the id in the top bit
// of s, which low-S leaves free), and back. compactSignature() of a recovery id above 1 is meaningless:
// callers check (*sig)[64] <= 1 first.
std::array<uint8_t, kCompactSignatureSize> compactSignature(const identity::RecoverableSignature& sig);
identity::RecoverableSignature expandSignature(ByteSpan sig64);

// Does `id` match the envelope's `to` as carried (all 32 bytes, or the first 8 with shortTo)?
bool recipientMatches(const Envelope& e, const NodeId& id);

}  // namespace rdv::signalling
