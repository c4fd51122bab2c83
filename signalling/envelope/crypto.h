// Small checked wrappers over the OpenSSL primitives the envelopes use: HKDF-SHA256 (EVP_KDF
// "HKDF") and AES-256-GCM, plus the injected randomness source. Every OpenSSL return is checked
// here; callers get a bool/optional, never a half-written buffer they could mistake for output.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "rendezvous/base/bytes.h"

namespace rdv::signalling {

// Randomness is passed in (STYLE 4): seal() draws the ephemeral secret and the nonce from it, the
// hub draws challenge nonces, so tests are deterministic.
class Rng {
 public:
  virtual ~Rng() = default;
  // Fills `out` completely; false if no randomness is available.
  virtual bool fill(std::span<uint8_t> out) = 0;
};

// OpenSSL RAND_bytes.
class CryptoRng final : public Rng {
 public:
  bool fill(std::span<uint8_t> out) override;
};

using AesKey = std::array<uint8_t, 32>;
using GcmNonce = std::array<uint8_t, 12>;
inline constexpr size_t kGcmTagSize = 16;

// HKDF-SHA256 (RFC 5869, extract then expand) of `ikm` into a 32-byte key.
std::optional<AesKey> hkdfSha256(ByteSpan ikm, ByteSpan salt, ByteSpan info);

// Returns ciphertext || 16-byte tag.
std::optional<Bytes> aes256GcmSeal(const AesKey& key, const GcmNonce& nonce, ByteSpan aad, ByteSpan plaintext);
// `sealed` is ciphertext || tag; nullopt when it is shorter than a tag or fails authentication.
std::optional<Bytes> aes256GcmOpen(const AesKey& key, const GcmNonce& nonce, ByteSpan aad, ByteSpan sealed);

}  // namespace rdv::signalling
