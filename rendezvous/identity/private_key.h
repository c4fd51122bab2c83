// A secp256k1 private key: generate (OpenSSL RAND_bytes), load/save as 64 hex digits in a 0600
// file, sign digests (deterministic RFC 6979 nonces, low-S), recoverable signatures, and ECDH.
// The secret is wiped (OPENSSL_cleanse) when the key is destroyed.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "rendezvous/identity/identity_error.h"
#include "rendezvous/identity/keccak.h"
#include "rendezvous/identity/public_key.h"
#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

namespace rdv::identity {

class PrivateKey {
 public:
  static Result<PrivateKey, IdentityError> generate();
  static Result<PrivateKey, IdentityError> fromBytes(ByteSpan secret32);
  static Result<PrivateKey, IdentityError> fromHex(std::string_view hex);
  // Reads a file holding 64 hex digits (surrounding whitespace allowed).
  static Result<PrivateKey, IdentityError> load(const std::string& path);
  // Writes the hex key and a newline to a new file created with mode 0600; refuses to overwrite.
  Result<bool, IdentityError> save(const std::string& path) const;

  PrivateKey(const PrivateKey& other);
  PrivateKey& operator=(const PrivateKey& other);
  ~PrivateKey();

  const PublicKey& publicKey() const { return publicKey_; }
  NodeId nodeId() const { return publicKey_.nodeId(); }
  std::string hex() const;

  Result<Signature, IdentityError> sign(const Hash256& digest) const;
  Result<RecoverableSignature, IdentityError> signRecoverable(const Hash256& digest) const;
  // The x coordinate of secret * peer (32 bytes), unhashed: feed it to a KDF (e.g. HKDF-SHA256)
  // together with context; never use it as a key directly.
  Result<std::array<uint8_t, 32>, IdentityError> ecdh(const PublicKey& peer) const;

 private:
  PrivateKey(const std::array<uint8_t, 32>& secret, const PublicKey& pub) : secret_(secret), publicKey_(pub) {}

  std::array<uint8_t, 32> secret_;
  PublicKey publicKey_;
};

}  // namespace rdv::identity
