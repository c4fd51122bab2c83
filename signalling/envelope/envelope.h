// Signed, end-to-end-encrypted signalling envelopes (docs/signalling.md has the byte layout and a
// worked example).
//
//   seal():   fresh ephemeral secp256k1 key e; shared = ECDH(e, recipient).x;
//             key = HKDF-SHA256(shared, salt = kHkdfSalt, info = kHkdfInfo || from || to || type || seq || epk);
//             ct = AES-256-GCM(key, 12-byte random nonce, aad = header bytes, body) || tag;
//             sig = recoverable secp256k1 signature by the sender over
//                   keccak256(kSignatureDomain || header || epk || nonce || ct).
//   verify(): recovers the signer from sig and checks its node id is the "from" field. Needs no
//             recipient key, so the hub runs it on every envelope it routes.
//   open():   the recipient (after its ReplayGuard accepted the sequence) derives the key and
//             authenticates + decrypts.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "rendezvous/identity/node_id.h"
#include "rendezvous/identity/private_key.h"
#include "rendezvous/identity/public_key.h"
#include "signalling/envelope/crypto.h"
#include "signalling/envelope/envelope_error.h"
#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

namespace rdv::signalling {

using identity::NodeId;

inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kHeaderSize = 1 + 1 + 32 + 32 + 8 + 8;  // version, type, from, to, seq, ts
inline constexpr size_t kEphemeralKeySize = 33;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kSignatureSize = 65;
// Bound on ciphertext (body + 16-byte tag) any envelope may carry; the hub applies its own,
// usually smaller, limit on top.
inline constexpr size_t kMaxCiphertextSize = 256 * 1024;

inline constexpr std::string_view kSignatureDomain = "rdv-signal-envelope-v1";
inline constexpr std::string_view kHkdfSalt = "rdv-signal-hkdf-salt-v1";
inline constexpr std::string_view kHkdfInfo = "rdv-signal-hkdf-info-v1";

enum class EnvelopeType : uint8_t {
  Offer = 1,
  Answer = 2,
  Candidate = 3,
  EndOfCandidates = 4,
  Bye = 5,
  Message = 6,
};

// "offer", "answer", "candidate", "end-of-candidates", "bye", "message".
std::string_view typeName(EnvelopeType t);
std::optional<EnvelopeType> typeFromName(std::string_view name);
std::optional<EnvelopeType> typeFromByte(uint8_t b);

struct EnvelopeHeader {
  NodeId from;
  NodeId to;
  EnvelopeType type = EnvelopeType::Message;
  uint64_t seq = 0;          // per-sender, strictly increasing
  uint64_t timestampMs = 0;  // sender's wall clock, unix milliseconds

  bool operator==(const EnvelopeHeader&) const = default;
};

// version(1) || type(1) || from(32) || to(32) || seq(8, big-endian) || ts(8, big-endian): the
// AES-GCM additional data and the first part of the signed bytes.
std::array<uint8_t, kHeaderSize> encodeHeader(const EnvelopeHeader& h);

// Version 2 (envelope_v2.h, docs/signalling.md "Version 2: compact envelopes") uses the same struct:
// header.from is the signer's id (zero until verify() recovered it), header.to the full recipient id
// (with shortTo, only its first 8 bytes until the hub resolved it), timestampMs 0, ephemeralKey unused
// (zero), nonce's first 8 bytes the v2 nonce (the rest zero), signature r || s || v with v 0 or 1.
struct Envelope {
  EnvelopeHeader header;
  std::array<uint8_t, kEphemeralKeySize> ephemeralKey{};  // compressed secp256k1 point
  GcmNonce nonce{};
  Bytes ciphertext;  // encrypted body || 16-byte GCM tag
  identity::RecoverableSignature signature{};
  uint8_t version = kEnvelopeVersion;  // 1, or 2 (compact)
  bool shortTo = false;                // v2: `to` travels as its first 8 bytes

  bool operator==(const Envelope&) const = default;
};

// keccak256(kSignatureDomain || header || epk || nonce || ciphertext): what the sender signs (v1; for
// v2, keccak256(kSignatureDomainV2 || the v2 bytes before the signature), envelope_v2.h).
identity::Hash256 signingDigest(const Envelope& e);

// An envelope whose signature recovered to its "from" node id. Only verify() makes one.
class VerifiedEnvelope {
 public:
  const Envelope& envelope() const { return envelope_; }
  const EnvelopeHeader& header() const { return envelope_.header; }
  const identity::PublicKey& senderKey() const { return senderKey_; }

 private:
  friend Result<VerifiedEnvelope, EnvelopeError> verify(Envelope e);
  VerifiedEnvelope(Envelope e, identity::PublicKey key) : envelope_(std::move(e)), senderKey_(key) {}

  Envelope envelope_;
  identity::PublicKey senderKey_;
};

// header.from must be sender's node id (else SenderMismatch); body at most
// kMaxCiphertextSize - 16 bytes. Draws 32 bytes (ephemeral secret; drawn again while not a valid
// scalar) then 12 bytes (nonce) from `rng`.
Result<Envelope, EnvelopeError> seal(const identity::PrivateKey& sender, const identity::PublicKey& recipient,
                                     const EnvelopeHeader& header, ByteSpan body, Rng& rng);

// Checks the type, sizes, the ephemeral key's prefix (02/03), and that the signature recovers to
// header.from. Takes the envelope by value: move it in when it is no longer needed.
Result<VerifiedEnvelope, EnvelopeError> verify(Envelope e);

// WrongRecipient when recipient's node id is not header.to; BadEphemeralKey when epk is not a
// curve point; DecryptFailed when GCM refuses.
Result<Bytes, EnvelopeError> open(const VerifiedEnvelope& e, const identity::PrivateKey& recipient);

}  // namespace rdv::signalling
