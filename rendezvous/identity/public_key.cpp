#include "rendezvous/identity/public_key.h"

#include <secp256k1_recovery.h>

#include <cassert>

#include "rendezvous/identity/secp256k1_context.h"

namespace rdv::identity {

std::optional<NodeId> NodeId::fromBytes(ByteSpan b) {
  if (b.size() != 32) return std::nullopt;
  NodeId id;
  std::memcpy(id.bytes.data(), b.data(), 32);
  return id;
}

std::optional<NodeId> NodeId::fromHex(std::string_view hex) {
  Bytes raw;
  if (hex.size() != 64 || !rdv::fromHex(hex, raw)) return std::nullopt;
  return fromBytes(raw);
}

Result<PublicKey, IdentityError> PublicKey::parse(ByteSpan serialized) {
  if (serialized.size() != 33 && serialized.size() != 65) {
    return unexpected(IdentityError::InvalidPublicKey);
  }
  secp256k1_pubkey key;
  if (secp256k1_ec_pubkey_parse(secpContext(), &key, serialized.data(), serialized.size()) != 1) {
    return unexpected(IdentityError::InvalidPublicKey);
  }
  return PublicKey(key);
}

Result<PublicKey, IdentityError> PublicKey::recover(const Hash256& digest, ByteSpan signature65) {
  if (signature65.size() != 65 || signature65[64] > 3) return unexpected(IdentityError::InvalidSignature);
  secp256k1_ecdsa_recoverable_signature sig;
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(secpContext(), &sig, signature65.data(),
                                                          signature65[64]) != 1) {
    return unexpected(IdentityError::InvalidSignature);
  }
  // Refuse high-S, as verify() does, so a signature has exactly one accepted form.
  secp256k1_ecdsa_signature plain;
  if (secp256k1_ecdsa_recoverable_signature_convert(secpContext(), &plain, &sig) != 1 ||
      secp256k1_ecdsa_signature_normalize(secpContext(), nullptr, &plain) != 0) {
    return unexpected(IdentityError::InvalidSignature);
  }
  secp256k1_pubkey key;
  if (secp256k1_ecdsa_recover(secpContext(), &key, &sig, digest.data()) != 1) {
    return unexpected(IdentityError::RecoveryFailed);
  }
  return PublicKey(key);
}

std::array<uint8_t, 33> PublicKey::compressed() const {
  std::array<uint8_t, 33> out{};
  size_t len = out.size();
  // Cannot fail for a parsed key and a buffer of the right size; the return is still checked.
  const int rc = secp256k1_ec_pubkey_serialize(secpContext(), out.data(), &len, &key_, SECP256K1_EC_COMPRESSED);
  assert(rc == 1 && len == out.size());
  (void)rc;
  return out;
}

std::array<uint8_t, 65> PublicKey::uncompressed() const {
  std::array<uint8_t, 65> out{};
  size_t len = out.size();
  const int rc =
      secp256k1_ec_pubkey_serialize(secpContext(), out.data(), &len, &key_, SECP256K1_EC_UNCOMPRESSED);
  assert(rc == 1 && len == out.size());
  (void)rc;
  return out;
}

NodeId PublicKey::nodeId() const {
  const auto full = uncompressed();
  NodeId id;
  id.bytes = keccak256(ByteSpan(full).subspan(1));
  return id;
}

Result<bool, IdentityError> PublicKey::check(const Hash256& digest, ByteSpan signature64) const {
  if (signature64.size() != 64) return unexpected(IdentityError::InvalidSignature);
  secp256k1_ecdsa_signature sig;
  if (secp256k1_ecdsa_signature_parse_compact(secpContext(), &sig, signature64.data()) != 1) {
    return unexpected(IdentityError::InvalidSignature);
  }
  // secp256k1_ecdsa_verify refuses high-S itself; report it as malformed rather than as wrong.
  if (secp256k1_ecdsa_signature_normalize(secpContext(), nullptr, &sig) != 0) {
    return unexpected(IdentityError::InvalidSignature);
  }
  return secp256k1_ecdsa_verify(secpContext(), &sig, digest.data(), &key_) == 1;
}

bool PublicKey::verify(const Hash256& digest, ByteSpan signature64) const {
  const auto r = check(digest, signature64);
  return r.ok() && r.value();
}

}  // namespace rdv::identity
