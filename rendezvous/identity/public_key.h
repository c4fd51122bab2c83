// A secp256k1 public key: parse (33-byte compressed or 65-byte uncompressed), serialize, verify
// 64-byte r||s signatures (low-S only), recover from 65-byte r||s||v signatures, and derive the
// node id. Every libsecp256k1 return is checked here; malformed input gives an IdentityError.
#pragma once

#include <secp256k1.h>

#include <array>
#include <cstdint>

#include "rendezvous/identity/identity_error.h"
#include "rendezvous/identity/keccak.h"
#include "rendezvous/identity/node_id.h"
#include "rendezvous/base/bytes.h"
#include "rendezvous/base/result.h"

namespace rdv::identity {

using Signature = std::array<uint8_t, 64>;             // r || s, s in the lower half of the order
using RecoverableSignature = std::array<uint8_t, 65>;  // r || s || v, v = recovery id 0..3

class PublicKey {
 public:
  static Result<PublicKey, IdentityError> parse(ByteSpan serialized);
  // Recovers the signer of `digest` from a 65-byte r||s||v signature.
  static Result<PublicKey, IdentityError> recover(const Hash256& digest, ByteSpan signature65);

  std::array<uint8_t, 33> compressed() const;
  std::array<uint8_t, 65> uncompressed() const;  // 0x04 || x || y
  NodeId nodeId() const;                          // keccak256(x || y)

  // True when `signature64` is a valid low-S r||s signature by this key over `digest`.
  bool verify(const Hash256& digest, ByteSpan signature64) const;
  // The same, telling a malformed signature apart from a wrong one.
  Result<bool, IdentityError> check(const Hash256& digest, ByteSpan signature64) const;

  const secp256k1_pubkey& raw() const { return key_; }
  bool operator==(const PublicKey& other) const { return compressed() == other.compressed(); }

 private:
  explicit PublicKey(const secp256k1_pubkey& key) : key_(key) {}
  friend class PrivateKey;

  secp256k1_pubkey key_;
};

}  // namespace rdv::identity
